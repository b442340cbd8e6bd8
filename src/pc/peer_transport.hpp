// The transport stack of one peer connection with BUNDLE and rtcp-mux: ICE, DTLS over the
// selected pair, SCTP over DTLS (RFC 8261) and data channels over SCTP (RFC 8831, DCEP per
// RFC 8832), and SRTP/SRTCP keyed by DTLS-SRTP (RFC 5764) for media, sans-IO. Datagrams from the
// sockets go in; datagrams to send, events and the next deadline come out. The PeerConnection
// (JSEP) layer drives it from descriptions.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/net.hpp"
#include "base/random.hpp"
#include "base/ring_queue.hpp"
#include "base/time.hpp"
#include "datachannel/data_channels.hpp"
#include "dtls/dtls_transport.hpp"
#include "ice/agent.hpp"
#include "rtp/srtp.hpp"
#include "sctp/association.hpp"

namespace rtcpp::pc {

using datachannel::ChannelClosedEvent;
using datachannel::ChannelInfo;
using datachannel::ChannelMessageEvent;
using datachannel::ChannelOpenEvent;
using datachannel::ChannelOptions;

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

struct DtlsStateEvent {
  dtls::DtlsState state;
  std::optional<RTCError> error;
};
struct SctpStateEvent {
  bool connected = false;
  std::optional<RTCError> error;
};
// An RTP packet or an RTCP compound from the peer, authenticated and decrypted.
struct RtpReceivedEvent {
  Buffer packet;
  Timestamp arrival;  // Datagram::received, or when it was handled
};
struct RtcpReceivedEvent {
  Buffer packet;
};
using PeerTransportEvent =
    std::variant<ice::IceEvent, DtlsStateEvent, SctpStateEvent, ChannelOpenEvent,
                 ChannelMessageEvent, ChannelClosedEvent, RtpReceivedEvent, RtcpReceivedEvent>;

// Counters of the SRTP layer, for stats and tests.
struct SrtpCounters {
  std::uint64_t rtp_received = 0;
  std::uint64_t rtcp_received = 0;
  std::uint64_t rtp_sent = 0;
  std::uint64_t rtcp_sent = 0;
  // Packets dropped on the way in: before keys existed, failed authentication, replayed...
  std::uint64_t dropped = 0;
};

// What went over the ICE transport above ICE: DTLS records and SRTP packets, without the
// connectivity checks, consent or TURN control traffic (webrtc-stats transport and
// candidate-pair bytesSent: "not including headers, padding or ICE connectivity checks").
struct PayloadCounters {
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
};

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

  // Data channels (datachannel::DataChannels: ids by DTLS role, DCEP, partial reliability,
  // closing by stream reset).
  Result<std::uint16_t> open_channel(const ChannelOptions& options);
  Result<> send(std::uint16_t id, BytesView data, bool binary);
  Result<> close_channel(std::uint16_t id);
  std::size_t buffered_amount(std::uint16_t id) const;
  std::size_t unsent_amount(std::uint16_t id) const { return channels_.unsent_amount(id); }
  bool sctp_connected() const noexcept { return sctp_connected_; }

  // Media (RFC 5764): SRTP keys exist once DTLS connected with an SRTP profile negotiated.
  bool srtp_ready() const noexcept { return srtp_.has_value(); }
  // Protects an RTP packet (or an RTCP compound) and queues it on the selected pair.
  // InvalidStateError before SRTP is ready; OperationError when protection fails.
  // Gives back the buffer of an Rtp/RtcpReceivedEvent once it has been read, so that the next
  // packet's plaintext reuses it (a steady stream then allocates nothing to receive).
  void recycle(Buffer&& buffer);
  Result<> send_rtp(BytesView packet);
  Result<> send_rtcp(BytesView compound);
  const SrtpCounters& srtp_counters() const noexcept { return srtp_counters_; }
  const PayloadCounters& payload_counters() const noexcept { return payload_counters_; }

  dtls::DtlsTransport& dtls() noexcept { return *dtls_; }
  const dtls::DtlsTransport& dtls() const noexcept { return *dtls_; }
  sctp::SctpAssociation& sctp() noexcept { return sctp_; }
  const sctp::SctpAssociation& sctp() const noexcept { return sctp_; }

 private:
  PeerTransport(PeerTransportConfig config, ice::IceRole role, Random& rng,
                std::unique_ptr<dtls::DtlsTransport> dtls);
  void pump(Timestamp now);
  void drain_channel_events();
  void start_srtp();
  void handle_srtp(BytesView packet, Timestamp arrival);
  // A buffer for a received packet's plaintext: a recycled one when there is one.
  Buffer take_buffer();
  Result<> send_protected(BytesView packet, bool rtcp);

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

  std::optional<rtp::SrtpSessions> srtp_;
  SrtpCounters srtp_counters_;
  PayloadCounters payload_counters_;
  void count_received(std::size_t bytes) {
    ++payload_counters_.packets_received;
    payload_counters_.bytes_received += bytes;
  }
  void count_sent(std::size_t bytes) {
    ++payload_counters_.packets_sent;
    payload_counters_.bytes_sent += bytes;
  }

  datachannel::DataChannels channels_;
  RingQueue<Datagram> outgoing_;
  std::vector<Buffer> spare_buffers_;  // given back with recycle()
  RingQueue<PeerTransportEvent> events_;
};

}  // namespace rtcpp::pc
