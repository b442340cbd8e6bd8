#include "runtime/event_loop.hpp"

#include <boost/asio/executor_work_guard.hpp>

#include "base/log.hpp"

namespace rtcpp::runtime {

EventLoop& EventLoop::shared() {
  // Never destroyed: connections may be released during static destruction, and the thread
  // must not be joined from itself. Reachable, so leak checkers do not report it.
  static EventLoop* loop = new EventLoop();
  return *loop;
}

EventLoop::EventLoop()
    : work_(std::make_unique<
            boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
          io_.get_executor())) {
  std::promise<void> started;
  auto ready = started.get_future();
  thread_ = std::thread([this, &started] {
    thread_id_ = std::this_thread::get_id();
    started.set_value();
    // A task that throws (user code should not reach here: fire() catches what handlers
    // throw) is logged and the loop goes on serving every other connection.
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        Logger("runtime").error("a task on the loop thread threw: ", e.what());
      } catch (...) {
        Logger("runtime").error("a task on the loop thread threw a non-exception");
      }
    }
  });
  ready.wait();
}

EventLoop::~EventLoop() {
  work_.reset();
  io_.stop();
  if (thread_.joinable()) {
    if (in_loop_thread()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
}

}  // namespace rtcpp::runtime
