// A temporary directory removed with everything in it when the test ends, and whole-file
// reads and writes, for the tests of the file formats.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "base/bytes.hpp"

namespace rtcpp::test_support {

class TempDir {
 public:
  // Made under the system's temporary directory as rtcpp-<prefix>-XXXXXX.
  explicit TempDir(std::string_view prefix) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("rtcpp-" + std::string(prefix) + "-XXXXXX"))
            .string();
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// The file's bytes; empty when it cannot be read.
inline Buffer read_file(const std::string& path) {
  Buffer out;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return out;
  std::array<std::uint8_t, 4096> chunk{};
  std::size_t n = 0;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), f)) > 0) {
    out.append(BytesView(chunk.data(), n));
  }
  std::fclose(f);
  return out;
}

// Writes `bytes` as the whole file (a test failure when it cannot).
inline void write_file(const std::string& path, BytesView bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!bytes.empty()) {
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  }
  std::fclose(f);
}

}  // namespace rtcpp::test_support
