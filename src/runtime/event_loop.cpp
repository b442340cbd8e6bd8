#include "runtime/event_loop.hpp"

#include <boost/asio/executor_work_guard.hpp>

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
    io_.run();
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
