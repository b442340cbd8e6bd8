// CRC-32 (IEEE 802.3, the zlib/PNG CRC), used by STUN's FINGERPRINT (RFC 8489 14.7).
#pragma once

#include <cstdint>

#include "base/bytes.hpp"

namespace rtcpp {

std::uint32_t crc32(BytesView data) noexcept;
// crc32_extend(crc32(a), b) == crc32(a ++ b).
std::uint32_t crc32_extend(std::uint32_t crc, BytesView data) noexcept;

}  // namespace rtcpp
