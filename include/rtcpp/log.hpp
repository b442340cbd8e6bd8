// Logging: what rtcpp says when something goes wrong (or, at debug and trace, what it does).
//
// Records carry a level and a component tag ("api", "pc", "runtime", "ice", "dtls", "sctp",
// ...). They go to the default sink: stderr at level warning, or at the level named by the
// RTCPP_LOG environment variable (trace, debug, info, warning, error, none). An application
// changes the level with set_log_level() or takes the records with set_default_log_sink().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace rtcpp {

enum class LogLevel : std::uint8_t { kTrace, kDebug, kInfo, kWarning, kError, kNone };

std::string_view to_string(LogLevel level) noexcept;
// Parses "trace", "debug", "info", "warning", "error" or "none"; false if unknown.
bool parse_log_level(std::string_view text, LogLevel& out) noexcept;

// Receives formatted log records, from any thread rtcpp runs on (its loop thread, and the
// threads that call the API): implementations must be thread-safe.
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

// The sink rtcpp logs to. Starts as a StderrLogSink at kWarning, or at RTCPP_LOG's level.
std::shared_ptr<LogSink> default_log_sink();
// Replaces the default sink (nullptr restores stderr); every component logs to it from then
// on, including those of connections made earlier.
void set_default_log_sink(std::shared_ptr<LogSink> sink);
// Sets the level of the default sink (what RTCPP_LOG sets at start).
void set_log_level(LogLevel level);

}  // namespace rtcpp
