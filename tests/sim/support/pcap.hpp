// Classic libpcap capture files of simulated datagrams.
//
// The format: a 24-byte file header (magic 0xa1b2c3d4 in little-endian byte order, version
// 2.4, snaplen 65535, LINKTYPE_RAW = 101) and per packet a 16-byte record header (seconds,
// microseconds, captured and original length) followed by the packet. With LINKTYPE_RAW the
// packet starts at the IP header, so each datagram gets a synthesized IPv4 or IPv6 header and
// a UDP header with correct lengths and checksums.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "base/bytes.hpp"
#include "base/net.hpp"
#include "base/time.hpp"

namespace rtcpp::sim {

inline constexpr std::uint32_t kPcapMagic = 0xa1b2c3d4;
inline constexpr std::uint32_t kLinktypeRaw = 101;

// The datagram as an IPv4 (header checksum set, DF, TTL 64, identification `ip_id`) or IPv6
// (hop limit 64) packet carrying UDP, checksum computed over the pseudo-header for both.
// The family is the destination's; both addresses must have it.
Buffer build_ip_udp_packet(const Datagram& d, std::uint16_t ip_id);

// RFC 1071 ones' complement sum of `bytes` added to `sum` (not yet folded or inverted).
std::uint32_t internet_sum(BytesView bytes, std::uint32_t sum = 0) noexcept;
// Folds and inverts a sum into a checksum field value.
std::uint16_t internet_checksum(std::uint32_t sum) noexcept;

class PcapWriter {
 public:
  PcapWriter() = default;
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Creates (truncates) the file and writes the header.
  bool open(const std::string& path);
  bool is_open() const noexcept { return file_ != nullptr; }
  // Timestamps are the virtual clock's microseconds since its zero.
  void write(Timestamp at, const Datagram& d);
  void close();
  std::uint64_t packets() const noexcept { return packets_; }

 private:
  std::FILE* file_ = nullptr;
  std::uint64_t packets_ = 0;
};

}  // namespace rtcpp::sim
