#include "base/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace rtcpp {

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
    case LogLevel::kNone:
      return "none";
  }
  return "?";
}

bool parse_log_level(std::string_view text, LogLevel& out) noexcept {
  for (auto level : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning,
                     LogLevel::kError, LogLevel::kNone}) {
    if (text == to_string(level)) {
      out = level;
      return true;
    }
  }
  return false;
}

void StderrLogSink::write(LogLevel level, std::string_view component, std::string_view message) {
  // One fprintf per record so that lines from several threads do not interleave.
  std::fprintf(stderr, "%-7.*s [%.*s] %.*s\n", static_cast<int>(to_string(level).size()),
               to_string(level).data(), static_cast<int>(component.size()), component.data(),
               static_cast<int>(message.size()), message.data());
}

namespace {

std::shared_ptr<LogSink> make_stderr_sink() {
  auto sink = std::make_shared<StderrLogSink>();
  LogLevel level = LogLevel::kWarning;
  if (const char* env = std::getenv("RTCPP_LOG"); env != nullptr) parse_log_level(env, level);
  sink->set_level(level);
  return sink;
}

std::mutex& sink_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::shared_ptr<LogSink>& sink_slot() {
  static std::shared_ptr<LogSink> sink = make_stderr_sink();
  return sink;
}

}  // namespace

std::shared_ptr<LogSink> default_log_sink() {
  std::lock_guard lock(sink_mutex());
  return sink_slot();
}

void set_default_log_sink(std::shared_ptr<LogSink> sink) {
  std::lock_guard lock(sink_mutex());
  sink_slot() = sink ? std::move(sink) : make_stderr_sink();
}

}  // namespace rtcpp
