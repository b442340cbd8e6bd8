#include "base/hex.hpp"

namespace rtcpp {
namespace {

int digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string encode(BytesView bytes, const char* digits, char separator) {
  std::string out;
  out.reserve(bytes.size() * 3);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (separator != '\0' && i != 0) out.push_back(separator);
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 0x0F]);
  }
  return out;
}

}  // namespace

std::string to_hex(BytesView bytes) {
  return encode(bytes, "0123456789abcdef", '\0');
}

std::string to_hex_separated(BytesView bytes, char separator) {
  return encode(bytes, "0123456789ABCDEF", separator);
}

Result<Buffer> from_hex(std::string_view text, char separator, std::size_t max_bytes) {
  Buffer out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (separator != '\0' && !out.empty()) {
      if (text[i] != separator) return syntax_error("expected hex separator");
      ++i;
    }
    if (text.size() - i < 2) return syntax_error("truncated hex byte");
    const int hi = digit_value(text[i]);
    const int lo = digit_value(text[i + 1]);
    if (hi < 0 || lo < 0) return syntax_error("invalid hex digit");
    if (out.size() == max_bytes) return syntax_error("hex string too long");
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

}  // namespace rtcpp
