// The private state of an RTCDataChannel, kept out of the public header so that it can change
// without changing the public ABI. Touched only on the connection's loop thread (label and
// init are fixed at creation and read from any thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "pc/connection.hpp"
#include "rtcpp/data_channel.hpp"

namespace rtcpp::detail {

class PeerConnectionImpl;

struct DataChannelState {
  std::weak_ptr<PeerConnectionImpl> pc;
  std::string label;
  RTCDataChannelInit init;
  pc::ChannelHandle handle = 0;  // the channel in the connection core
  // What the events delivered so far said (the core forgets a channel once it is closed).
  std::optional<std::uint16_t> id;
  RTCDataChannelState state = RTCDataChannelState::kConnecting;
  // W3C [[BufferedAmount]]: up by send(), down in the tasks that report bytes sent; kept when
  // the channel closes.
  std::size_t buffered_amount = 0;
  std::size_t low_threshold = 0;
  bool binary_type_blob = false;
  bool open_undelivered = false;  // the open event came before any open handler
  std::function<void()> on_open;
  std::function<void(const RTCMessageEvent&)> on_message;
  std::function<void()> on_buffered_amount_low;
  std::function<void(const RTCError&)> on_error;
  std::function<void()> on_closing;
  std::function<void()> on_close;
};

}  // namespace rtcpp::detail
