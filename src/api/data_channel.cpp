#include "rtcpp/data_channel.hpp"

#include "api/peer_connection_impl.hpp"
#include "base/utf8.hpp"

namespace rtcpp {

RTCDataChannel::RTCDataChannel(std::weak_ptr<detail::PeerConnectionImpl> pc, std::string label,
                               RTCDataChannelInit init)
    : pc_(std::move(pc)), label_(std::move(label)), init_(std::move(init)) {
  if (init_.negotiated) id_ = init_.id;
}

// Reads or changes loop-thread state: on the connection's loop while it exists, directly
// once it is gone (nothing else touches the channel then).
template <typename F>
static auto on_loop(const std::weak_ptr<detail::PeerConnectionImpl>& weak, F&& fn) {
  if (auto pc = weak.lock()) return pc->sync(std::forward<F>(fn));
  return fn();
}

std::optional<std::uint16_t> RTCDataChannel::id() const {
  return on_loop(pc_, [&] { return id_; });
}
RTCDataChannelState RTCDataChannel::ready_state() const {
  return on_loop(pc_, [&] { return state_; });
}
std::size_t RTCDataChannel::buffered_amount() const {
  auto pc = pc_.lock();
  if (!pc) return 0;
  return pc->sync([&] { return pc->channel_buffered_amount(*this); });
}
std::size_t RTCDataChannel::buffered_amount_low_threshold() const {
  return on_loop(pc_, [&] { return low_threshold_; });
}
void RTCDataChannel::set_buffered_amount_low_threshold(std::size_t threshold) {
  on_loop(pc_, [&] { low_threshold_ = threshold; });
}
std::string RTCDataChannel::binary_type() const {
  return on_loop(pc_, [&] { return std::string(binary_type_blob_ ? "blob" : "arraybuffer"); });
}
void RTCDataChannel::set_binary_type(std::string_view type) {
  on_loop(pc_, [&] {
    if (type == "blob") binary_type_blob_ = true;
    if (type == "arraybuffer") binary_type_blob_ = false;
  });
}

Result<> RTCDataChannel::send(std::string_view text) {
  // Checked here, off the loop thread; the error comes in W3C 6.2.5's order, after the state.
  const bool utf8 = is_valid_utf8(text);
  auto pc = pc_.lock();
  if (!pc) return invalid_state_error("the data channel is closed");
  const std::span<const std::uint8_t> data(reinterpret_cast<const std::uint8_t*>(text.data()),
                                           text.size());
  return pc->sync([&] { return pc->channel_send(*this, data, false, utf8); });
}
Result<> RTCDataChannel::send(std::span<const std::uint8_t> data) {
  return send_bytes(data, true);
}
Result<> RTCDataChannel::send_bytes(std::span<const std::uint8_t> data, bool binary) {
  auto pc = pc_.lock();
  if (!pc) return invalid_state_error("the data channel is closed");
  return pc->sync([&] { return pc->channel_send(*this, data, binary); });
}

void RTCDataChannel::drop_handlers() {
  on_open_ = nullptr;
  on_message_ = nullptr;
  on_buffered_amount_low_ = nullptr;
  on_error_ = nullptr;
  on_closing_ = nullptr;
  on_close_ = nullptr;
}

void RTCDataChannel::close() {
  auto pc = pc_.lock();
  if (!pc) return;
  pc->sync([&] { pc->channel_close(*this); });
}

// Handlers are kept only while the channel can still fire events.
#define RTCPP_SET_CHANNEL_HANDLER(method, member, type)                        \
  void RTCDataChannel::method(type handler) {                                  \
    on_loop(pc_, [&] {                                                         \
      if (state_ != RTCDataChannelState::kClosed) member = std::move(handler); \
    });                                                                        \
  }
RTCPP_SET_CHANNEL_HANDLER(on_message, on_message_, std::function<void(const RTCMessageEvent&)>)
RTCPP_SET_CHANNEL_HANDLER(on_buffered_amount_low, on_buffered_amount_low_, std::function<void()>)
RTCPP_SET_CHANNEL_HANDLER(on_error, on_error_, std::function<void(const RTCError&)>)
RTCPP_SET_CHANNEL_HANDLER(on_closing, on_closing_, std::function<void()>)
RTCPP_SET_CHANNEL_HANDLER(on_close, on_close_, std::function<void()>)
#undef RTCPP_SET_CHANNEL_HANDLER

void RTCDataChannel::on_open(std::function<void()> handler) {
  auto pc = pc_.lock();
  if (!pc) return;  // closed with its connection: it can no longer open
  pc->sync([&] {
    if (state_ == RTCDataChannelState::kClosed) return;
    on_open_ = std::move(handler);
    pc->deliver_held_open(*this);
  });
}

}  // namespace rtcpp
