#include "rtcpp/data_channel.hpp"

#include "api/data_channel_state.hpp"
#include "api/peer_connection_impl.hpp"
#include "base/utf8.hpp"

namespace rtcpp {

RTCDataChannel::RTCDataChannel(std::weak_ptr<detail::PeerConnectionImpl> pc, std::string label,
                               RTCDataChannelInit init)
    : d_(std::make_unique<detail::DataChannelState>()) {
  d_->pc = std::move(pc);
  d_->label = std::move(label);
  d_->init = std::move(init);
  if (d_->init.negotiated) d_->id = d_->init.id;
}

RTCDataChannel::~RTCDataChannel() = default;

const std::string& RTCDataChannel::label() const noexcept {
  return d_->label;
}
bool RTCDataChannel::ordered() const noexcept {
  return d_->init.ordered;
}
std::optional<std::uint16_t> RTCDataChannel::max_packet_life_time() const noexcept {
  return d_->init.max_packet_life_time;
}
std::optional<std::uint16_t> RTCDataChannel::max_retransmits() const noexcept {
  return d_->init.max_retransmits;
}
const std::string& RTCDataChannel::protocol() const noexcept {
  return d_->init.protocol;
}
bool RTCDataChannel::negotiated() const noexcept {
  return d_->init.negotiated;
}

// Reads or changes loop-thread state: on the connection's loop while it exists, directly
// once it is gone (nothing else touches the channel then).
template <typename F>
static auto on_loop(const std::weak_ptr<detail::PeerConnectionImpl>& weak, F&& fn) {
  if (auto pc = weak.lock()) return pc->sync(std::forward<F>(fn));
  return fn();
}

std::optional<std::uint16_t> RTCDataChannel::id() const {
  return on_loop(d_->pc, [&] { return d_->id; });
}
RTCDataChannelState RTCDataChannel::ready_state() const {
  return on_loop(d_->pc, [&] { return d_->state; });
}
std::size_t RTCDataChannel::buffered_amount() const {
  return on_loop(d_->pc, [&] { return d_->buffered_amount; });
}
std::size_t RTCDataChannel::buffered_amount_low_threshold() const {
  return on_loop(d_->pc, [&] { return d_->low_threshold; });
}
void RTCDataChannel::set_buffered_amount_low_threshold(std::size_t threshold) {
  auto pc = d_->pc.lock();
  if (!pc) {
    d_->low_threshold = threshold;
    return;
  }
  pc->sync([&] { pc->set_channel_low_threshold(*this, threshold); });
}
std::string RTCDataChannel::binary_type() const {
  return on_loop(d_->pc,
                 [&] { return std::string(d_->binary_type_blob ? "blob" : "arraybuffer"); });
}
void RTCDataChannel::set_binary_type(std::string_view type) {
  on_loop(d_->pc, [&] {
    if (type == "blob") d_->binary_type_blob = true;
    if (type == "arraybuffer") d_->binary_type_blob = false;
  });
}

Result<> RTCDataChannel::send(std::string_view text) {
  // Checked here, off the loop thread; the error comes in W3C 6.2.5's order, after the state.
  const bool utf8 = is_valid_utf8(text);
  auto pc = d_->pc.lock();
  if (!pc) return invalid_state_error("the data channel is closed");
  const std::span<const std::uint8_t> data(reinterpret_cast<const std::uint8_t*>(text.data()),
                                           text.size());
  return pc->sync([&] { return pc->channel_send(*this, data, false, utf8); });
}
Result<> RTCDataChannel::send(std::span<const std::uint8_t> data) {
  return send_bytes(data, true);
}
Result<> RTCDataChannel::send_bytes(std::span<const std::uint8_t> data, bool binary) {
  auto pc = d_->pc.lock();
  if (!pc) return invalid_state_error("the data channel is closed");
  return pc->sync([&] { return pc->channel_send(*this, data, binary); });
}

void RTCDataChannel::drop_handlers() {
  d_->on_open = nullptr;
  d_->on_message = nullptr;
  d_->on_buffered_amount_low = nullptr;
  d_->on_error = nullptr;
  d_->on_closing = nullptr;
  d_->on_close = nullptr;
}

void RTCDataChannel::close() {
  auto pc = d_->pc.lock();
  if (!pc) return;
  pc->sync([&] { pc->channel_close(*this); });
}

// Handlers are kept only while the channel can still fire events.
#define RTCPP_SET_CHANNEL_HANDLER(method, member, type)                           \
  void RTCDataChannel::method(type handler) {                                     \
    on_loop(d_->pc, [&] {                                                         \
      if (d_->state != RTCDataChannelState::kClosed) member = std::move(handler); \
    });                                                                           \
  }
RTCPP_SET_CHANNEL_HANDLER(on_message, d_->on_message, std::function<void(const RTCMessageEvent&)>)
RTCPP_SET_CHANNEL_HANDLER(on_buffered_amount_low, d_->on_buffered_amount_low, std::function<void()>)
RTCPP_SET_CHANNEL_HANDLER(on_error, d_->on_error, std::function<void(const RTCError&)>)
RTCPP_SET_CHANNEL_HANDLER(on_closing, d_->on_closing, std::function<void()>)
RTCPP_SET_CHANNEL_HANDLER(on_close, d_->on_close, std::function<void()>)
#undef RTCPP_SET_CHANNEL_HANDLER

void RTCDataChannel::on_open(std::function<void()> handler) {
  auto pc = d_->pc.lock();
  if (!pc) return;  // closed with its connection: it can no longer open
  pc->sync([&] {
    if (d_->state == RTCDataChannelState::kClosed) return;
    d_->on_open = std::move(handler);
    pc->deliver_held_open(*this);
  });
}

}  // namespace rtcpp
