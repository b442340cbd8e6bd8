// The RTP media of a connection, sans-IO: one stream pair per negotiated audio or video
// section (a transceiver), over the one BUNDLE transport. Decrypted RTP and RTCP come in;
// encoded frames go out to the application, and the application's encoded frames go out as
// RTP packets (to be protected by SRTP and sent by the transport).
//
// Receiving: packets are routed to their section by the rules of RFC 8843 9.2 (the MID header
// extension, then the SSRC it taught or the peer's a=ssrc lines, then a payload type only one
// section receives), then turned back into whole frames (video by the codec's payload format,
// rtp/payload_formats.hpp; an audio packet is one frame). A video receiver waiting for a key
// frame asks for one with a PLI (RFC 4585 6.3.1); where NACK was negotiated for the codec, a
// video receiver asks for missing packets with generic NACKs (rtp/nack_tracker.hpp) and takes
// the peer's RFC 4588 repairs (RTX) as the packets they carry. Sending: frames are cut into packets
// by the negotiated codec's payload format, with the MID extension (RFC 9143 15) when it was
// negotiated. A PLI or FIR from the peer for a sender becomes a key-frame request to the
// application; a generic NACK (RFC 4585 6.2.1) is answered from the sender's history of its last
// packets, as RFC 4588 repairs on our RTX SSRC where the format's RTX was negotiated, else
// resent as they were. Where the transport-wide sequence number extension was negotiated,
// every packet sent carries one, and the peer's transport-cc feedback is matched with what was
// sent; where both sides also listed transport-cc feedback (rtcp-fb), the packets received are
// reported back about every 100 ms (rtp/transport_cc.hpp). About once a second (RFC 3550 6.2,
// randomized 0.5-1.5 times) each stream sends a compound report: an SR when it sends, else an RR,
// with a report block on what it receives, and its CNAME.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/bytes.hpp"
#include "base/random.hpp"
#include "base/ring_queue.hpp"
#include "base/time.hpp"
#include "pc/jsep.hpp"
#include "pc/rtp_parameters.hpp"
#include "rtcpp/error.hpp"
#include "rtp/bandwidth_estimator.hpp"
#include "rtp/nack_tracker.hpp"
#include "rtp/rtcp_packet.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/telephone_event.hpp"
#include "rtp/transport_cc.hpp"

namespace rtcpp::pc {

// One encoded frame (what the W3C encoded-transform and WebCodecs chunks carry): its RTP
// timestamp in the codec's clock, whether it is a key frame, and its bytes.
struct EncodedFrame {
  std::uint32_t rtp_timestamp = 0;
  bool key_frame = false;
  Buffer data;
  // Audio: the frame's RFC 6464 level (0 = 0 dBov to 127 = -127 dBov), sent and received in
  // the ssrc-audio-level extension where it was negotiated.
  std::optional<std::uint8_t> audio_level;
  // The RTP CSRCs: the sources a mixer combined into the frame (at most 15), and for audio
  // each one's RFC 6465 level (none, or one per CSRC in the same order).
  std::vector<std::uint32_t> contributing_sources;
  std::vector<std::uint8_t> contributing_levels;
};

// A negotiated audio or video section, as both descriptions wrote it.
struct MediaBinding {
  std::uint32_t transceiver = 0;
  std::string mid;
  MediaKind kind = MediaKind::kVideo;
  bool send = false;  // the negotiated direction lets us send
  bool receive = false;
  RtpParameters local;   // ours: our SSRCs
  RtpParameters remote;  // the peer's: its SSRCs and extension ids
};

// Counters of one transceiver's streams (webrtc-stats inbound-rtp / outbound-rtp members).
struct MediaStreamStats {
  std::uint64_t packets_received = 0;
  std::uint64_t bytes_received = 0;  // payload bytes
  std::uint64_t frames_received = 0;
  std::uint64_t key_frames_received = 0;
  std::uint64_t frames_dropped = 0;  // incomplete, or undecodable before a key frame
  std::uint64_t pli_sent = 0;
  std::uint64_t nack_sent = 0;                       // NACK messages (RFC 4585 6.2.1)
  std::uint64_t retransmitted_packets_received = 0;  // RFC 4588 repairs taken
  std::uint64_t retransmitted_bytes_received = 0;    // their original payload bytes
  std::uint64_t packets_sent = 0;
  std::uint64_t bytes_sent = 0;  // payload bytes
  std::uint64_t frames_sent = 0;
  std::uint64_t key_frames_sent = 0;
  std::uint64_t pli_received = 0;
  std::uint64_t fir_received = 0;
  std::uint64_t nack_received = 0;            // NACK messages
  std::uint64_t packets_retransmitted = 0;    // answered from the send history
  std::uint64_t retransmissions_missed = 0;   // asked for, no longer (or never) in the history
  std::uint64_t retransmissions_dropped = 0;  // asked for while the paced queue was too long
  std::optional<std::uint32_t> remote_ssrc;   // the peer's media SSRC, once seen
  std::optional<Timestamp> last_packet_received;
  std::uint64_t header_bytes_received = 0;  // RTP headers and padding, not payload
  std::uint64_t header_bytes_sent = 0;
  // The peer's last SR about the stream we receive (webrtc-stats remote-outbound-rtp).
  std::uint64_t remote_sender_reports = 0;
  std::uint32_t remote_packets_sent = 0;
  std::uint32_t remote_bytes_sent = 0;
  std::optional<std::uint64_t> remote_report_ntp;  // the SR's NTP timestamp
  // RFC 3550 reception statistics of the peer's stream (A.3, A.8).
  std::int64_t packets_lost = 0;
  double jitter_seconds = 0;
  // What the peer's reports say about our stream, and the round-trip time from them.
  std::optional<std::int32_t> remote_packets_lost;
  std::optional<double> remote_fraction_lost;  // 0-1, over the peer's last interval
  std::optional<double> remote_jitter_seconds;
  std::optional<Duration> round_trip_time;
  std::uint64_t sender_reports_sent = 0;
  std::uint64_t receiver_reports_sent = 0;
  std::uint64_t reports_received = 0;   // SR and RR
  std::uint64_t goodbyes_sent = 0;      // RTCP BYE for our SSRC
  std::uint64_t goodbyes_received = 0;  // RTCP BYE for the peer's SSRC we receive
};

// Transport-wide congestion control feedback, both ways (rtp/transport_cc.hpp).
struct TransportFeedbackStats {
  std::uint64_t feedback_sent = 0;      // messages reporting what we received
  std::uint64_t packets_reported = 0;   // packets we received and reported
  std::uint64_t feedback_received = 0;  // the peer's messages about what we sent
  std::uint64_t packets_reported_received = 0;
  std::uint64_t packets_reported_lost = 0;  // reported lost, and not received since
};

// W3C webrtc-pc 5.4.4 RTCRtpContributingSource / RTCRtpSynchronizationSource: a source of
// the media a receiver got in the last 10 s (its SSRC, or a CSRC of its packets).
struct MediaSource {
  std::uint32_t source = 0;
  Timestamp last_received;  // when its last packet arrived
  std::uint32_t rtp_timestamp = 0;
  // RFC 6464 / 6465 level of that packet (0-127 -dBov), when the peer sent one.
  std::optional<std::uint8_t> audio_level;
};

struct MediaFrameReceived {
  std::uint32_t transceiver = 0;
  EncodedFrame frame;
};
// The peer asked the sender of this transceiver for a key frame (PLI or FIR).
struct KeyFrameRequested {
  std::uint32_t transceiver = 0;
};
// W3C webrtc-pc 7.2: the DTMF sender of this transceiver started a tone ("," for a pause), or
// "" when its tone buffer ran out.
struct DtmfToneChanged {
  std::uint32_t transceiver = 0;
  std::string tone;
};
// A telephone event (RFC 4733) from the peer started or ended on this transceiver.
struct DtmfToneReceived {
  std::uint32_t transceiver = 0;
  rtp::ToneEvent event;
  std::uint32_t clock_rate = 8000;  // of the event's timestamps and duration
};
using MediaEvent =
    std::variant<MediaFrameReceived, KeyFrameRequested, DtmfToneChanged, DtmfToneReceived>;

// A packet for the transport to protect and send.
struct MediaPacket {
  Buffer bytes;
  bool rtcp = false;
  // Where the packet's transport-wide sequence number goes, written as it leaves (0: none).
  std::uint16_t transport_sequence_at = 0;
};

class MediaSession {
 public:
  // The largest RTP packet this session writes (before SRTP adds its tag), in bytes.
  static constexpr std::size_t kMaxRtpPacketSize = 1200;
  // The largest payload: room for the fixed header and the extensions of a video packet (a MID
  // of up to 8 characters and the transport-wide sequence number).
  static constexpr std::size_t kMaxPayloadSize = kMaxRtpPacketSize - 12 - 16;
  // Video payloads leave room for the original sequence number an RFC 4588 repair puts before
  // them, so that a repair is no larger than kMaxRtpPacketSize either.
  static constexpr std::size_t kMaxVideoPayloadSize = kMaxPayloadSize - 2;
  // RFC 4585 3.5: feedback is not repeated faster than this while a key frame is awaited.
  static constexpr Duration kPliInterval = Duration::millis(300);
  // Where NACK is negotiated, frames complete behind a missing packet wait for its
  // retransmission in media time, whatever the frame rate: two round trips and 130 ms (room
  // for a request or its answer to be lost once), 250 ms while no round trip is known (a
  // receive-only stream), within 150 ms - 1 s; and never more than kMaxFramesBehindGapWithNack
  // frames. (In the simulator at 10 % loss and 30 fps, 250 ms delivers 6.6 % more frames than
  // the 6 frames the wait used to be.)
  static constexpr std::size_t kMaxFramesBehindGapWithNack = 60;
  static constexpr Duration kGapWaitWithoutRtt = Duration::millis(250);
  static constexpr Duration kMinGapWait = Duration::millis(150);
  static constexpr Duration kMaxGapWait = Duration::seconds(1);
  // Packets each sender keeps for NACKs: about a second of 2.5 Mbit/s video.
  static constexpr std::size_t kSendHistoryPackets = 256;

  // RFC 3550 6.2: reports go out about this often (randomized 0.5-1.5 times).
  static constexpr Duration kReportInterval = Duration::seconds(1);

  explicit MediaSession(Random& rng);
  ~MediaSession();
  MediaSession(const MediaSession&) = delete;
  MediaSession& operator=(const MediaSession&) = delete;

  // After each completed negotiation: the accepted audio and video sections. A transceiver
  // already bound keeps its streams' state (sequence numbers, the frame being assembled); one
  // no longer bound sends an RTCP BYE.
  void configure(std::vector<MediaBinding> bindings);
  // Our CNAME (RFC 7022) for the SDES of every report, and the NTP time of Timestamp zero
  // (the SRs' wall clock; the runtime passes the real one, the simulator any constant).
  void set_report_identity(std::string cname, Duration ntp_offset);

  // `arrival`: when the packet reached the host, if known (kernel receive time); transport-cc
  // feedback reports it, so that time spent waiting to be read is not taken for network delay.
  void handle_rtp(BytesView bytes, Timestamp now, std::optional<Timestamp> arrival = std::nullopt);
  void handle_rtcp(BytesView bytes, Timestamp now);

  // Sends one encoded frame on a transceiver's sender. InvalidStateError when the transceiver
  // has no negotiated sending direction; OperationError for a frame its codec cannot carry.
  Result<> send_frame(std::uint32_t transceiver, const EncodedFrame& frame, Timestamp now);
  // Asks the peer's sender on this transceiver for a key frame (PLI).
  Result<> request_key_frame(std::uint32_t transceiver, Timestamp now);

  // DTMF (W3C webrtc-pc 7, RFC 4733): whether the transceiver sends audio with a
  // telephone-event format of the audio codec's clock rate both sides listed.
  bool can_insert_dtmf(std::uint32_t transceiver) const;
  // Replaces the tone buffer (rtp::DtmfSender::insert_dtmf); the events go out on the
  // audio stream (its SSRC, sequence numbers and clock). InvalidStateError where
  // can_insert_dtmf is false, InvalidCharacterError for a character outside 0-9 A-D # * ,.
  Result<> insert_dtmf(std::uint32_t transceiver, std::string_view tones, std::int64_t duration_ms,
                       std::int64_t inter_tone_gap_ms, Timestamp now);
  std::string dtmf_tone_buffer(std::uint32_t transceiver) const;

  // RFC 3550 6.6: every stream that sent or received says BYE for its SSRC, after a last
  // report; the session carries nothing more. For the connection's close.
  void close(Timestamp now);

  // The periodic reports (once the transport carries media: the caller asks only then).
  void handle_timeout(Timestamp now);
  std::optional<Timestamp> next_timeout() const;

  // Video packets, retransmissions included, leave paced: at kPacingFactor times the bandwidth
  // estimate (or 1.5 times the rate video is given, where that is more), at most kPacingBurst
  // of it at once, so that a key frame does not meet a shallow queue on the path as one burst
  // (libwebrtc paces the same way). Audio and RTCP leave at once. A packet's transport-wide
  // sequence number and send time are those of its leaving.
  static constexpr double kPacingFactor = 2.5;
  static constexpr Duration kPacingBurst = Duration::millis(10);
  // A queue older than this drains faster than the pacing rate.
  static constexpr Duration kMaxPacingDelay = Duration::seconds(1);
  // No repair is queued behind more than this much paced video.
  static constexpr Duration kMaxRepairQueue = Duration::millis(250);
  std::size_t paced_bytes() const noexcept { return paced_bytes_; }
  std::optional<MediaPacket> poll_transmit();
  // The same, into `out`: its buffer is swapped with the packet's, and the one it held is
  // reused for later packets, so a caller that keeps passing one MediaPacket makes the send
  // path allocation-free. False when nothing is queued.
  bool poll_transmit(MediaPacket& out);
  std::optional<MediaEvent> poll_event();

  // The codec a transceiver sends or receives with (its rtpmap name), once negotiated; for
  // receiving, the codec of the last packet once one came.
  std::optional<std::string> send_codec(std::uint32_t transceiver) const;
  std::optional<std::string> receive_codec(std::uint32_t transceiver) const;
  // The same codecs whole (payload type, clock rate, channels, format parameters), as our
  // description lists them.
  const RtpCodec* send_codec_description(std::uint32_t transceiver) const;
  const RtpCodec* receive_codec_description(std::uint32_t transceiver) const;
  const MediaStreamStats* stats(std::uint32_t transceiver) const;
  // The sources a transceiver received from in the 10 s before `now` (W3C webrtc-pc 5.4.4),
  // most recent first.
  static constexpr Duration kSourceLifetime = Duration::seconds(10);
  std::vector<MediaSource> synchronization_sources(std::uint32_t transceiver, Timestamp now) const;
  std::vector<MediaSource> contributing_sources(std::uint32_t transceiver, Timestamp now) const;
  bool has_streams() const noexcept { return !streams_.empty(); }
  TransportFeedbackStats transport_feedback_stats() const;
  // The per-packet results of the peer's last transport-cc feedback messages (at most
  // kMaxTransportResults, oldest first), for a congestion controller to take.
  static constexpr std::size_t kMaxTransportResults = 1024;
  std::vector<rtp::TransportPacketResult> take_transport_results();
  // The send-side bandwidth estimate for all the media this session sends (bits per second):
  // delay- and loss-based from the peer's transport-cc feedback where negotiated, else
  // loss-based from its receiver reports. Starts at rtp::BandwidthEstimatorConfig's start rate.
  const rtp::BandwidthEstimator& bandwidth_estimator() const noexcept { return bandwidth_; }
  // W3C webrtc-stats availableOutgoingBitrate: the estimate, once transport-cc feedback came.
  std::optional<std::uint32_t> available_outgoing_bitrate() const;
  // Packets no section took (unknown SSRC and payload type, or a section not receiving).
  std::uint64_t packets_unrouted() const noexcept { return packets_unrouted_; }

 private:
  struct Stream;
  Stream* find(std::uint32_t transceiver);
  const Stream* find(std::uint32_t transceiver) const;
  Stream* route(const rtp::RtpPacketView& packet);
  void receive(Stream& stream, const rtp::RtpPacketView& packet, Timestamp now);
  void note_sources(Stream& stream, const rtp::RtpPacketView& packet, Timestamp now);
  void receive_video(Stream& stream, const RtpCodec& codec, const rtp::RtpPacketView& packet,
                     Timestamp now);
  void send_pli(Stream& stream, Timestamp now);
  void receive_repair(Stream& stream, const RtpCodec& repaired, const rtp::RtpPacketView& packet,
                      Timestamp now);
  void send_nacks(Stream& stream, Timestamp now);
  static std::optional<Duration> round_trip_time(const Stream& stream);
  // `clock_now`: the media clock's reading now, when `timestamp` is older (an event's start);
  // the SRs extrapolate from it.
  // `sources`: the frame whose CSRCs and audio levels the packet carries, if any.
  void queue_rtp(Stream& stream, const RtpCodec& codec, std::uint32_t timestamp, bool marker,
                 BytesView payload, std::optional<std::uint32_t> clock_now = std::nullopt,
                 const EncodedFrame* sources = nullptr);
  void retransmit(Stream& stream, std::uint16_t sequence_number);
  static bool write_repair(Stream& stream, BytesView original, Buffer& out);
  // A compound report (SR or RR, SDES); with `goodbye`, a BYE for the stream's SSRC ends it.
  void send_report(Stream& stream, Timestamp now, bool goodbye = false);
  void receive_telephone_event(Stream& stream, const RtpCodec& codec,
                               const rtp::RtpPacketView& packet);
  void run_dtmf(Stream& stream, Timestamp now);
  static std::uint32_t audio_timestamp_at(const Stream& stream, Timestamp at);
  Buffer take_buffer();
  // Transport-wide congestion control: the feedback due, and a fresh transport-wide sequence
  // number for a packet that goes again (a retransmission is a new packet on the transport).
  void send_transport_feedback(Timestamp now);
  // Where the transport-wide sequence number sits in an RTP packet (0: it has none).
  std::uint16_t transport_sequence_offset(BytesView packet) const;
  void stamp_transport_sequence(MediaPacket& packet);
  // An RTP packet to send: video through the pacer, audio at once.
  void queue_rtp_packet(const Stream& stream, Buffer packet);
  void queue_paced(MediaPacket packet);
  void drop_paced(const Stream& stream);
  double pacing_rate_bytes() const;
  void refill_pacing_budget();
  bool take_next(MediaPacket& out);
  void on_report_blocks(const std::vector<rtp::ReportBlock>& blocks, Timestamp now);

  Random& rng_;
  std::map<std::uint32_t, std::unique_ptr<Stream>> streams_;  // by transceiver
  std::map<std::uint32_t, std::uint32_t> ssrc_routes_;        // remote SSRC -> transceiver
  // Rings rather than deques: a steady rate of packets and events then allocates nothing.
  RingQueue<MediaPacket> outgoing_;
  RingQueue<MediaPacket> paced_;
  std::size_t paced_bytes_ = 0;
  double pacing_budget_ = 0;  // bytes; may be negative after a packet larger than what was left
  std::optional<Timestamp> pacing_updated_;
  // Video bytes queued in this period and the one before it (MediaSession::pacing_rate_bytes).
  static constexpr Duration kInputPeriod = Duration::millis(500);
  static constexpr double kInputHeadroom = 1.5;
  std::optional<Timestamp> input_period_start_;
  std::size_t current_input_bytes_ = 0;
  std::size_t previous_input_bytes_ = 0;
  static constexpr std::size_t kSpareBuffers = 64;
  std::vector<Buffer> spare_;  // packet buffers to reuse
  RingQueue<MediaEvent> events_;
  std::uint64_t packets_unrouted_ = 0;
  // The transport-wide sequence number's extension id, where negotiated; with a sender that
  // numbers what we send, and a receiver where we also give feedback.
  std::optional<std::uint8_t> transport_cc_id_;
  std::optional<rtp::TransportCcSender> transport_cc_sender_;
  std::optional<rtp::TransportCcReceiver> transport_cc_receiver_;
  std::vector<rtp::TransportPacketResult> transport_results_;
  rtp::BandwidthEstimator bandwidth_;
  std::optional<Timestamp> last_estimate_log_;
  std::uint64_t transport_feedback_sent_ = 0;
  std::string cname_;
  Duration ntp_offset_;
  std::optional<Timestamp> next_report_;
  Timestamp now_;  // of the last input
  bool closed_ = false;
};

}  // namespace rtcpp::pc
