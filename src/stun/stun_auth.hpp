// STUN credentials (RFC 8489 section 9): the keys that MESSAGE-INTEGRITY(-SHA256) use.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::stun {

// RFC 8265 OpaqueString preparation of a password, as RFC 8489 9.1-9.2 require. Validates
// UTF-8, rejects control characters and empty strings, maps non-ASCII spaces to U+0020.
// Limitation: Unicode NFC normalisation is not applied (passwords already in NFC, which is
// every ASCII password and what every input method produces, are unaffected).
Result<std::string> opaque_string(std::string_view password);
// The same for any string the RFC prepares that way (username and realm for USERHASH); `what`
// names it in errors.
Result<std::string> opaque_string(std::string_view text, std::string_view what);

// Short-term credential key (9.1.2): the OpaqueString-prepared password.
Result<Buffer> short_term_key(std::string_view password);

// Long-term credential keys (9.2.2): MD5 or SHA-256 over "username:realm:password", with the
// username and realm as received (already prepared by the server) and the password prepared.
Result<Buffer> long_term_key_md5(std::string_view username, std::string_view realm,
                                 std::string_view password);
Result<Buffer> long_term_key_sha256(std::string_view username, std::string_view realm,
                                    std::string_view password);

// RFC 8489 18.5 password algorithm numbers.
inline constexpr std::uint16_t kPasswordAlgorithmMd5 = 0x0001;
inline constexpr std::uint16_t kPasswordAlgorithmSha256 = 0x0002;
// RFC 8489 9.2.1: a nonce starting with this cookie carries a security feature set (four
// base64 characters, 24 bits) right after it.
inline constexpr std::string_view kNonceCookie = "obMatJos2";

// Whether `nonce` has the cookie and the "password algorithms" feature (bit 0, RFC 8489 18.1).
bool nonce_announces_password_algorithms(std::string_view nonce) noexcept;
// Whether `nonce` has the cookie and the "username anonymity" feature (bit 1, RFC 8489 18.1):
// requests then carry USERHASH instead of USERNAME.
bool nonce_announces_username_anonymity(std::string_view nonce) noexcept;
// RFC 8489 14.4: USERHASH = SHA-256(OpaqueString(username) ":" OpaqueString(realm)), 32 bytes.
Result<Buffer> userhash(std::string_view username, std::string_view realm);
// The first algorithm in a PASSWORD-ALGORITHMS value that we support (SHA-256 or MD5), in the
// server's order; 0 when none is, or when the value is malformed.
std::uint16_t first_known_password_algorithm(BytesView value) noexcept;

// HMAC over two pieces (a rewritten header and the rest), SHA-1 or SHA-256 by `digest_size`
// (20 or 32). Returns the MAC length written into `out` (at least 32 bytes).
std::size_t hmac(std::size_t digest_size, BytesView key, BytesView part1, BytesView part2,
                 std::uint8_t* out);

}  // namespace rtcpp::stun
