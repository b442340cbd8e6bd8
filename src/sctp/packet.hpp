// The SCTP packet layer (RFC 9260 section 3): the common header, chunk framing and the
// typed chunks a WebRTC association uses (RFC 9260, 3758 FORWARD-TSN, 6525 RE-CONFIG,
// 8260 I-DATA/I-FORWARD-TSN). Parsing is zero-copy (views into the packet) and bounded;
// every malformed input is an error value.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::sctp {

inline constexpr std::size_t kCommonHeaderSize = 12;
inline constexpr std::size_t kChunkHeaderSize = 4;
inline constexpr std::size_t kMaxChunksPerPacket = 256;
inline constexpr std::size_t kMaxParameters = 64;
inline constexpr std::size_t kMaxGapBlocks = 256;
// Streams listed in one RE-CONFIG reset request: more is refused as malformed.
inline constexpr std::size_t kMaxResetStreams = 1024;
// RFC 6525 3.1: a RE-CONFIG chunk carries one or two parameters.
inline constexpr std::size_t kMaxReconfigParameters = 2;

namespace chunk_type {
inline constexpr std::uint8_t kData = 0;
inline constexpr std::uint8_t kInit = 1;
inline constexpr std::uint8_t kInitAck = 2;
inline constexpr std::uint8_t kSack = 3;
inline constexpr std::uint8_t kHeartbeat = 4;
inline constexpr std::uint8_t kHeartbeatAck = 5;
inline constexpr std::uint8_t kAbort = 6;
inline constexpr std::uint8_t kShutdown = 7;
inline constexpr std::uint8_t kShutdownAck = 8;
inline constexpr std::uint8_t kError = 9;
inline constexpr std::uint8_t kCookieEcho = 10;
inline constexpr std::uint8_t kCookieAck = 11;
inline constexpr std::uint8_t kShutdownComplete = 14;
inline constexpr std::uint8_t kIData = 64;
inline constexpr std::uint8_t kReConfig = 130;
inline constexpr std::uint8_t kPad = 132;
inline constexpr std::uint8_t kForwardTsn = 192;
inline constexpr std::uint8_t kIForwardTsn = 194;
}  // namespace chunk_type

namespace param_type {
inline constexpr std::uint16_t kHeartbeatInfo = 1;
inline constexpr std::uint16_t kIpv4Address = 5;
inline constexpr std::uint16_t kIpv6Address = 6;
inline constexpr std::uint16_t kStateCookie = 7;
inline constexpr std::uint16_t kUnrecognizedParameter = 8;
inline constexpr std::uint16_t kCookiePreservative = 9;
inline constexpr std::uint16_t kSupportedAddressTypes = 12;
// RFC 6525 stream reconfiguration.
inline constexpr std::uint16_t kOutgoingSsnResetRequest = 13;
inline constexpr std::uint16_t kIncomingSsnResetRequest = 14;
inline constexpr std::uint16_t kSsnTsnResetRequest = 15;
inline constexpr std::uint16_t kReconfigurationResponse = 16;
inline constexpr std::uint16_t kAddOutgoingStreamsRequest = 17;
inline constexpr std::uint16_t kAddIncomingStreamsRequest = 18;
// RFC 9653 zero checksum acceptable.
inline constexpr std::uint16_t kZeroChecksumAcceptable = 0x8001;
// RFC 3758.
inline constexpr std::uint16_t kForwardTsnSupported = 0xC000;
// RFC 5061 supported extensions.
inline constexpr std::uint16_t kSupportedExtensions = 0x8008;
}  // namespace param_type

// Error causes (RFC 9260 3.3.10) carried in ABORT and ERROR chunks.
namespace error_cause {
inline constexpr std::uint16_t kInvalidStreamIdentifier = 1;
inline constexpr std::uint16_t kOutOfResource = 4;
inline constexpr std::uint16_t kProtocolViolation = 13;
}  // namespace error_cause

// RFC 9653 section 5.1: Error Detection Method Identifier 1, SCTP over DTLS (RFC 8261).
inline constexpr std::uint32_t kEdmidSctpOverDtls = 1;

enum class SctpParseError : std::uint8_t {
  kTooShort,
  kBadChecksum,
  kBadChunkLength,
  kTooManyChunks,
  kMalformedChunk,
  kTooManyParameters,
};
std::string_view to_string(SctpParseError e) noexcept;

template <typename T>
using ParseResult = Expected<T, SctpParseError>;

struct CommonHeader {
  std::uint16_t source_port = 5000;
  std::uint16_t destination_port = 5000;
  std::uint32_t verification_tag = 0;
  friend bool operator==(const CommonHeader&, const CommonHeader&) = default;
};

// A chunk as framed on the wire: its value excludes the 4-byte header and the padding.
struct ChunkView {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  BytesView value;
};

// A TLV parameter (INIT parameters, error causes, RE-CONFIG parameters).
struct Parameter {
  std::uint16_t type = 0;
  BytesView value;
};

// A parsed packet: the header and its chunks, viewing the packet bytes.
struct PacketView {
  CommonHeader header;
  std::uint32_t checksum = 0;
  std::vector<ChunkView> chunks;
};

enum class ChecksumMode : std::uint8_t {
  kVerify,      // CRC32c must match
  kAcceptZero,  // RFC 9653: zero is accepted (when negotiated), otherwise must match
  kSkip,        // do not look (fuzzing, benchmarks)
};

ParseResult<PacketView> parse_packet(BytesView packet, ChecksumMode mode = ChecksumMode::kVerify);
// The same into `out`, whose chunk list keeps its capacity from one packet to the next. An
// error, or nothing when the packet parsed.
std::optional<SctpParseError> parse_packet(BytesView packet, ChecksumMode mode, PacketView& out);
// Parses a run of TLV parameters padded to 4 bytes.
ParseResult<std::vector<Parameter>> parse_parameters(BytesView bytes);

// Builds a packet chunk by chunk into a caller-owned buffer, then finishes it with the
// checksum (or RFC 9653's zero).
class PacketBuilder {
 public:
  PacketBuilder(Buffer& out, const CommonHeader& header, std::size_t mtu_limit);
  // Room left for a chunk (header included) within the MTU limit.
  std::size_t remaining() const noexcept;
  // Appends a chunk whose value is written by the caller into the returned span; the span
  // is `value_length` long and padding is added. Returns an empty span if it does not fit.
  MutableBytesView add_chunk(std::uint8_t type, std::uint8_t flags, std::size_t value_length);
  bool add_chunk(std::uint8_t type, std::uint8_t flags, BytesView value);
  bool empty() const noexcept { return out_.size() == start_ + kCommonHeaderSize; }
  // Writes the CRC32c (or zero) into the header.
  void finish(bool zero_checksum = false);

 private:
  Buffer& out_;
  std::size_t start_;
  std::size_t limit_;
};

// --- Typed chunks -----------------------------------------------------------------------

// DATA (RFC 9260 3.3.1).
struct DataChunk {
  static constexpr std::uint8_t kFlagEnd = 0x01;
  static constexpr std::uint8_t kFlagBeginning = 0x02;
  static constexpr std::uint8_t kFlagUnordered = 0x04;
  static constexpr std::uint8_t kFlagImmediate = 0x08;
  static constexpr std::size_t kHeaderSize = 12;  // after the chunk header

  std::uint32_t tsn = 0;
  std::uint16_t stream_id = 0;
  std::uint16_t stream_sequence = 0;
  std::uint32_t ppid = 0;
  bool beginning = true;
  bool end = true;
  bool unordered = false;
  bool immediate = false;
  BytesView payload;

  static ParseResult<DataChunk> parse(const ChunkView& chunk);
  std::uint8_t flags() const noexcept;
  bool write_to(PacketBuilder& builder) const;
};

// I-DATA (RFC 8260 2.1).
struct IDataChunk {
  static constexpr std::size_t kHeaderSize = 16;
  std::uint32_t tsn = 0;
  std::uint16_t stream_id = 0;
  std::uint32_t message_id = 0;
  // The PPID on the first fragment (B set); the fragment sequence number on the others.
  std::uint32_t ppid_or_fsn = 0;
  bool beginning = true;
  bool end = true;
  bool unordered = false;
  bool immediate = false;
  BytesView payload;

  // RFC 8260 2.1: the first fragment's FSN is 0 (implicitly, its field holds the PPID).
  std::uint32_t fsn() const noexcept { return beginning ? 0 : ppid_or_fsn; }

  static ParseResult<IDataChunk> parse(const ChunkView& chunk);
  std::uint8_t flags() const noexcept;
  bool write_to(PacketBuilder& builder) const;
};

// INIT and INIT ACK (RFC 9260 3.3.2-3.3.3): same layout.
struct InitChunk {
  std::uint32_t initiate_tag = 0;
  std::uint32_t a_rwnd = 0;
  std::uint16_t outbound_streams = 0;
  std::uint16_t inbound_streams = 0;
  std::uint32_t initial_tsn = 0;
  std::vector<Parameter> parameters;  // views into the chunk

  static ParseResult<InitChunk> parse(const ChunkView& chunk);
  const Parameter* find(std::uint16_t type) const noexcept;
  // Serialised parameters must outlive nothing: they are copied into the packet.
  bool write_to(PacketBuilder& builder, std::uint8_t type) const;
};

// SACK (RFC 9260 3.3.4). Gap blocks are offsets from the cumulative TSN ack.
struct SackChunk {
  struct GapBlock {
    std::uint16_t start = 0;
    std::uint16_t end = 0;
    friend bool operator==(const GapBlock&, const GapBlock&) = default;
  };
  std::uint32_t cumulative_tsn_ack = 0;
  std::uint32_t a_rwnd = 0;
  std::vector<GapBlock> gap_blocks;
  std::vector<std::uint32_t> duplicate_tsns;

  static ParseResult<SackChunk> parse(const ChunkView& chunk);
  bool write_to(PacketBuilder& builder) const;
};

// FORWARD-TSN (RFC 3758 3.2) and I-FORWARD-TSN (RFC 8260 2.3).
struct ForwardTsnChunk {
  struct Skipped {
    std::uint16_t stream_id = 0;
    bool unordered = false;      // I-FORWARD-TSN only
    std::uint32_t sequence = 0;  // SSN (16 bits) or MID (32 bits)
    friend bool operator==(const Skipped&, const Skipped&) = default;
  };
  std::uint32_t new_cumulative_tsn = 0;
  std::vector<Skipped> skipped;

  static ParseResult<ForwardTsnChunk> parse(const ChunkView& chunk, bool interleaved);
  bool write_to(PacketBuilder& builder, bool interleaved) const;
};

// RE-CONFIG parameters (RFC 6525 4).
struct OutgoingResetRequest {
  std::uint32_t request_sequence = 0;
  std::uint32_t response_sequence = 0;
  std::uint32_t sender_last_tsn = 0;
  std::vector<std::uint16_t> streams;  // empty: all streams
  static ParseResult<OutgoingResetRequest> parse(const Parameter& p);
  void append_to(Buffer& out) const;
};

struct ReconfigResponse {
  enum class Result : std::uint32_t {
    kSuccessNothingToDo = 0,
    kSuccessPerformed = 1,
    kDenied = 2,
    kErrorWrongSsn = 3,
    kErrorRequestAlreadyInProgress = 4,
    kErrorBadSequenceNumber = 5,
    kInProgress = 6,
  };
  std::uint32_t response_sequence = 0;
  Result result = Result::kSuccessPerformed;
  static ParseResult<ReconfigResponse> parse(const Parameter& p);
  void append_to(Buffer& out) const;
};

// Appends one TLV parameter (padded) to `out`. Error causes have the same layout.
void append_parameter(Buffer& out, std::uint16_t type, BytesView value);

// Zero Checksum Acceptable (RFC 9653 section 4): the value is one 32-bit Error Detection
// Method Identifier. Returns it, or nothing when the parameter is malformed.
std::optional<std::uint32_t> parse_zero_checksum_acceptable(const Parameter& p);
void append_zero_checksum_acceptable(Buffer& out, std::uint32_t edmid);

}  // namespace rtcpp::sctp
