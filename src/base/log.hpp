// Loggers: a component tag and a sink (the public side is rtcpp/log.hpp).
//
// A Logger is a cheap value that protocol objects hold. One made without a sink follows the
// default sink, whichever it is when a record is written; messages below the sink's level
// are not formatted at all.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

#include "rtcpp/log.hpp"

namespace rtcpp {

// The default sink without touching its reference count: what loggers that follow the
// default write to. A replaced sink is kept alive until exit, so the pointer stays valid.
LogSink& current_default_log_sink() noexcept;

class Logger {
 public:
  // Logs to `sink`, or to the default sink of the moment when it is null.
  explicit Logger(std::string component, std::shared_ptr<LogSink> sink = nullptr)
      : component_(std::move(component)), sink_(std::move(sink)) {}

  const std::string& component() const noexcept { return component_; }
  bool enabled(LogLevel level) const noexcept { return sink().enabled(level); }
  void log(LogLevel level, std::string_view message) const {
    LogSink& s = sink();
    if (s.enabled(level)) s.write(level, component_, message);
  }
  // Formats the arguments with operator<< only when the level is enabled.
  template <typename... Args>
  void logf(LogLevel level, const Args&... args) const {
    LogSink& s = sink();
    if (!s.enabled(level)) return;
    std::ostringstream out;
    (out << ... << args);
    s.write(level, component_, out.str());
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
  LogSink& sink() const noexcept { return sink_ ? *sink_ : current_default_log_sink(); }

  std::string component_;
  std::shared_ptr<LogSink> sink_;
};

}  // namespace rtcpp
