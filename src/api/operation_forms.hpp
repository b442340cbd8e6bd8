// The two forms of a W3C operation (the future and the callback), run through the
// connection's operations chain.
#pragma once

#include <functional>
#include <future>
#include <memory>

#include "api/handler_call.hpp"
#include "api/peer_connection_impl.hpp"

namespace rtcpp::detail {

// Both forms of an operation go through the connection's operations chain (W3C 4.4.1.2), so
// operations run in the order they were called, whatever the form and the calling thread.

// The future form: the future holds the result once the operation ran (at once when called
// on the loop thread, so a handler may wait on it).
template <typename T, typename Op>
std::future<T> run_future(const std::shared_ptr<PeerConnectionImpl>& impl, Op op) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  impl->chain_operation(
      [impl, promise, op = std::move(op)](bool) { promise->set_value(op(*impl)); });
  return future;
}

// The callback form: done receives the result in a task of its own, after the events the
// operation queued (a promise settles after the events of its operation). W3C 4.4.1.2 chain
// an operation: one called on a closed connection is rejected with InvalidStateError (done is
// called); one chained before close() never settles, whether close() came before it ran or
// before its result was delivered (done is not called).
template <typename T, typename Op>
void run_callback(const std::shared_ptr<PeerConnectionImpl>& impl, Op op,
                  std::function<void(T)> done) {
  impl->chain_operation(
      [impl, op = std::move(op), done = std::move(done)](bool chained_after_close) {
        if (impl->closed_ && !chained_after_close) return;
        auto result = std::make_shared<T>(op(*impl));
        if (!done) return;
        impl->loop().post([impl, chained_after_close, result, done] {
          if (impl->closed_ && !chained_after_close) return;
          fire(done, std::move(*result));
        });
      });
}

}  // namespace rtcpp::detail
