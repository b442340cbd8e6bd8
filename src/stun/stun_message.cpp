#include "stun/stun_message.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "base/byte_reader.hpp"
#include "base/crc32.hpp"
#include "base/random.hpp"
#include "stun/stun_auth.hpp"

namespace rtcpp::stun {
namespace {

constexpr std::uint8_t kFamilyV4 = 0x01;
constexpr std::uint8_t kFamilyV6 = 0x02;

std::size_t padded(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}

// The message bytes that precede the attribute at `offset`, with the header's length field
// rewritten to end after an attribute of `value_length` there (RFC 8489 14.5: the length
// covers MESSAGE-INTEGRITY itself but nothing after it).
void header_for_integrity(BytesView raw, std::size_t offset, std::size_t value_length,
                          std::uint8_t (&header)[kHeaderSize]) {
  std::memcpy(header, raw.data(), kHeaderSize);
  store_be16(header + 2, static_cast<std::uint16_t>(offset + 4 + value_length - kHeaderSize));
}

}  // namespace

std::string_view to_string(StunParseError error) noexcept {
  switch (error) {
    case StunParseError::kTooShort:
      return "shorter than a STUN header";
    case StunParseError::kNotStun:
      return "not a STUN message";
    case StunParseError::kBadLength:
      return "bad STUN message length";
    case StunParseError::kTruncatedAttribute:
      return "truncated STUN attribute";
    case StunParseError::kTooManyAttributes:
      return "too many STUN attributes";
    case StunParseError::kAttributeAfterFingerprint:
      return "attribute after FINGERPRINT";
  }
  return "?";
}

bool is_stun_message(BytesView data) noexcept {
  return data.size() >= kHeaderSize && (data[0] & 0xC0) == 0 &&
         load_be32(data.data() + 4) == kMagicCookie && (load_be16(data.data() + 2) & 3) == 0;
}

Expected<StunMessage, StunParseError> StunMessage::parse(BytesView datagram) {
  if (datagram.size() < kHeaderSize) return StunParseError::kTooShort;
  if ((datagram[0] & 0xC0) != 0 || load_be32(datagram.data() + 4) != kMagicCookie)
    return StunParseError::kNotStun;
  const std::size_t length = load_be16(datagram.data() + 2);
  if (length % 4 != 0 || kHeaderSize + length != datagram.size()) return StunParseError::kBadLength;

  StunMessage msg;
  msg.raw_ = datagram;
  msg.type_ = load_be16(datagram.data());
  std::memcpy(msg.transaction_id_.data(), datagram.data() + 8, 12);

  ByteReader reader(datagram.subspan(kHeaderSize));
  bool seen_integrity = false;
  bool seen_integrity_sha256 = false;
  bool seen_fingerprint = false;
  while (!reader.empty()) {
    const std::size_t offset = kHeaderSize + reader.position();
    auto type = reader.read_u16();
    auto value_length = reader.read_u16();
    if (!type || !value_length) return StunParseError::kTruncatedAttribute;
    auto value = reader.read_bytes(*value_length);
    if (!value || !reader.skip(padded(*value_length) - *value_length))
      return StunParseError::kTruncatedAttribute;
    if (seen_fingerprint) return StunParseError::kAttributeAfterFingerprint;
    // RFC 8489 14.5/14.6: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and
    // FINGERPRINT count; after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT.
    const bool is_fingerprint = *type == attr::kFingerprint;
    if (seen_integrity_sha256 && !is_fingerprint) continue;
    if (seen_integrity && !is_fingerprint && *type != attr::kMessageIntegritySha256) continue;
    if (msg.attributes_.size() == kMaxAttributes) return StunParseError::kTooManyAttributes;
    msg.attributes_.push_back({*type, *value, offset});
    seen_integrity |= *type == attr::kMessageIntegrity;
    seen_integrity_sha256 |= *type == attr::kMessageIntegritySha256;
    seen_fingerprint |= is_fingerprint;
  }
  return msg;
}

StunClass StunMessage::message_class() const noexcept {
  return static_cast<StunClass>(((type_ >> 4) & 1) | ((type_ >> 7) & 2));
}

std::uint16_t StunMessage::method() const noexcept {
  return static_cast<std::uint16_t>((type_ & 0x000F) | ((type_ >> 1) & 0x0070) |
                                    ((type_ >> 2) & 0x0F80));
}

const StunAttribute* StunMessage::find(std::uint16_t type) const noexcept {
  for (const auto& a : attributes_) {
    if (a.type == type) return &a;
  }
  return nullptr;
}

std::optional<std::string_view> StunMessage::string_attribute(std::uint16_t type) const noexcept {
  const auto* a = find(type);
  if (a == nullptr) return std::nullopt;
  return as_string(a->value);
}

std::optional<std::uint32_t> StunMessage::u32_attribute(std::uint16_t type) const noexcept {
  const auto* a = find(type);
  if (a == nullptr || a->value.size() != 4) return std::nullopt;
  return load_be32(a->value.data());
}

std::optional<std::uint64_t> StunMessage::u64_attribute(std::uint16_t type) const noexcept {
  const auto* a = find(type);
  if (a == nullptr || a->value.size() != 8) return std::nullopt;
  return (std::uint64_t{load_be32(a->value.data())} << 32) | load_be32(a->value.data() + 4);
}

Result<SocketAddress> StunMessage::address_attribute(std::uint16_t type) const {
  const auto* a = find(type);
  if (a == nullptr) return not_found_error("address attribute absent");
  return decode_address(*a);
}

Result<SocketAddress> StunMessage::xor_address_attribute(std::uint16_t type) const {
  const auto* a = find(type);
  if (a == nullptr) return not_found_error("address attribute absent");
  return decode_xor_address(*a);
}

std::vector<SocketAddress> StunMessage::xor_address_attributes(std::uint16_t type) const {
  std::vector<SocketAddress> out;
  for (const auto& a : attributes_) {
    if (a.type != type) continue;
    if (auto address = decode_xor_address(a)) out.push_back(*address);
  }
  return out;
}

Result<SocketAddress> StunMessage::decode_address(const StunAttribute& attribute) {
  const StunAttribute* a = &attribute;
  // RFC 8489 14.1: 0, family, port, then 4 or 16 address bytes.
  if (a->value.size() < 4 || a->value[0] != 0) return syntax_error("malformed address attribute");
  const std::uint8_t family = a->value[1];
  const std::uint16_t port = load_be16(a->value.data() + 2);
  if (family == kFamilyV4 && a->value.size() == 8) {
    return SocketAddress(IpAddress::v4(load_be32(a->value.data() + 4)), port);
  }
  if (family == kFamilyV6 && a->value.size() == 20) {
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), a->value.data() + 4, 16);
    return SocketAddress(IpAddress::v6(bytes), port);
  }
  return syntax_error("malformed address attribute family or length");
}

Result<SocketAddress> StunMessage::decode_xor_address(const StunAttribute& attribute) const {
  auto plain = decode_address(attribute);
  if (!plain) return plain;
  // RFC 8489 14.2: port XOR the cookie's top 16 bits; IPv4 XOR the cookie; IPv6 XOR the
  // cookie followed by the transaction id.
  const auto port = static_cast<std::uint16_t>(plain->port() ^ (kMagicCookie >> 16));
  const IpAddress& ip = plain->ip();
  if (ip.is_v4()) return SocketAddress(IpAddress::v4(ip.v4_host_order() ^ kMagicCookie), port);
  std::array<std::uint8_t, 16> bytes{};
  std::uint8_t mask[16];
  store_be32(mask, kMagicCookie);
  std::memcpy(mask + 4, transaction_id_.data(), 12);
  for (std::size_t i = 0; i < 16; ++i) bytes[i] = ip.bytes()[i] ^ mask[i];
  return SocketAddress(IpAddress::v6(bytes), port);
}

Result<StunErrorCode> StunMessage::error_code() const {
  const auto* a = find(attr::kErrorCode);
  if (a == nullptr) return not_found_error("ERROR-CODE absent");
  if (a->value.size() < 4) return syntax_error("malformed ERROR-CODE");
  const int cls = a->value[2] & 0x07;
  const int number = a->value[3];
  // RFC 8489 14.8: class 3-6, number 0-99.
  if (cls < 3 || cls > 6 || number > 99) return syntax_error("ERROR-CODE out of range");
  return StunErrorCode{cls * 100 + number, std::string(as_string(a->value.subspan(4)))};
}

std::vector<std::uint16_t> StunMessage::unknown_attributes() const {
  std::vector<std::uint16_t> out;
  const auto* a = find(attr::kUnknownAttributes);
  if (a == nullptr) return out;
  for (std::size_t i = 0; i + 1 < a->value.size(); i += 2) out.push_back(load_be16(&a->value[i]));
  return out;
}

std::vector<std::uint16_t> StunMessage::unknown_comprehension_required(
    std::span<const std::uint16_t> known) const {
  std::vector<std::uint16_t> out;
  for (const auto& a : attributes_) {
    if (!attr::is_comprehension_required(a.type)) continue;
    if (std::find(known.begin(), known.end(), a.type) != known.end()) continue;
    if (std::find(out.begin(), out.end(), a.type) == out.end()) out.push_back(a.type);
  }
  return out;
}

bool StunMessage::fingerprint_valid() const noexcept {
  const auto* a = find(attr::kFingerprint);
  if (a == nullptr || a->value.size() != 4) return false;
  // The length field already covers FINGERPRINT, as it is the last attribute.
  const std::uint32_t expected = crc32(raw_.first(a->offset)) ^ kFingerprintXor;
  return load_be32(a->value.data()) == expected;
}

IntegrityCheck StunMessage::check_integrity(BytesView key) const {
  const StunAttribute* a = find(attr::kMessageIntegritySha256);
  std::size_t digest = 32;
  if (a != nullptr) {
    // RFC 8489 14.6: 16 to 32 bytes, a multiple of 4 (a truncated HMAC).
    if (a->value.size() < 16 || a->value.size() > 32 || a->value.size() % 4 != 0)
      return IntegrityCheck::kInvalid;
  } else {
    a = find(attr::kMessageIntegrity);
    if (a == nullptr) return IntegrityCheck::kAbsent;
    if (a->value.size() != 20) return IntegrityCheck::kInvalid;
    digest = 20;
  }
  std::uint8_t header[kHeaderSize];
  header_for_integrity(raw_, a->offset, a->value.size(), header);
  std::uint8_t mac[32];
  const std::size_t n =
      hmac(digest, key, header, raw_.subspan(kHeaderSize, a->offset - kHeaderSize), mac);
  if (n != digest) return IntegrityCheck::kInvalid;
  return CRYPTO_memcmp(mac, a->value.data(), a->value.size()) == 0 ? IntegrityCheck::kValid
                                                                   : IntegrityCheck::kInvalid;
}

StunMessageBuilder::StunMessageBuilder(StunClass cls, std::uint16_t method,
                                       const TransactionId& id) {
  buffer_.reserve(256);
  buffer_.resize(kHeaderSize);
  store_be16(buffer_.data(), message_type(cls, method));
  store_be16(buffer_.data() + 2, 0);
  store_be32(buffer_.data() + 4, kMagicCookie);
  std::memcpy(buffer_.data() + 8, id.data(), id.size());
}

StunMessageBuilder StunMessageBuilder::response_to(const StunMessage& request, StunClass cls) {
  return StunMessageBuilder(cls, request.method(), request.transaction_id());
}

std::uint8_t* StunMessageBuilder::append_attribute(std::uint16_t type, std::size_t length) {
  const std::size_t start = buffer_.size();
  buffer_.resize(start + 4 + padded(length));
  std::uint8_t* p = buffer_.data() + start;
  store_be16(p, type);
  store_be16(p + 2, static_cast<std::uint16_t>(length));
  std::memset(p + 4 + length, padding_, padded(length) - length);
  set_length(buffer_.size() - kHeaderSize);
  return p + 4;
}

void StunMessageBuilder::set_length(std::size_t body_length) {
  store_be16(buffer_.data() + 2, static_cast<std::uint16_t>(body_length));
}

StunMessageBuilder& StunMessageBuilder::add_bytes(std::uint16_t type, BytesView value) {
  std::uint8_t* p = append_attribute(type, value.size());
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  return *this;
}

StunMessageBuilder& StunMessageBuilder::add_u32(std::uint16_t type, std::uint32_t value) {
  store_be32(append_attribute(type, 4), value);
  return *this;
}

StunMessageBuilder& StunMessageBuilder::add_u64(std::uint16_t type, std::uint64_t value) {
  std::uint8_t* p = append_attribute(type, 8);
  store_be32(p, static_cast<std::uint32_t>(value >> 32));
  store_be32(p + 4, static_cast<std::uint32_t>(value));
  return *this;
}

StunMessageBuilder& StunMessageBuilder::add_address(std::uint16_t type,
                                                    const SocketAddress& address) {
  const BytesView ip = address.ip().bytes();
  std::uint8_t* p = append_attribute(type, 4 + ip.size());
  p[0] = 0;
  p[1] = address.ip().is_v4() ? kFamilyV4 : kFamilyV6;
  store_be16(p + 2, address.port());
  std::memcpy(p + 4, ip.data(), ip.size());
  return *this;
}

StunMessageBuilder& StunMessageBuilder::add_xor_address(std::uint16_t type,
                                                        const SocketAddress& address) {
  const BytesView ip = address.ip().bytes();
  std::uint8_t* p = append_attribute(type, 4 + ip.size());
  p[0] = 0;
  p[1] = address.ip().is_v4() ? kFamilyV4 : kFamilyV6;
  store_be16(p + 2, static_cast<std::uint16_t>(address.port() ^ (kMagicCookie >> 16)));
  std::uint8_t mask[16];
  store_be32(mask, kMagicCookie);
  std::memcpy(mask + 4, buffer_.data() + 8, 12);  // the transaction id
  for (std::size_t i = 0; i < ip.size(); ++i) p[4 + i] = ip[i] ^ mask[i];
  return *this;
}

StunMessageBuilder& StunMessageBuilder::add_error_code(int code, std::string_view reason) {
  // RFC 8489 14.8: the reason phrase is at most 128 characters (763 bytes); cut politely.
  reason = reason.substr(0, 127);
  std::uint8_t* p = append_attribute(attr::kErrorCode, 4 + reason.size());
  p[0] = 0;
  p[1] = 0;
  p[2] = static_cast<std::uint8_t>((code / 100) & 0x07);
  p[3] = static_cast<std::uint8_t>(code % 100);
  if (!reason.empty()) std::memcpy(p + 4, reason.data(), reason.size());
  return *this;
}

StunMessageBuilder& StunMessageBuilder::add_unknown_attributes(
    std::span<const std::uint16_t> types) {
  std::uint8_t* p = append_attribute(attr::kUnknownAttributes, types.size() * 2);
  for (std::size_t i = 0; i < types.size(); ++i) store_be16(p + 2 * i, types[i]);
  return *this;
}

StunMessageBuilder& StunMessageBuilder::add_message_integrity(BytesView key) {
  const std::size_t offset = buffer_.size();
  std::uint8_t* p = append_attribute(attr::kMessageIntegrity, 20);
  std::uint8_t mac[32];
  hmac(20, key, BytesView(buffer_.data(), kHeaderSize),
       BytesView(buffer_.data() + kHeaderSize, offset - kHeaderSize), mac);
  std::memcpy(p, mac, 20);
  return *this;
}

StunMessageBuilder& StunMessageBuilder::add_message_integrity_sha256(BytesView key) {
  const std::size_t offset = buffer_.size();
  std::uint8_t* p = append_attribute(attr::kMessageIntegritySha256, 32);
  std::uint8_t mac[32];
  hmac(32, key, BytesView(buffer_.data(), kHeaderSize),
       BytesView(buffer_.data() + kHeaderSize, offset - kHeaderSize), mac);
  std::memcpy(p, mac, 32);
  return *this;
}

StunMessageBuilder& StunMessageBuilder::add_fingerprint() {
  const std::size_t offset = buffer_.size();
  std::uint8_t* p = append_attribute(attr::kFingerprint, 4);
  store_be32(p, crc32(BytesView(buffer_.data(), offset)) ^ kFingerprintXor);
  return *this;
}

TransactionId random_transaction_id(Random& rng) {
  TransactionId id;
  rng.fill(id);
  return id;
}

Buffer build_unknown_attribute_response(const StunMessage& request,
                                        std::span<const std::uint16_t> unknown) {
  auto builder = StunMessageBuilder::response_to(request, StunClass::kErrorResponse);
  builder.add_error_code(420, "Unknown Attribute").add_unknown_attributes(unknown);
  builder.add_fingerprint();
  return builder.finish();
}

}  // namespace rtcpp::stun
