// The data channels of one SCTP association (RFC 8831, DCEP per RFC 8832): stream ids by DTLS
// role, the OPEN/ACK exchange, the PPIDs of messages, partial reliability per channel, and the
// closing procedure by stream reset. Sans-IO over an sctp::SctpAssociation it does not own:
// the owner feeds it the association's events and polls the channel events it makes.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "datachannel/dcep.hpp"
#include "sctp/association.hpp"

namespace rtcpp::datachannel {

// RFC 8831 6.6 payload protocol identifiers.
inline constexpr std::uint32_t kPpidString = 51;
inline constexpr std::uint32_t kPpidBinary = 53;
inline constexpr std::uint32_t kPpidStringEmpty = 56;
inline constexpr std::uint32_t kPpidBinaryEmpty = 57;
// Deprecated partial PPIDs (RFC 8831 6.6), accepted on receipt as whole messages.
inline constexpr std::uint32_t kPpidStringPartial = 54;
inline constexpr std::uint32_t kPpidBinaryPartial = 52;

// W3C RTCDataChannelInit, as far as the protocol needs it.
struct ChannelOptions {
  std::string label;
  std::string protocol;
  bool ordered = true;
  std::optional<std::uint16_t> max_retransmits;
  std::optional<std::uint16_t> max_packet_life_time_ms;
  std::optional<std::uint16_t> negotiated_id;  // pre-negotiated: no DCEP
};

struct ChannelInfo {
  std::uint16_t id = 0;
  std::string label;
  std::string protocol;
  bool ordered = true;
  std::optional<std::uint16_t> max_retransmits;
  std::optional<std::uint16_t> max_packet_life_time_ms;
  bool negotiated = false;
  bool remote = false;  // opened by the peer
};

struct ChannelOpenEvent {
  ChannelInfo channel;
};
struct ChannelMessageEvent {
  std::uint16_t id = 0;
  bool binary = true;
  Buffer data;
};
// The channel is closed: both directions of its stream were reset (RFC 8831 6.7), it was
// closed locally when the association cannot reset streams, or the peer restarted the
// association (RFC 9260 5.2.4). Its id is free again.
struct ChannelClosedEvent {
  std::uint16_t id = 0;
};
using ChannelEvent = std::variant<ChannelOpenEvent, ChannelMessageEvent, ChannelClosedEvent>;

class DataChannels {
 public:
  // `streams`: the association's configured stream count (ids stay below it).
  DataChannels(sctp::SctpAssociation& sctp, std::uint16_t streams)
      : sctp_(sctp), streams_(streams) {}

  // RFC 8832 6: the DTLS client uses even stream ids, the server odd ones. Until it is known,
  // only negotiated channels can be opened (InvalidStateError).
  void set_dtls_client(bool client) { dtls_client_ = client; }

  Result<std::uint16_t> open(const ChannelOptions& options);
  // Partial reliability (maxRetransmits / maxPacketLifeTime) applies to every message sent on
  // the channel, when the peer negotiated it (RFC 3758); otherwise the messages are reliable.
  Result<> send(std::uint16_t id, BytesView data, bool binary);
  // The closing procedure (RFC 8831 6.7): the outgoing stream is reset once the data queued
  // before is sent; the channel is closed (ChannelClosedEvent) when the peer has reset its
  // direction too. send() fails from the call on. Closing an unknown channel is an error.
  Result<> close(std::uint16_t id);
  std::size_t buffered_amount(std::uint16_t id) const { return sctp_.buffered_amount(id); }
  std::size_t unsent_amount(std::uint16_t id) const { return sctp_.unsent_amount(id); }

  // The association's events.
  void on_connected();
  void on_message(sctp::SctpMessage message);
  void on_streams_reset(const sctp::SctpStreamsReset& reset);
  void on_reset_failed(const std::vector<std::uint16_t>& streams);
  // The peer restarted the association (RFC 9260 5.2.4): it knows none of our channels any
  // more and every stream starts over, so each channel closes.
  void on_restarted();
  void on_closed() { connected_ = false; }

  // A peer's reset of its direction is answered with ours only once the events that arrived
  // before it have been polled (so that the application can still reply to the last
  // messages): the owner calls this when its own event queue is empty.
  bool answer_deferred_closes();
  bool has_deferred_closes() const noexcept { return !deferred_closes_.empty(); }

  std::optional<ChannelEvent> poll_event();

 private:
  struct Channel {
    ChannelInfo info;
    DataChannelOpen open;
    bool open_sent = false;
    bool closing = false;         // our direction is being (or has been) reset
    bool outgoing_reset = false;  // our reset succeeded
    bool incoming_reset = false;  // the peer reset its direction
  };
  Result<std::uint16_t> allocate_id() const;
  void send_open(std::uint16_t id);
  void on_dcep(const sctp::SctpMessage& message);
  void start_close(std::uint16_t id);
  void finish_close(std::uint16_t id);

  sctp::SctpAssociation& sctp_;
  std::uint16_t streams_;
  std::optional<bool> dtls_client_;
  bool connected_ = false;
  std::map<std::uint16_t, Channel> channels_;
  std::vector<std::uint16_t> deferred_closes_;
  std::deque<ChannelEvent> events_;
};

}  // namespace rtcpp::datachannel
