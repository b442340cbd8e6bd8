#include "base/log.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

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

// Every sink that was ever the default: loggers may still be writing to a replaced one.
std::vector<std::shared_ptr<LogSink>>& sinks_kept() {
  static auto* sinks = new std::vector<std::shared_ptr<LogSink>>{make_stderr_sink()};
  return *sinks;
}

std::atomic<LogSink*>& current_sink() {
  static std::atomic<LogSink*> sink{sinks_kept().front().get()};
  return sink;
}

}  // namespace

LogSink& current_default_log_sink() noexcept {
  return *current_sink().load(std::memory_order_acquire);
}

std::shared_ptr<LogSink> default_log_sink() {
  std::lock_guard lock(sink_mutex());
  const LogSink* current = current_sink().load(std::memory_order_acquire);
  for (const auto& sink : sinks_kept()) {
    if (sink.get() == current) return sink;
  }
  return nullptr;
}

void set_default_log_sink(std::shared_ptr<LogSink> sink) {
  std::lock_guard lock(sink_mutex());
  if (!sink) sink = make_stderr_sink();
  auto& kept = sinks_kept();
  if (std::find(kept.begin(), kept.end(), sink) == kept.end()) kept.push_back(sink);
  current_sink().store(sink.get(), std::memory_order_release);
}

void set_log_level(LogLevel level) {
  current_default_log_sink().set_level(level);
}

}  // namespace rtcpp
