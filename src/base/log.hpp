// Logging: levels, per-component tags and a replaceable sink.
//
// A Logger is a cheap value (a tag and a sink pointer) that protocol objects hold. The only
// global is the default sink that loggers use when none is given; applications replace it
// with set_default_log_sink(). Messages below the sink's level are not formatted at all.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

namespace rtcpp {

enum class LogLevel : std::uint8_t { kTrace, kDebug, kInfo, kWarning, kError, kNone };

std::string_view to_string(LogLevel level) noexcept;
// Parses "trace", "debug", "info", "warning", "error" or "none"; false if unknown.
bool parse_log_level(std::string_view text, LogLevel& out) noexcept;

// Receives formatted log records. Implementations must be thread-safe if loggers on several
// threads share them.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(LogLevel level, std::string_view component, std::string_view message) = 0;
  LogLevel level() const noexcept { return level_.load(std::memory_order_relaxed); }
  void set_level(LogLevel level) noexcept { level_.store(level, std::memory_order_relaxed); }
  bool enabled(LogLevel level) const noexcept { return level >= this->level(); }

 private:
  std::atomic<LogLevel> level_{LogLevel::kWarning};
};

// Writes "<level> [component] message" lines to stderr.
class StderrLogSink final : public LogSink {
 public:
  void write(LogLevel level, std::string_view component, std::string_view message) override;
};

// The sink used by loggers created without one. Starts as a StderrLogSink at kWarning, or
// the level named by the RTCPP_LOG environment variable.
std::shared_ptr<LogSink> default_log_sink();
// Replaces the default sink (nullptr restores stderr). Loggers created earlier keep theirs.
void set_default_log_sink(std::shared_ptr<LogSink> sink);

class Logger {
 public:
  explicit Logger(std::string component, std::shared_ptr<LogSink> sink = default_log_sink())
      : component_(std::move(component)), sink_(std::move(sink)) {}

  const std::string& component() const noexcept { return component_; }
  bool enabled(LogLevel level) const noexcept { return sink_ && sink_->enabled(level); }
  void log(LogLevel level, std::string_view message) const {
    if (enabled(level)) sink_->write(level, component_, message);
  }
  // Formats the arguments with operator<< only when the level is enabled.
  template <typename... Args>
  void logf(LogLevel level, const Args&... args) const {
    if (!enabled(level)) return;
    std::ostringstream out;
    (out << ... << args);
    sink_->write(level, component_, out.str());
  }
  template <typename... Args>
  void trace(const Args&... a) const {
    logf(LogLevel::kTrace, a...);
  }
  template <typename... Args>
  void debug(const Args&... a) const {
    logf(LogLevel::kDebug, a...);
  }
  template <typename... Args>
  void info(const Args&... a) const {
    logf(LogLevel::kInfo, a...);
  }
  template <typename... Args>
  void warning(const Args&... a) const {
    logf(LogLevel::kWarning, a...);
  }
  template <typename... Args>
  void error(const Args&... a) const {
    logf(LogLevel::kError, a...);
  }

 private:
  std::string component_;
  std::shared_ptr<LogSink> sink_;
};

}  // namespace rtcpp
