#include "base/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace rtcpp {
namespace {

constexpr bool is_continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  while (p != end) {
    // ASCII, eight bytes at a time while no byte has its high bit set.
    while (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, sizeof word);
      if ((word & 0x8080808080808080ull) != 0) break;
      p += 8;
    }
    if (p == end) break;
    const unsigned char lead = *p;
    if (lead < 0x80) {
      ++p;
      continue;
    }
    // Table 3-7: the lead byte fixes the length and the range of the second byte, which is
    // where overlong forms (E0, F0), surrogates (ED) and code points above U+10FFFF (F4) are
    // excluded; C0, C1 and F5-FF never occur, nor does a continuation byte as a lead.
    std::size_t continuation = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuation = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      continuation = 2;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      continuation = 3;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) <= continuation) return false;  // truncated
    if (p[1] < low || p[1] > high) return false;
    for (std::size_t i = 2; i <= continuation; ++i) {
      if (!is_continuation(p[i])) return false;
    }
    p += continuation + 1;
  }
  return true;
}

std::size_t utf8_prefix_length(std::string_view text, std::size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text.size();
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  // Back from the limit to the start of the character it falls in.
  std::size_t cut = max_bytes;
  while (cut > 0 && is_continuation(p[cut])) --cut;
  if (cut > 0) return cut;
  // The first character does not fit: it goes whole.
  std::size_t length = 1;
  while (length < text.size() && is_continuation(p[length])) ++length;
  return length;
}

std::string replace_invalid_utf8(std::string_view text) {
  if (is_valid_utf8(text)) return std::string(text);
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(text.size() + 8);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      out += static_cast<char>(lead);
      ++i;
      continue;
    }
    // Unicode table 3-7: the continuation bytes a lead allows (the first one's range narrower
    // for E0, ED, F0 and F4).
    std::size_t continuations = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuations = 1;
    } else if (lead == 0xE0) {
      continuations = 2;
      low = 0xA0;
    } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
      continuations = 2;
    } else if (lead == 0xED) {
      continuations = 2;
      high = 0x9F;
    } else if (lead == 0xF0) {
      continuations = 3;
      low = 0x90;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      continuations = 3;
    } else if (lead == 0xF4) {
      continuations = 3;
      high = 0x8F;
    } else {
      out += kReplacement;  // never a lead byte
      ++i;
      continue;
    }
    std::size_t taken = 1;
    while (taken <= continuations && i + taken < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + taken]);
      const bool fits = taken == 1 ? next >= low && next <= high : next >= 0x80 && next <= 0xBF;
      if (!fits) break;
      ++taken;
    }
    if (taken > continuations) {
      out.append(text.substr(i, taken));
    } else {
      out += kReplacement;  // the maximal subpart goes as one replacement
    }
    i += taken;
  }
  return out;
}

}  // namespace rtcpp
