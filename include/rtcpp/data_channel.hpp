// rtcpp/data_channel.hpp: RTCDataChannel and RTCDataChannelInit (W3C WebRTC 1.0, section 6.2).
//
// A channel is made by RTCPeerConnection::create_data_channel or announced by the peer
// through the connection's datachannel event. Every method may be called from any thread;
// handlers run on the connection's loop thread, one at a time, in the order the events
// happened. Handlers are dropped when the channel closes, so a handler may capture the
// channel's shared_ptr without keeping it alive forever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rtcpp/error.hpp"

namespace rtcpp {

namespace detail {
class PeerConnectionImpl;
struct DataChannelState;
}  // namespace detail

struct RTCDataChannelInit {
  bool ordered = true;
  // At most one of the two: partial reliability (RFC 3758).
  std::optional<std::uint16_t> max_packet_life_time;  // milliseconds
  std::optional<std::uint16_t> max_retransmits;
  std::string protocol;
  // A channel both sides create with the same id, without the in-band open (DCEP).
  bool negotiated = false;
  std::optional<std::uint16_t> id;
};

enum class RTCDataChannelState { kConnecting, kOpen, kClosing, kClosed };
std::string_view to_string(RTCDataChannelState value) noexcept;

// One received message (the browser's MessageEvent): text (valid UTF-8 as the peer sent it)
// or binary.
struct RTCMessageEvent {
  bool binary = false;
  std::vector<std::uint8_t> data;
  std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(data.data()), data.size()};
  }
};

class RTCDataChannel : public std::enable_shared_from_this<RTCDataChannel> {
 public:
  // Made by the connection (create_data_channel, or a channel the peer opened).
  RTCDataChannel(std::weak_ptr<detail::PeerConnectionImpl> pc, std::string label,
                 RTCDataChannelInit init);
  ~RTCDataChannel();
  RTCDataChannel(const RTCDataChannel&) = delete;
  RTCDataChannel& operator=(const RTCDataChannel&) = delete;

  const std::string& label() const noexcept;
  bool ordered() const noexcept;
  std::optional<std::uint16_t> max_packet_life_time() const noexcept;
  std::optional<std::uint16_t> max_retransmits() const noexcept;
  const std::string& protocol() const noexcept;
  bool negotiated() const noexcept;
  // The SCTP stream id; nullopt until the DTLS role is known (W3C 6.2: id is null until then).
  std::optional<std::uint16_t> id() const;
  RTCDataChannelState ready_state() const;
  // W3C 6.2 bufferedAmount: bytes handed to send() that the transport has not sent yet. It goes
  // up in send() and down in tasks of the connection's loop (never within a handler's task),
  // and keeps its value once the channel is closed.
  std::size_t buffered_amount() const;
  std::size_t buffered_amount_low_threshold() const;
  void set_buffered_amount_low_threshold(std::size_t threshold);
  // "arraybuffer" or "blob": kept for parity with the browser; messages arrive as bytes either
  // way. Other values are ignored, as the browser ignores them.
  std::string binary_type() const;
  void set_binary_type(std::string_view type);

  // Sends a text message. InvalidStateError when the channel is not open, TypeError when
  // `text` is not well-formed UTF-8 or is larger than the transport's max_message_size,
  // OperationError when the send buffer is full.
  Result<> send(std::string_view text);
  // Sends a binary message, with the same errors (any bytes will do).
  Result<> send(std::span<const std::uint8_t> data);
  // Starts the closing procedure (W3C 6.2.4): what was sent before is delivered first.
  void close();

  // The open event reaches the first open handler even when it was set after the channel
  // opened (from another thread, just after create_data_channel on a connected connection,
  // say): an open event that found no handler is held for it. Each channel opens once.
  // Other events are not held: once the channel is open, messages and bufferedamountlow can
  // fire between two of this thread's calls, so set their handlers before on_open.
  void on_open(std::function<void()> handler);
  void on_message(std::function<void(const RTCMessageEvent&)> handler);
  void on_buffered_amount_low(std::function<void()> handler);
  void on_error(std::function<void(const RTCError&)> handler);
  void on_closing(std::function<void()> handler);
  void on_close(std::function<void()> handler);

 private:
  friend class detail::PeerConnectionImpl;
  Result<> send_bytes(std::span<const std::uint8_t> data, bool binary);
  void drop_handlers();

  std::unique_ptr<detail::DataChannelState> d_;
};

}  // namespace rtcpp
