// The RTP packet (RFC 3550 5.1) with RFC 8285 header extensions: a zero-copy view parsed
// from untrusted bytes, a builder that writes one, and the unwrappers that extend sequence
// numbers and timestamps to 64 bits.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |V=2|P|X|  CC   |M|     PT      |       sequence number         |
// |                           timestamp                           |
// |           synchronization source (SSRC) identifier            |
// |            contributing source (CSRC) identifiers (CC)        |
// | extension profile             | extension length (words)      |  if X
// | extension data ...                                            |
// | payload ...                          | padding ... | pad count |  if P
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/bytes.hpp"
#include "base/serial.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::rtp {

inline constexpr std::size_t kFixedHeaderSize = 12;
inline constexpr std::size_t kMaxCsrcs = 15;  // the 4-bit CC field
inline constexpr std::uint8_t kMaxPayloadType = 127;
// RFC 8285 4.2: the one-byte form's profile; 4.3: the two-byte form's, whose low 4 bits
// ("appbits") are the application's.
inline constexpr std::uint16_t kOneByteExtensionProfile = 0xBEDE;
inline constexpr std::uint16_t kTwoByteExtensionProfile = 0x1000;
inline constexpr std::uint16_t kTwoByteExtensionProfileMask = 0xFFF0;
// Element ids and sizes each form can carry (RFC 8285 4.2, 4.3).
inline constexpr std::uint8_t kMaxOneByteExtensionId = 14;
inline constexpr std::size_t kMaxOneByteExtensionSize = 16;
inline constexpr std::size_t kMaxTwoByteExtensionSize = 255;
// Extension elements one builder holds; WebRTC senders use well under ten.
inline constexpr std::size_t kMaxBuilderExtensions = 16;

enum class RtpParseError : std::uint8_t {
  kTooShort,            // shorter than the 12-byte fixed header
  kBadVersion,          // V is not 2
  kCsrcBeyondEnd,       // CC names more CSRCs than the packet holds
  kExtensionBeyondEnd,  // the extension header or its length runs past the packet
  kBadExtension,        // an RFC 8285 element runs past its extension block
  kBadPadding,          // P set with a zero count, or a count larger than what follows the header
};
std::string_view to_string(RtpParseError error) noexcept;

enum class RtpBuildError : std::uint8_t {
  kBadPayloadType,        // above 127
  kTooManyCsrcs,          // more than 15
  kTooManyExtensions,     // more than kMaxBuilderExtensions
  kBadExtensionId,        // 0 (ids are 1-255)
  kExtensionTooLong,      // longer than 255 bytes
  kDuplicateExtensionId,  // the same id twice
  kNoRoom,                // the output is smaller than the packet
};
std::string_view to_string(RtpBuildError error) noexcept;

// One RFC 8285 extension element: its local id and its data (a view into the packet).
struct HeaderExtension {
  std::uint8_t id = 0;
  BytesView data;
};

// Walks the elements of an RFC 8285 extension block (already checked by the parser).
// Padding bytes are skipped; in the one-byte form, id 15 ends the walk (RFC 8285 4.2).
class HeaderExtensionIterator {
 public:
  HeaderExtensionIterator() = default;
  HeaderExtensionIterator(BytesView block, bool two_byte) noexcept;

  // The next element, or nothing at the end.
  std::optional<HeaderExtension> next() noexcept;

 private:
  BytesView block_;
  std::size_t position_ = 0;
  bool two_byte_ = false;
};

// A parsed RTP packet: header fields by value, CSRCs, extension data and payload as views into
// the packet bytes, which must outlive it. Parsing copies nothing and allocates nothing.
struct RtpPacketView {
  bool marker = false;
  std::uint8_t payload_type = 0;
  std::uint16_t sequence_number = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::uint8_t csrc_count = 0;
  std::array<std::uint32_t, kMaxCsrcs> csrcs{};

  // The header extension (X bit): its 16-bit profile and its data (length words * 4 bytes).
  bool has_extension = false;
  std::uint16_t extension_profile = 0;
  BytesView extension_data;

  BytesView payload;
  // Padding bytes at the end, the count byte included (0 when P is clear).
  std::size_t padding_size = 0;
  // The whole packet and the length of the header (fixed part, CSRCs and extension).
  BytesView packet;
  std::size_t header_size = 0;

  // Whether the extension is in one of the RFC 8285 forms (parse checked its elements then).
  bool has_one_byte_extensions() const noexcept {
    return has_extension && extension_profile == kOneByteExtensionProfile;
  }
  bool has_two_byte_extensions() const noexcept {
    return has_extension &&
           (extension_profile & kTwoByteExtensionProfileMask) == kTwoByteExtensionProfile;
  }
  // The RFC 8285 elements in wire order (none for another extension profile).
  HeaderExtensionIterator extensions() const noexcept;
  // The data of the first element with `id`, if any.
  std::optional<BytesView> extension(std::uint8_t id) const noexcept;
};

// Parses an RTP packet. Every length is checked against the input; an RFC 8285 extension
// block must hold whole elements. A packet whose extension has another profile parses, with
// its data left uninterpreted.
Expected<RtpPacketView, RtpParseError> parse_rtp_packet(BytesView packet) noexcept;

// Builds an RTP packet. Views given to it (extension data, payload) must live until the
// packet is written. The extension form is chosen from what is added: the one-byte form when
// every id is 1-14 and every element 1-16 bytes long, else the two-byte form (RFC 8285 4.1).
class RtpPacketBuilder {
 public:
  RtpPacketBuilder& set_marker(bool marker) noexcept;
  RtpPacketBuilder& set_payload_type(std::uint8_t payload_type) noexcept;
  RtpPacketBuilder& set_sequence_number(std::uint16_t sequence_number) noexcept;
  RtpPacketBuilder& set_timestamp(std::uint32_t timestamp) noexcept;
  RtpPacketBuilder& set_ssrc(std::uint32_t ssrc) noexcept;
  RtpPacketBuilder& add_csrc(std::uint32_t csrc) noexcept;
  // An extension element, id 1-255, 0-255 bytes.
  RtpPacketBuilder& add_extension(std::uint8_t id, BytesView data) noexcept;
  RtpPacketBuilder& set_payload(BytesView payload) noexcept;
  // Padding bytes to append, the count byte included (0 for none, else 1-255).
  RtpPacketBuilder& set_padding(std::uint8_t padding_size) noexcept;

  // Whether the extension would be written in the two-byte form.
  bool uses_two_byte_extensions() const noexcept;
  // The packet's size once written, or the first error a setter recorded.
  Expected<std::size_t, RtpBuildError> size() const noexcept;
  // Appends the packet to `out`.
  Expected<void, RtpBuildError> write(Buffer& out) const;
  // Writes the packet at the start of `out` and returns its size; kNoRoom (and nothing
  // written) when it does not fit.
  Expected<std::size_t, RtpBuildError> write(MutableBytesView out) const noexcept;

 private:
  std::size_t extension_block_size() const noexcept;
  void write_unchecked(std::uint8_t* out) const noexcept;

  bool marker_ = false;
  std::uint8_t payload_type_ = 0;
  std::uint16_t sequence_number_ = 0;
  std::uint32_t timestamp_ = 0;
  std::uint32_t ssrc_ = 0;
  std::array<std::uint32_t, kMaxCsrcs> csrcs_{};
  std::size_t csrc_count_ = 0;
  std::array<HeaderExtension, kMaxBuilderExtensions> extensions_{};
  std::size_t extension_count_ = 0;
  BytesView payload_;
  std::uint8_t padding_size_ = 0;
  std::optional<RtpBuildError> error_;
};

// Extended (64-bit) sequence numbers and timestamps, in the spirit of RFC 3550 A.1: each
// value lands at the unwrapped position nearest the previous one, so wraps count up and
// reordering across a wrap stays in place. The first value unwraps to itself; a value just
// before it unwraps below it (negative across the first wrap).
using SequenceNumberUnwrapper = SerialUnwrapper<std::uint16_t>;
using TimestampUnwrapper = SerialUnwrapper<std::uint32_t>;

}  // namespace rtcpp::rtp
