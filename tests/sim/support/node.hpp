// What the simulator drives: the sans-IO shape of every rtcpp protocol object, an abstract
// Node, and an adapter that turns any sans-IO object into a Node.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <utility>

#include "base/net.hpp"
#include "base/time.hpp"

namespace rtcpp::sim {

// handle_packet / handle_timeout in, poll_transmit / poll_event / next_timeout out.
template <typename T>
concept SansIo = requires(T& t, const Datagram& d, Timestamp now) {
  t.handle_packet(d, now);
  t.handle_timeout(now);
  { t.poll_transmit() } -> std::same_as<std::optional<Datagram>>;
  typename decltype(t.poll_event())::value_type;
  { t.poll_event().has_value() } -> std::convertible_to<bool>;
  { t.next_timeout() } -> std::same_as<std::optional<Timestamp>>;
};

class Node {
 public:
  virtual ~Node() = default;
  virtual void handle_packet(const Datagram& d, Timestamp now) = 0;
  virtual void handle_timeout(Timestamp now) = 0;
  virtual std::optional<Datagram> poll_transmit() = 0;
  virtual std::optional<Timestamp> next_timeout() = 0;
  // Hands pending application events to whoever listens; returns how many there were, so the
  // simulator knows to poll again (a listener may have called into the object).
  virtual std::size_t drain_events(Timestamp now) = 0;
};

// Wraps a sans-IO object held by reference (it must outlive the adapter) and passes every
// event it emits to `on_event` together with the virtual time.
template <SansIo T>
class SansIoNode final : public Node {
 public:
  using Event = typename decltype(std::declval<T&>().poll_event())::value_type;
  using EventCallback = std::function<void(Event&&, Timestamp)>;

  explicit SansIoNode(T& object, EventCallback on_event = {})
      : object_(object), on_event_(std::move(on_event)) {}

  void handle_packet(const Datagram& d, Timestamp now) override { object_.handle_packet(d, now); }
  void handle_timeout(Timestamp now) override { object_.handle_timeout(now); }
  std::optional<Datagram> poll_transmit() override { return object_.poll_transmit(); }
  std::optional<Timestamp> next_timeout() override { return object_.next_timeout(); }
  std::size_t drain_events(Timestamp now) override {
    std::size_t n = 0;
    while (auto e = object_.poll_event()) {
      ++n;
      if (on_event_) on_event_(std::move(*e), now);
    }
    return n;
  }

  T& object() noexcept { return object_; }

 private:
  T& object_;
  EventCallback on_event_;
};

}  // namespace rtcpp::sim
