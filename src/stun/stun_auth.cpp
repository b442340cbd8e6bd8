#include "stun/stun_auth.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdio>
#include <string>

namespace rtcpp::stun {
namespace {

// Decodes one UTF-8 code point at `i`; returns false on malformed or overlong input.
bool next_code_point(std::string_view s, std::size_t& i, char32_t& out) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    out = b0;
    ++i;
    return true;
  }
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return false;
  }
  if (s.size() - i < len) return false;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  out = cp;
  i += len;
  return true;
}

bool is_non_ascii_space(char32_t cp) {
  return cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

Result<Buffer> digest_of(const EVP_MD* md, std::string_view username, std::string_view realm,
                         std::string_view password) {
  auto prepared = opaque_string(password);
  if (!prepared) return std::move(prepared).error();
  std::string input;
  input.reserve(username.size() + realm.size() + prepared->size() + 2);
  input.append(username).append(":").append(realm).append(":").append(*prepared);
  Buffer out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), out.data(), &length, md, nullptr) != 1)
    return operation_error("digest failed");
  out.resize(length);
  return out;
}

}  // namespace

Result<std::string> opaque_string(std::string_view password) {
  return opaque_string(password, "password");
}

Result<std::string> opaque_string(std::string_view text, std::string_view what) {
  if (text.empty()) return invalid_access_error("empty " + std::string(what));
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    char32_t cp = 0;
    if (!next_code_point(text, i, cp))
      return syntax_error(std::string(what) + " is not valid UTF-8");
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
      return syntax_error(std::string(what) + " contains a control character");
    if (is_non_ascii_space(cp)) {
      out.push_back(' ');
    } else {
      out.append(text.substr(start, i - start));
    }
  }
  return out;
}

Result<Buffer> short_term_key(std::string_view password) {
  auto prepared = opaque_string(password);
  if (!prepared) return std::move(prepared).error();
  return Buffer::from_string(*prepared);
}

Result<Buffer> long_term_key_md5(std::string_view username, std::string_view realm,
                                 std::string_view password) {
  return digest_of(EVP_md5(), username, realm, password);
}

Result<Buffer> long_term_key_sha256(std::string_view username, std::string_view realm,
                                    std::string_view password) {
  return digest_of(EVP_sha256(), username, realm, password);
}

std::size_t hmac(std::size_t digest_size, BytesView key, BytesView part1, BytesView part2,
                 std::uint8_t* out) {
  // One-shot HMAC over a contiguous copy would allocate; EVP_MAC streams the two parts.
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  if (ctx == nullptr) return 0;
  char digest_name[8];
  std::snprintf(digest_name, sizeof digest_name, "%s", digest_size == 32 ? "SHA256" : "SHA1");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string("digest", digest_name, 0),
      OSSL_PARAM_construct_end(),
  };
  std::size_t length = 0;
  static const std::uint8_t kNoKey = 0;  // a NULL key would mean "keep the previous key"
  const std::uint8_t* key_data = key.empty() ? &kNoKey : key.data();
  const bool ok = EVP_MAC_init(ctx, key_data, key.size(), params) == 1 &&
                  EVP_MAC_update(ctx, part1.data(), part1.size()) == 1 &&
                  EVP_MAC_update(ctx, part2.data(), part2.size()) == 1 &&
                  EVP_MAC_final(ctx, out, &length, 32) == 1;
  EVP_MAC_CTX_free(ctx);
  return ok ? length : 0;
}

namespace {
// The six bits of the security feature set's first base64 character (features 0-5, the most
// significant bit first), or -1 when the nonce carries no feature set.
int nonce_feature_bits(std::string_view nonce) noexcept {
  if (nonce.size() < kNonceCookie.size() + 4 || !nonce.starts_with(kNonceCookie)) return -1;
  const char c = nonce[kNonceCookie.size()];
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

bool nonce_announces_password_algorithms(std::string_view nonce) noexcept {
  const int bits = nonce_feature_bits(nonce);
  return bits >= 0 && (bits & 0x20) != 0;
}

bool nonce_announces_username_anonymity(std::string_view nonce) noexcept {
  const int bits = nonce_feature_bits(nonce);
  return bits >= 0 && (bits & 0x10) != 0;
}

Result<Buffer> userhash(std::string_view username, std::string_view realm) {
  auto user = opaque_string(username, "username");
  if (!user) return std::move(user).error();
  auto prepared_realm = opaque_string(realm, "realm");
  if (!prepared_realm) return std::move(prepared_realm).error();
  std::string input;
  input.reserve(user->size() + prepared_realm->size() + 1);
  input.append(*user).append(":").append(*prepared_realm);
  Buffer out(32);
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), out.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != 32)
    return operation_error("digest failed");
  return out;
}

std::uint16_t first_known_password_algorithm(BytesView value) noexcept {
  // RFC 8489 14.11: (algorithm, parameters length, parameters padded to 4) entries.
  std::size_t at = 0;
  while (at + 4 <= value.size()) {
    const std::uint16_t algorithm = static_cast<std::uint16_t>((value[at] << 8) | value[at + 1]);
    const std::size_t length = (std::size_t{value[at + 2]} << 8) | value[at + 3];
    const std::size_t padded = (length + 3) & ~std::size_t{3};
    if (at + 4 + padded > value.size()) return 0;
    if (algorithm == kPasswordAlgorithmSha256 || algorithm == kPasswordAlgorithmMd5)
      return algorithm;
    at += 4 + padded;
  }
  return 0;
}

}  // namespace rtcpp::stun
