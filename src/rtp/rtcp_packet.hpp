// RTCP packets: the compound packet walk (RFC 3550 6.1; RFC 5506 reduced-size compounds of
// any packet type are accepted), and the packets a WebRTC video path needs, parsed from
// untrusted bytes and written back: SR, RR, SDES, BYE (RFC 3550 6.4-6.6), generic NACK and
// PLI (RFC 4585 6.2.1, 6.3.1), FIR (RFC 5104 4.3.1) and transport-wide congestion control
// feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 3.1; its codec is in
// transport_feedback.cpp). Other packet types are skipped.
//
// Every RTCP packet starts with the common header:
// |V=2|P| RC/FMT  |      PT       |  length (32-bit words - 1)    |
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/byte_writer.hpp"
#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::rtp {

inline constexpr std::size_t kRtcpHeaderSize = 4;
// Packets in one compound; real senders put two to five there.
inline constexpr std::size_t kMaxRtcpPacketsPerCompound = 256;
// The 5-bit RC/SC field.
inline constexpr std::size_t kMaxRtcpCount = 31;

namespace rtcp_type {
inline constexpr std::uint8_t kSenderReport = 200;
inline constexpr std::uint8_t kReceiverReport = 201;
inline constexpr std::uint8_t kSourceDescription = 202;
inline constexpr std::uint8_t kGoodbye = 203;
inline constexpr std::uint8_t kApplication = 204;
inline constexpr std::uint8_t kTransportFeedback = 205;  // RTPFB (RFC 4585 6.1)
inline constexpr std::uint8_t kPayloadFeedback = 206;    // PSFB (RFC 4585 6.1)
inline constexpr std::uint8_t kExtendedReport = 207;
}  // namespace rtcp_type

// The FMT values of the feedback messages we read.
namespace rtcp_fmt {
inline constexpr std::uint8_t kGenericNack = 1;             // RTPFB, RFC 4585 6.2.1
inline constexpr std::uint8_t kTransportWideFeedback = 15;  // RTPFB, transport-wide-cc 3.1
inline constexpr std::uint8_t kPictureLossIndication = 1;   // PSFB, RFC 4585 6.3.1
inline constexpr std::uint8_t kFullIntraRequest = 4;        // PSFB, RFC 5104 4.3.1
}  // namespace rtcp_fmt

enum class RtcpParseError : std::uint8_t {
  kTooShort,         // not even a common header, or an empty compound
  kBadVersion,       // V is not 2
  kLengthBeyondEnd,  // a length field claims more bytes than remain
  kBadPadding,       // P set with a zero count or a count larger than the packet's body
  kTooManyPackets,   // more than kMaxRtcpPacketsPerCompound
  kWrongType,        // a typed parser was handed another packet type or FMT
  kMalformed,        // the body does not hold what its count and type promise
};
std::string_view to_string(RtcpParseError error) noexcept;

template <typename T>
using RtcpResult = Expected<T, RtcpParseError>;

// One packet of a compound: its header fields and its body (after the 4-byte header, without
// padding), viewing the input.
struct RtcpPacketView {
  std::uint8_t count = 0;  // RC, SC or FMT, by type
  std::uint8_t type = 0;
  BytesView body;
  BytesView bytes;  // the whole packet, header and padding included
};

// Walks a compound packet one header at a time. Every length is checked against what
// remains; after an error the walk stays at its end.
class RtcpCompoundReader {
 public:
  explicit RtcpCompoundReader(BytesView compound) noexcept : rest_(compound) {}
  // The next packet; nothing at the end of the compound.
  RtcpResult<std::optional<RtcpPacketView>> next() noexcept;

 private:
  BytesView rest_;
};

// Splits a whole compound. Any header that lies rejects the whole compound (RFC 3550 A.2);
// an empty input is kTooShort.
RtcpResult<std::vector<RtcpPacketView>> split_rtcp_compound(BytesView compound);

// RFC 3550 6.4.1 report block.
struct ReportBlock {
  std::uint32_t ssrc = 0;
  std::uint8_t fraction_lost = 0;
  // A signed 24-bit count: duplicates can make it negative.
  std::int32_t cumulative_lost = 0;
  std::uint32_t extended_highest_sequence = 0;
  std::uint32_t jitter = 0;
  std::uint32_t last_sender_report = 0;              // middle 32 bits of the SR's NTP time
  std::uint32_t delay_since_last_sender_report = 0;  // in 1/65536 s
  friend bool operator==(const ReportBlock&, const ReportBlock&) = default;
};
inline constexpr std::size_t kReportBlockSize = 24;

// SR (RFC 3550 6.4.1). Profile-specific extensions after the blocks are ignored.
struct SenderReport {
  std::uint32_t sender_ssrc = 0;
  std::uint64_t ntp_timestamp = 0;
  std::uint32_t rtp_timestamp = 0;
  std::uint32_t packet_count = 0;
  std::uint32_t octet_count = 0;
  std::vector<ReportBlock> report_blocks;  // at most 31

  static RtcpResult<SenderReport> parse(const RtcpPacketView& packet);
  std::size_t size() const noexcept;
  // Writes the whole packet, or nothing (false) when it does not fit or breaks a limit.
  bool write_to(ByteWriter& writer) const;
  friend bool operator==(const SenderReport&, const SenderReport&) = default;
};

// RR (RFC 3550 6.4.2).
struct ReceiverReport {
  std::uint32_t sender_ssrc = 0;
  std::vector<ReportBlock> report_blocks;  // at most 31

  static RtcpResult<ReceiverReport> parse(const RtcpPacketView& packet);
  std::size_t size() const noexcept;
  bool write_to(ByteWriter& writer) const;
  friend bool operator==(const ReceiverReport&, const ReceiverReport&) = default;
};

// SDES (RFC 3550 6.5): per source, a list of items (type 1-8, text of at most 255 bytes).
namespace sdes_item {
inline constexpr std::uint8_t kCname = 1;
}
struct SdesItem {
  std::uint8_t type = 0;
  std::string value;
  friend bool operator==(const SdesItem&, const SdesItem&) = default;
};
struct SdesChunk {
  std::uint32_t ssrc = 0;
  std::vector<SdesItem> items;
  // The CNAME item's text, if the chunk has one.
  std::optional<std::string_view> cname() const noexcept;
  friend bool operator==(const SdesChunk&, const SdesChunk&) = default;
};
struct SourceDescription {
  std::vector<SdesChunk> chunks;  // at most 31

  static RtcpResult<SourceDescription> parse(const RtcpPacketView& packet);
  std::size_t size() const noexcept;
  // False also for an item of type 0 (it would end the list) or longer than 255 bytes.
  bool write_to(ByteWriter& writer) const;
  friend bool operator==(const SourceDescription&, const SourceDescription&) = default;
};

// BYE (RFC 3550 6.6).
struct Goodbye {
  std::vector<std::uint32_t> ssrcs;  // at most 31
  std::string reason;                // at most 255 bytes; empty writes none

  static RtcpResult<Goodbye> parse(const RtcpPacketView& packet);
  std::size_t size() const noexcept;
  bool write_to(ByteWriter& writer) const;
  friend bool operator==(const Goodbye&, const Goodbye&) = default;
};

// Generic NACK (RFC 4585 6.2.1): each item names a lost packet (PID) and, in BLP, which of
// the 16 following ones are lost too.
struct NackItem {
  std::uint16_t packet_id = 0;
  std::uint16_t lost_bitmask = 0;
  friend bool operator==(const NackItem&, const NackItem&) = default;
};
struct GenericNack {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;
  std::vector<NackItem> items;  // at least one

  // Packs lost sequence numbers (in sending order, wraps allowed) into as few items as the
  // order allows.
  static GenericNack from_lost_packets(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                       std::span<const std::uint16_t> lost);
  // Every sequence number the items name, in item order.
  std::vector<std::uint16_t> lost_packets() const;

  static RtcpResult<GenericNack> parse(const RtcpPacketView& packet);
  std::size_t size() const noexcept;
  bool write_to(ByteWriter& writer) const;
  friend bool operator==(const GenericNack&, const GenericNack&) = default;
};

// PLI (RFC 4585 6.3.1).
struct PictureLossIndication {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;

  static RtcpResult<PictureLossIndication> parse(const RtcpPacketView& packet);
  std::size_t size() const noexcept { return kRtcpHeaderSize + 8; }
  bool write_to(ByteWriter& writer) const;
  friend bool operator==(const PictureLossIndication&, const PictureLossIndication&) = default;
};

// FIR (RFC 5104 4.3.1): the media source field is unused (written 0, RFC 5104 4.3.1.2); each
// entry names the sender asked and a command sequence number that repeats for retransmits.
struct FirEntry {
  std::uint32_t ssrc = 0;
  std::uint8_t sequence_number = 0;
  friend bool operator==(const FirEntry&, const FirEntry&) = default;
};
struct FullIntraRequest {
  std::uint32_t sender_ssrc = 0;
  std::vector<FirEntry> entries;  // at least one

  static RtcpResult<FullIntraRequest> parse(const RtcpPacketView& packet);
  std::size_t size() const noexcept;
  bool write_to(ByteWriter& writer) const;
  friend bool operator==(const FullIntraRequest&, const FullIntraRequest&) = default;
};

// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
// extensions-01 3.1): for a run of the transport-wide sequence numbers the peer sent (RTP
// header extension), which packets arrived and when. Arrival times are deltas in 250 us
// ticks: the first received packet's from the reference time, each later one's from the
// received packet before it.
//
// On the wire the statuses go in 2-byte chunks (run-length, or vectors of 14 one-bit or 7
// two-bit symbols); the writer picks the chunks, so a parsed message written back holds the
// same statuses and deltas but not always the same chunks.
struct TransportFeedback {
  // 250 us: the unit of the receive deltas.
  static constexpr std::int64_t kDeltaTickMicros = 250;
  // 64 ms: the unit of the reference time.
  static constexpr std::int64_t kReferenceTickMicros = 64000;
  // A delta of one byte on the wire ("small"): 0 to 255 ticks; others take two bytes, signed.
  static constexpr std::int32_t kMaxSmallDelta = 255;

  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;
  std::uint16_t base_sequence = 0;
  std::uint32_t reference_time = 0;  // 24 bits, in 64 ms
  std::uint8_t feedback_count = 0;   // counts the feedback messages sent, wrapping
  // One entry per packet from base_sequence on (at most 65535): its receive delta in ticks,
  // or nothing for a packet not received.
  std::vector<std::optional<std::int16_t>> deltas;

  static RtcpResult<TransportFeedback> parse(const RtcpPacketView& packet);
  std::size_t size() const noexcept;
  // False also with no entries, more than 65535, or a reference time beyond 24 bits.
  bool write_to(ByteWriter& writer) const;
  friend bool operator==(const TransportFeedback&, const TransportFeedback&) = default;
};

using RtcpMessage =
    std::variant<SenderReport, ReceiverReport, SourceDescription, Goodbye, GenericNack,
                 PictureLossIndication, FullIntraRequest, TransportFeedback>;

// A compound's messages in order. Packets of types we do not read are skipped; so are
// packets of known types whose bodies are malformed (a sender's bad PLI does not lose its
// SR), and both are counted.
struct RtcpCompound {
  std::vector<RtcpMessage> messages;
  std::size_t unknown_skipped = 0;
  std::size_t malformed_skipped = 0;
};
// Parses a compound (or RFC 5506 reduced-size) packet. A header that lies about its length,
// version or padding is an error for the whole compound.
RtcpResult<RtcpCompound> parse_rtcp_compound(BytesView compound);

// Writes one message; false (and nothing written) when it does not fit or breaks a limit.
bool write_rtcp(const RtcpMessage& message, ByteWriter& writer);
// Size of one message on the wire.
std::size_t rtcp_size(const RtcpMessage& message) noexcept;

}  // namespace rtcpp::rtp
