// Hexadecimal text: lowercase output, tolerant but strict input.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp {

// "0a1b..." in lowercase.
std::string to_hex(BytesView bytes);
// "0A:1B:..." uppercase with a separator, as in SDP a=fingerprint (RFC 8122).
std::string to_hex_separated(BytesView bytes, char separator);
// Parses hex digits (either case). With a separator, exactly one must stand between bytes.
// An odd digit count, a stray character or more than `max_bytes` bytes is a SyntaxError.
Result<Buffer> from_hex(std::string_view text, char separator = '\0', std::size_t max_bytes = 4096);

}  // namespace rtcpp
