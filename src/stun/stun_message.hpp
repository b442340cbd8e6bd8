// STUN messages (RFC 8489 section 5 and 14; TURN attributes from RFC 8656; ICE attributes
// from RFC 8445 section 16): a zero-copy parser and a builder.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/net.hpp"
#include "base/random.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::stun {

inline constexpr std::uint32_t kMagicCookie = 0x2112A442;
inline constexpr std::size_t kHeaderSize = 20;
// RFC 8489 14.7: the CRC-32 is XORed with this so that other protocols' CRCs do not collide.
inline constexpr std::uint32_t kFingerprintXor = 0x5354554E;
// Limits that keep a hostile message cheap to parse.
inline constexpr std::size_t kMaxAttributes = 64;

using TransactionId = std::array<std::uint8_t, 12>;

enum class StunClass : std::uint8_t {
  kRequest = 0,
  kIndication = 1,
  kSuccessResponse = 2,
  kErrorResponse = 3,
};

namespace method {
inline constexpr std::uint16_t kBinding = 0x001;
// TURN (RFC 8656 section 17).
inline constexpr std::uint16_t kAllocate = 0x003;
inline constexpr std::uint16_t kRefresh = 0x004;
inline constexpr std::uint16_t kSend = 0x006;
inline constexpr std::uint16_t kData = 0x007;
inline constexpr std::uint16_t kCreatePermission = 0x008;
inline constexpr std::uint16_t kChannelBind = 0x009;
}  // namespace method

namespace attr {
// RFC 8489 section 18.3.
inline constexpr std::uint16_t kMappedAddress = 0x0001;
inline constexpr std::uint16_t kUsername = 0x0006;
inline constexpr std::uint16_t kMessageIntegrity = 0x0008;
inline constexpr std::uint16_t kErrorCode = 0x0009;
inline constexpr std::uint16_t kUnknownAttributes = 0x000A;
inline constexpr std::uint16_t kRealm = 0x0014;
inline constexpr std::uint16_t kNonce = 0x0015;
inline constexpr std::uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr std::uint16_t kPasswordAlgorithm = 0x001D;
inline constexpr std::uint16_t kUserhash = 0x001E;
inline constexpr std::uint16_t kXorMappedAddress = 0x0020;
inline constexpr std::uint16_t kPasswordAlgorithms = 0x8002;
inline constexpr std::uint16_t kAlternateDomain = 0x8003;
inline constexpr std::uint16_t kSoftware = 0x8022;
inline constexpr std::uint16_t kAlternateServer = 0x8023;
inline constexpr std::uint16_t kFingerprint = 0x8028;
// TURN (RFC 8656 section 18).
inline constexpr std::uint16_t kChannelNumber = 0x000C;
inline constexpr std::uint16_t kLifetime = 0x000D;
inline constexpr std::uint16_t kXorPeerAddress = 0x0012;
inline constexpr std::uint16_t kData = 0x0013;
inline constexpr std::uint16_t kXorRelayedAddress = 0x0016;
inline constexpr std::uint16_t kRequestedAddressFamily = 0x0017;
inline constexpr std::uint16_t kEvenPort = 0x0018;
inline constexpr std::uint16_t kRequestedTransport = 0x0019;
inline constexpr std::uint16_t kDontFragment = 0x001A;
inline constexpr std::uint16_t kReservationToken = 0x0022;
inline constexpr std::uint16_t kAdditionalAddressFamily = 0x8000;
inline constexpr std::uint16_t kAddressErrorCode = 0x8001;
// The code points the dual-allocation draft used before RFC 8656, which coturn (4.6) still
// reads instead of 0x8000/0x8001.
inline constexpr std::uint16_t kAdditionalAddressFamilyDraft = 0x8032;
inline constexpr std::uint16_t kIcmp = 0x8004;
// ICE (RFC 8445 section 16.1).
inline constexpr std::uint16_t kPriority = 0x0024;
inline constexpr std::uint16_t kUseCandidate = 0x0025;
inline constexpr std::uint16_t kIceControlled = 0x8029;
inline constexpr std::uint16_t kIceControlling = 0x802A;

// RFC 8489 section 14: types 0x0000-0x7FFF are comprehension-required.
constexpr bool is_comprehension_required(std::uint16_t type) noexcept {
  return type < 0x8000;
}
}  // namespace attr

// The 14-bit method and 2-bit class packed into the 16-bit message type (RFC 8489 5).
constexpr std::uint16_t message_type(StunClass cls, std::uint16_t method) noexcept {
  const auto c = static_cast<std::uint16_t>(cls);
  return static_cast<std::uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) |
                                    ((method & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7));
}

enum class StunParseError : std::uint8_t {
  kTooShort,            // fewer than 20 bytes
  kNotStun,             // top bits or magic cookie wrong
  kBadLength,           // length not a multiple of 4 or not matching the datagram
  kTruncatedAttribute,  // an attribute runs past the end
  kTooManyAttributes,   // more than kMaxAttributes
  kAttributeAfterFingerprint,
};
std::string_view to_string(StunParseError error) noexcept;

// True when `data` looks like a STUN message (RFC 7983 first byte 0-3 plus the magic cookie).
bool is_stun_message(BytesView data) noexcept;

struct StunAttribute {
  std::uint16_t type = 0;
  BytesView value;         // the value without padding
  std::size_t offset = 0;  // where the attribute header starts in the message
};

struct StunErrorCode {
  int code = 0;  // 300-699
  std::string reason;
};

enum class IntegrityCheck : std::uint8_t {
  kAbsent,  // no MESSAGE-INTEGRITY(-SHA256) attribute
  kValid,
  kInvalid,  // present but wrong (or malformed)
};

// A parsed STUN message. It holds views into the datagram it was parsed from, which must
// outlive it.
class StunMessage {
 public:
  static Expected<StunMessage, StunParseError> parse(BytesView datagram);

  std::uint16_t type() const noexcept { return type_; }
  StunClass message_class() const noexcept;
  std::uint16_t method() const noexcept;
  const TransactionId& transaction_id() const noexcept { return transaction_id_; }
  BytesView raw() const noexcept { return raw_; }
  // Attributes in order, up to and including FINGERPRINT; those that RFC 8489 14.5-14.6 says
  // to ignore after MESSAGE-INTEGRITY are left out.
  std::span<const StunAttribute> attributes() const noexcept { return attributes_; }

  const StunAttribute* find(std::uint16_t type) const noexcept;
  bool has(std::uint16_t type) const noexcept { return find(type) != nullptr; }

  std::optional<std::string_view> string_attribute(std::uint16_t type) const noexcept;
  std::optional<std::string_view> username() const noexcept {
    return string_attribute(attr::kUsername);
  }
  std::optional<std::string_view> realm() const noexcept { return string_attribute(attr::kRealm); }
  std::optional<std::string_view> nonce() const noexcept { return string_attribute(attr::kNonce); }
  std::optional<std::string_view> software() const noexcept {
    return string_attribute(attr::kSoftware);
  }
  // A 32- or 64-bit attribute; nullopt when absent or of the wrong length.
  std::optional<std::uint32_t> u32_attribute(std::uint16_t type) const noexcept;
  std::optional<std::uint64_t> u64_attribute(std::uint16_t type) const noexcept;
  std::optional<std::uint32_t> priority() const noexcept { return u32_attribute(attr::kPriority); }
  bool use_candidate() const noexcept { return has(attr::kUseCandidate); }
  std::optional<std::uint64_t> ice_controlling() const noexcept {
    return u64_attribute(attr::kIceControlling);
  }
  std::optional<std::uint64_t> ice_controlled() const noexcept {
    return u64_attribute(attr::kIceControlled);
  }

  // MAPPED-ADDRESS-style (plain) or XOR-MAPPED-ADDRESS-style (XORed with the cookie and the
  // transaction id) address attributes. Errors: absent (NotFoundError) or malformed.
  Result<SocketAddress> address_attribute(std::uint16_t type) const;
  Result<SocketAddress> xor_address_attribute(std::uint16_t type) const;
  // Every well-formed XOR address attribute of this type, in order (RFC 8656 7.3: a dual
  // allocation's response has two XOR-RELAYED-ADDRESS attributes).
  std::vector<SocketAddress> xor_address_attributes(std::uint16_t type) const;
  Result<SocketAddress> xor_mapped_address() const {
    return xor_address_attribute(attr::kXorMappedAddress);
  }
  Result<StunErrorCode> error_code() const;
  // UNKNOWN-ATTRIBUTES of a 420 response.
  std::vector<std::uint16_t> unknown_attributes() const;
  // The comprehension-required attribute types in this message that are not in `known`.
  std::vector<std::uint16_t> unknown_comprehension_required(
      std::span<const std::uint16_t> known) const;

  bool has_fingerprint() const noexcept { return has(attr::kFingerprint); }
  // True when FINGERPRINT is present and matches the message.
  bool fingerprint_valid() const noexcept;
  // Checks MESSAGE-INTEGRITY-SHA256 when present, otherwise MESSAGE-INTEGRITY, with `key`
  // (the short-term password, or the long-term key from long_term_key_*).
  IntegrityCheck check_integrity(BytesView key) const;

 private:
  static Result<SocketAddress> decode_address(const StunAttribute& attribute);
  Result<SocketAddress> decode_xor_address(const StunAttribute& attribute) const;

  BytesView raw_;
  std::uint16_t type_ = 0;
  TransactionId transaction_id_{};
  std::vector<StunAttribute> attributes_;
};

// Builds a STUN message attribute by attribute, keeping the header's length current, so
// that MESSAGE-INTEGRITY and FINGERPRINT can be computed over what precedes them.
class StunMessageBuilder {
 public:
  StunMessageBuilder(StunClass cls, std::uint16_t method, const TransactionId& id);
  // A response to `request`: same method and transaction id.
  static StunMessageBuilder response_to(const StunMessage& request, StunClass cls);

  // The byte used to pad attribute values to 4 bytes (0 by default; RFC 8489 15 lets a
  // sender use any value, and the RFC 5769 vectors use 0x20).
  StunMessageBuilder& set_padding_byte(std::uint8_t byte) {
    padding_ = byte;
    return *this;
  }

  StunMessageBuilder& add_bytes(std::uint16_t type, BytesView value);
  StunMessageBuilder& add_string(std::uint16_t type, std::string_view value) {
    return add_bytes(type, as_bytes(value));
  }
  StunMessageBuilder& add_u32(std::uint16_t type, std::uint32_t value);
  StunMessageBuilder& add_u64(std::uint16_t type, std::uint64_t value);
  StunMessageBuilder& add_flag(std::uint16_t type) { return add_bytes(type, {}); }
  StunMessageBuilder& add_address(std::uint16_t type, const SocketAddress& address);
  StunMessageBuilder& add_xor_address(std::uint16_t type, const SocketAddress& address);
  StunMessageBuilder& add_error_code(int code, std::string_view reason);
  StunMessageBuilder& add_unknown_attributes(std::span<const std::uint16_t> types);
  // HMAC-SHA1 over the message so far (RFC 8489 14.5).
  StunMessageBuilder& add_message_integrity(BytesView key);
  // HMAC-SHA256 over the message so far, full 32 bytes (RFC 8489 14.6).
  StunMessageBuilder& add_message_integrity_sha256(BytesView key);
  // CRC-32 over the message so far, XOR 0x5354554E (RFC 8489 14.7). Must come last.
  StunMessageBuilder& add_fingerprint();

  // The message so far. Only on a named builder: a temporary's view would dangle.
  BytesView bytes() const& noexcept { return buffer_.view(); }
  BytesView bytes() const&& = delete;
  // Moves the finished message out; the builder is empty afterwards.
  Buffer finish() { return std::move(buffer_); }

 private:
  std::uint8_t* append_attribute(std::uint16_t type, std::size_t length);
  void set_length(std::size_t body_length);

  Buffer buffer_;
  std::uint8_t padding_ = 0;
};

// A fresh random transaction id (OpenSSL's generator: ids must be unpredictable).
TransactionId random_transaction_id(Random& rng);

// The 420 (Unknown Attribute) error response to `request` (RFC 8489 6.3.1.1).
Buffer build_unknown_attribute_response(const StunMessage& request,
                                        std::span<const std::uint16_t> unknown);

}  // namespace rtcpp::stun
