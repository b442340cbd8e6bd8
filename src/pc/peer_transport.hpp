// The transport stack of one peer connection with BUNDLE and rtcp-mux: ICE, DTLS over the
// selected pair, SCTP over DTLS (RFC 8261) and data channels over SCTP (RFC 8831, DCEP per
// RFC 8832), sans-IO. Datagrams from the sockets go in; datagrams to send, events and the
// next deadline come out. The PeerConnection (JSEP) layer drives it from descriptions.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "base/net.hpp"
#include "base/random.hpp"
#include "base/time.hpp"
#include "datachannel/dcep.hpp"
#include "dtls/dtls_transport.hpp"
#include "ice/agent.hpp"
#include "sctp/association.hpp"

namespace rtcpp::pc {

// RFC 8831 6.6 payload protocol identifiers.
inline constexpr std::uint32_t kPpidString = 51;
inline constexpr std::uint32_t kPpidBinary = 53;
inline constexpr std::uint32_t kPpidStringEmpty = 56;
inline constexpr std::uint32_t kPpidBinaryEmpty = 57;
// Deprecated partial PPIDs (RFC 8831 6.6), accepted on receipt as whole messages.
inline constexpr std::uint32_t kPpidStringPartial = 54;
inline constexpr std::uint32_t kPpidBinaryPartial = 52;

struct PeerTransportConfig {
  ice::IceConfig ice;
  // The local ICE credentials; random ones when absent. A connection that writes its offer
  // before the transport exists passes the ones it wrote.
  std::optional<ice::IceCredentials> ice_credentials;
  std::shared_ptr<const dtls::Certificate> certificate;
  std::size_t dtls_mtu = 1200;
  // Receives the DTLS secrets as NSS key log lines (see dtls::DtlsConfig::key_log).
  std::function<void(std::string_view line)> dtls_key_log;
  sctp::SctpConfig sctp;
};

// W3C RTCDataChannelInit, as far as the transport needs it.
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
struct DtlsStateEvent {
  dtls::DtlsState state;
  std::optional<RTCError> error;
};
struct SctpStateEvent {
  bool connected = false;
  std::optional<RTCError> error;
};
using PeerTransportEvent = std::variant<ice::IceEvent, DtlsStateEvent, SctpStateEvent,
                                        ChannelOpenEvent, ChannelMessageEvent, ChannelClosedEvent>;

class PeerTransport {
 public:
  static Result<std::unique_ptr<PeerTransport>> create(PeerTransportConfig config,
                                                       ice::IceRole role, Random& rng);

  ice::IceAgent& ice() noexcept { return ice_; }
  const ice::IceAgent& ice() const noexcept { return ice_; }
  const ice::IceCredentials& local_ice_credentials() const noexcept {
    return ice_.local_credentials();
  }
  std::vector<dtls::Fingerprint> local_fingerprints() const;

  // From the remote description: its ICE credentials and DTLS fingerprints, and our DTLS
  // role (RFC 8842: the answerer's a=setup decides).
  Result<> set_remote_parameters(std::string ice_ufrag, std::string ice_pwd,
                                 std::vector<dtls::Fingerprint> fingerprints, dtls::DtlsRole role,
                                 Timestamp now);

  void handle_datagram(const Datagram& datagram, Timestamp now);
  void handle_timeout(Timestamp now);
  std::optional<Datagram> poll_transmit();
  std::optional<PeerTransportEvent> poll_event();
  std::optional<Timestamp> next_timeout() const;

  // Data channels. Stream ids follow RFC 8832 6: even for the DTLS client, odd for the
  // server, so a channel needs the DTLS role (InvalidStateError before it is known, unless
  // negotiated). Partial reliability (maxRetransmits / maxPacketLifeTime) applies to every
  // message sent on the channel, when the peer negotiated it (RFC 3758); otherwise the
  // messages are reliable.
  Result<std::uint16_t> open_channel(const ChannelOptions& options);
  Result<> send(std::uint16_t id, BytesView data, bool binary);
  // The closing procedure (RFC 8831 6.7): the outgoing stream is reset once the data queued
  // before is sent; the channel is closed (ChannelClosedEvent) when the peer has reset its
  // direction too. A peer's reset of its direction is answered with ours, after the events
  // already queued have been polled (so that the application can still reply to the last
  // messages). send() fails from the call on. Closing an unknown channel is an error.
  Result<> close_channel(std::uint16_t id);
  std::size_t buffered_amount(std::uint16_t id) const;
  bool sctp_connected() const noexcept { return sctp_connected_; }

  dtls::DtlsTransport& dtls() noexcept { return *dtls_; }
  const dtls::DtlsTransport& dtls() const noexcept { return *dtls_; }
  sctp::SctpAssociation& sctp() noexcept { return sctp_; }
  const sctp::SctpAssociation& sctp() const noexcept { return sctp_; }

 private:
  PeerTransport(PeerTransportConfig config, ice::IceRole role, Random& rng,
                std::unique_ptr<dtls::DtlsTransport> dtls);
  void pump(Timestamp now);
  void on_sctp_message(sctp::SctpMessage message);
  Result<std::uint16_t> allocate_id();
  void send_open(std::uint16_t id);
  void on_streams_reset(const sctp::SctpStreamsReset& reset);
  void start_close(std::uint16_t id);
  void finish_close(std::uint16_t id);

  PeerTransportConfig config_;
  ice::IceAgent ice_;
  std::unique_ptr<dtls::DtlsTransport> dtls_;
  sctp::SctpAssociation sctp_;
  Buffer sctp_packet_;  // the SCTP packet being handed to DTLS (its capacity kept)
  std::optional<dtls::DtlsRole> dtls_role_;
  bool dtls_started_ = false;
  bool sctp_started_ = false;
  bool sctp_connected_ = false;
  std::optional<ice::IceAgent::SelectedPair> selected_;
  Timestamp now_;

  struct Channel {
    ChannelInfo info;
    datachannel::DataChannelOpen open;
    bool open_sent = false;
    bool closing = false;         // our direction is being (or has been) reset
    bool outgoing_reset = false;  // our reset succeeded
    bool incoming_reset = false;  // the peer reset its direction
  };
  std::map<std::uint16_t, Channel> channels_;
  // Channels the peer closed whose reset we start once the application has polled the
  // events that arrived before (see close_channel).
  std::vector<std::uint16_t> deferred_closes_;
  std::deque<Datagram> outgoing_;
  std::deque<PeerTransportEvent> events_;
};

}  // namespace rtcpp::pc
