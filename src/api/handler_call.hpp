// How the API calls user code: handlers (W3C event handlers) and operation callbacks.
#pragma once

#include <exception>

#include "base/log.hpp"

namespace rtcpp::detail {

inline const Logger& api_log() {
  static const Logger log("api");
  return log;
}

// Calls a handler through a copy, so that a handler replacing itself stays alive while it
// runs. An exception thrown by the handler is logged and stops there: the event loop, the
// connection and the handlers after it go on (as a throwing JavaScript event listener does).
template <typename Handler, typename... Args>
void fire(const Handler& handler, Args&&... args) {
  Handler copy = handler;
  if (!copy) return;
  try {
    copy(std::forward<Args>(args)...);
  } catch (const std::exception& e) {
    api_log().error("a handler threw an exception: ", e.what());
  } catch (...) {
    api_log().error("a handler threw something that is not a std::exception");
  }
}

}  // namespace rtcpp::detail
