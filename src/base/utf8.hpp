// UTF-8 (RFC 3629; the well-formed byte sequences of Unicode's table 3-7).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rtcpp {

// True when `text` is well-formed UTF-8: no overlong forms, no surrogates (U+D800-U+DFFF),
// nothing above U+10FFFF, no stray continuation byte, no truncated sequence. Allocates
// nothing; runs of ASCII are checked eight bytes at a time.
bool is_valid_utf8(std::string_view text) noexcept;

// Where to cut well-formed UTF-8 so that the piece holds whole characters: the length of the
// longest prefix of `text` no longer than `max_bytes` that ends on a character boundary. When
// the first character alone is longer than `max_bytes`, the length of that character (a
// piece is never empty unless `text` is).
std::size_t utf8_prefix_length(std::string_view text, std::size_t max_bytes) noexcept;

// `text` with each ill-formed part replaced by U+FFFD, one per maximal subpart (Unicode 3.9,
// as the WHATWG decoder does): what a browser makes of invalid bytes in a USVString.
std::string replace_invalid_utf8(std::string_view text);

}  // namespace rtcpp
