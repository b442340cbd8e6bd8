#include "base/utf8.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rtcpp {
namespace {

// A reference written the long way round: decode by the bit patterns, then apply the rules
// (shortest form, no surrogates, at most U+10FFFF).
bool reference_valid(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0;
    std::size_t length = 0;
    std::uint32_t minimum = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      cp = lead & 0x1Fu;
      length = 2;
      minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      cp = lead & 0x0Fu;
      length = 3;
      minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      cp = lead & 0x07u;
      length = 4;
      minimum = 0x10000;
    } else {
      return false;
    }
    if (i + length > s.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    if (cp < minimum || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

std::string encode(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

TEST(Utf8, WellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ASCII, longer than one eight-byte word"));
  EXPECT_TRUE(is_valid_utf8(std::string_view("\0", 1)));  // U+0000 is a character
  EXPECT_TRUE(
      is_valid_utf8("h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC "
                    "\xF0\x9F\x9A\x80"));
  // The edges of each length and of the ranges table 3-7 singles out.
  for (const char* edge :
       {"\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80",
        "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(is_valid_utf8(edge)) << edge;
  }
}

TEST(Utf8, IllFormedText) {
  const std::vector<std::string> bad = {
      // Overlong forms.
      "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF", "\xF0\x80\x80\x80",
      "\xF0\x8F\xBF\xBF",
      // Surrogates, alone and as a CESU-8 pair.
      "\xED\xA0\x80", "\xED\xBF\xBF", "\xED\xA0\xBD\xED\xB8\x80",
      // Above U+10FFFF, and bytes that never occur.
      "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xF8\x88\x80\x80\x80", "\xFE", "\xFF",
      // Continuation bytes without a lead.
      "\x80", "\xBF", "a\x80z",
      // Truncated sequences, at the end and before more text.
      "\xC3", "\xE2\x9C", "\xF0\x9F\x9A", "\xC3z", "\xE2\x9Cz", "\xF0\x9F\x9Az",
      // A lead followed by something that is not a continuation.
      "\xC3\xC3\xA9", "\xE2\x28\xA1", "\xF0\x9F\x28\x80"};
  for (const auto& s : bad) EXPECT_FALSE(is_valid_utf8(s)) << testing::PrintToString(s);
}

// Every position of an error within and around the eight-byte ASCII steps.
TEST(Utf8, ErrorsAreFoundAtEveryOffset) {
  for (std::size_t at = 0; at < 40; ++at) {
    std::string s(40, 'a');
    s.insert(at, "\xE2\x9C\x93");
    EXPECT_TRUE(is_valid_utf8(s)) << at;
    s.resize(at + 2);  // cut inside the character
    EXPECT_FALSE(is_valid_utf8(s)) << at;
    std::string stray(40, 'a');
    stray[at] = '\x80';
    EXPECT_FALSE(is_valid_utf8(stray)) << at;
  }
}

TEST(Utf8, AgreesWithTheReferenceOnEveryCodePoint) {
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_EQ(is_valid_utf8(encode(cp)), !surrogate) << std::hex << cp;
  }
  // Encodings of what is beyond Unicode: F4 90 80 80 (U+110000) up to F7 BF BF BF.
  EXPECT_FALSE(is_valid_utf8(encode(0x110000)));
  EXPECT_FALSE(is_valid_utf8(encode(0x1FFFFF)));
}

TEST(Utf8, AgreesWithTheReferenceOnEveryShortSequence) {
  std::string s;
  for (std::uint32_t a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    ASSERT_EQ(is_valid_utf8(s), reference_valid(s)) << a;
    for (std::uint32_t b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(is_valid_utf8(s), reference_valid(s)) << a << " " << b;
      if (a < 0xE0) continue;  // three bytes: only leads that start a longer sequence
      for (std::uint32_t c = 0; c < 256; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        ASSERT_EQ(is_valid_utf8(s), reference_valid(s)) << a << " " << b << " " << c;
      }
    }
  }
  // Four bytes: every lead and second byte, the others at their edges and outside them.
  for (std::uint32_t a = 0xF0; a < 256; ++a) {
    for (std::uint32_t b = 0; b < 256; ++b) {
      for (const std::uint32_t c : {0x00u, 0x7Fu, 0x80u, 0xBFu, 0xC0u}) {
        for (const std::uint32_t d : {0x00u, 0x7Fu, 0x80u, 0xBFu, 0xC0u}) {
          s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                    static_cast<char>(d)});
          ASSERT_EQ(is_valid_utf8(s), reference_valid(s)) << a << " " << b << " " << c << " " << d;
        }
      }
    }
  }
}

TEST(Utf8, PrefixEndsOnACharacterBoundary) {
  const std::string text = "a\xC3\xA9\xE2\x9C\x93\xF0\x9F\x9A\x80z";  // a é ✓ 🚀 z: 1+2+3+4+1
  EXPECT_EQ(utf8_prefix_length(text, 100), text.size());
  EXPECT_EQ(utf8_prefix_length(text, text.size()), text.size());
  const std::size_t want[] = {1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 11};
  for (std::size_t max = 1; max <= 11; ++max) {
    EXPECT_EQ(utf8_prefix_length(text, max), want[max - 1]) << max;
  }
  // Smaller than the first character: that whole character.
  EXPECT_EQ(utf8_prefix_length("\xF0\x9F\x9A\x80z", 1), 4u);
  EXPECT_EQ(utf8_prefix_length("\xF0\x9F\x9A\x80z", 3), 4u);
  EXPECT_EQ(utf8_prefix_length("\xC3\xA9", 0), 2u);
  EXPECT_EQ(utf8_prefix_length("", 5), 0u);

  // Cutting any text into pieces of any size leaves every piece well-formed.
  std::string mixed;
  for (std::uint32_t cp : {0x41u, 0xE9u, 0x7FFu, 0x800u, 0x2713u, 0xFFFFu, 0x1F680u, 0x10FFFFu})
    mixed += encode(cp);
  for (std::size_t max = 1; max <= mixed.size() + 1; ++max) {
    std::string_view rest = mixed;
    std::string joined;
    while (!rest.empty()) {
      const std::size_t n = utf8_prefix_length(rest, max);
      ASSERT_GT(n, 0u);
      ASSERT_TRUE(is_valid_utf8(rest.substr(0, n))) << max;
      if (n > max) {  // only ever one character that is longer than the limit
        for (std::size_t k = 1; k < n; ++k) EXPECT_EQ(rest[k] & 0xC0, 0x80) << max;
      }
      joined += rest.substr(0, n);
      rest.remove_prefix(n);
    }
    EXPECT_EQ(joined, mixed);
  }
}

TEST(Utf8, InvalidPartsBecomeOneReplacementEach) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(replace_invalid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");  // well-formed: unchanged
  EXPECT_EQ(replace_invalid_utf8("a\xFF"
                                 "b"),
            "a" + fffd + "b");
  EXPECT_EQ(replace_invalid_utf8("\xC0\xAF"), fffd + fffd);  // overlong: no lead, stray byte
  EXPECT_EQ(replace_invalid_utf8("\xE2\x82"), fffd);         // truncated: one maximal subpart
  EXPECT_EQ(replace_invalid_utf8("\xE2\x82x"), fffd + "x");
  EXPECT_EQ(replace_invalid_utf8("\xED\xA0\x80"), fffd + fffd + fffd);  // a surrogate
  EXPECT_EQ(replace_invalid_utf8("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);
  EXPECT_EQ(replace_invalid_utf8("\xF0\x9F\x98"), fffd);
  EXPECT_EQ(replace_invalid_utf8("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
  for (const auto* text : {"\x80", "\xFE\xFF", "a\xE2\x82\xF0\x9F", "\xC2"})
    EXPECT_TRUE(is_valid_utf8(replace_invalid_utf8(text))) << text;
}

}  // namespace
}  // namespace rtcpp
