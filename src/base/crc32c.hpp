// CRC32c (Castagnoli), the SCTP checksum (RFC 9260 appendix B).
#pragma once

#include <cstdint>

#include "base/bytes.hpp"

namespace rtcpp {

// The CRC32c of `data`, using the CPU's crc32 instruction when it has one.
std::uint32_t crc32c(BytesView data) noexcept;
// Continues a CRC over more data: crc32c_extend(crc32c(a), b) == crc32c(a ++ b).
std::uint32_t crc32c_extend(std::uint32_t crc, BytesView data) noexcept;

// The two implementations, exposed so that tests and benchmarks can compare them.
std::uint32_t crc32c_extend_table(std::uint32_t crc, BytesView data) noexcept;
// Falls back to the table when the CPU lacks the instruction.
std::uint32_t crc32c_extend_hardware(std::uint32_t crc, BytesView data) noexcept;
bool crc32c_hardware_available() noexcept;

}  // namespace rtcpp
