// The loop thread the public API runs on: one Boost.Asio io_context served by one thread,
// shared by every connection of the process and started on first use. Protocol cores and
// their sockets live on it; the public objects reach them through run_sync and post.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <type_traits>

namespace rtcpp::runtime {

class EventLoop {
 public:
  // The process-wide loop. It lives until the process exits.
  static EventLoop& shared();

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  boost::asio::io_context& io() noexcept { return io_; }
  bool in_loop_thread() const noexcept { return std::this_thread::get_id() == thread_id_; }

  // Queues fn to run on the loop thread, after everything queued before it.
  void post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }

  // Runs fn on the loop thread and returns its result: inline when called from the loop
  // thread (so handlers can call blocking methods), else posted and waited for.
  template <typename F>
  auto run_sync(F&& fn) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    if (in_loop_thread()) return fn();
    // Shared: the waiting thread may wake before the task object is done being called.
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(fn));
    auto result = task->get_future();
    boost::asio::post(io_, [task] { (*task)(); });
    return result.get();
  }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::thread::id thread_id_;
};

}  // namespace rtcpp::runtime
