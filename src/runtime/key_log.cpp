#include "runtime/key_log.hpp"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace rtcpp::runtime {

std::function<void(std::string_view line)> key_log_file_from_environment() {
  const char* path = std::getenv("SSLKEYLOGFILE");
  if (path == nullptr || *path == '\0') return {};
  return [file = std::string(path)](std::string_view line) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    if (std::FILE* f = std::fopen(file.c_str(), "a")) {
      std::fprintf(f, "%.*s\n", static_cast<int>(line.size()), line.data());
      std::fclose(f);
    }
  };
}

}  // namespace rtcpp::runtime
