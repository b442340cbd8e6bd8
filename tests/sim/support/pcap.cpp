#include "pcap.hpp"

#include "base/byte_writer.hpp"

namespace rtcpp::sim {

namespace {

constexpr std::uint8_t kUdp = 17;

void put_le32(std::uint8_t* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace

std::uint32_t internet_sum(BytesView bytes, std::uint32_t sum) noexcept {
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2)
    sum += static_cast<std::uint32_t>(bytes[i]) << 8 | bytes[i + 1];
  if (i < bytes.size()) sum += static_cast<std::uint32_t>(bytes[i]) << 8;
  // Fold early so long payloads cannot overflow 32 bits.
  while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
  return sum;
}

std::uint16_t internet_checksum(std::uint32_t sum) noexcept {
  while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xFFFF);
}

Buffer build_ip_udp_packet(const Datagram& d, std::uint16_t ip_id) {
  Buffer packet;
  ByteWriter w(packet);
  const bool v4 = d.destination.ip().is_v4();
  const auto udp_length = static_cast<std::uint16_t>(8 + d.payload.size());
  if (v4) {
    w.write_u8(0x45);  // version 4, 5-word header
    w.write_u8(0);
    w.write_u16(static_cast<std::uint16_t>(20 + udp_length));
    w.write_u16(ip_id);
    w.write_u16(0x4000);  // don't fragment
    w.write_u8(64);
    w.write_u8(kUdp);
    w.write_u16(0);  // checksum, patched below
    w.write_bytes(d.source.ip().bytes());
    w.write_bytes(d.destination.ip().bytes());
    w.patch_u16(10, internet_checksum(internet_sum(BytesView(packet.data(), 20))));
  } else {
    w.write_u32(0x60000000);  // version 6, no traffic class or flow label
    w.write_u16(udp_length);
    w.write_u8(kUdp);
    w.write_u8(64);
    w.write_bytes(d.source.ip().bytes());
    w.write_bytes(d.destination.ip().bytes());
  }
  const std::size_t udp_at = packet.size();
  w.write_u16(d.source.port());
  w.write_u16(d.destination.port());
  w.write_u16(udp_length);
  w.write_u16(0);
  w.write_bytes(d.payload);
  // Pseudo-header: addresses, protocol, UDP length (the same sum for both families).
  std::uint32_t sum = internet_sum(d.source.ip().bytes());
  sum = internet_sum(d.destination.ip().bytes(), sum);
  sum += kUdp + udp_length;
  sum = internet_sum(BytesView(packet.data() + udp_at, packet.size() - udp_at), sum);
  std::uint16_t checksum = internet_checksum(sum);
  if (checksum == 0) checksum = 0xFFFF;  // zero means "no checksum" (and is illegal in IPv6)
  w.patch_u16(udp_at + 6, checksum);
  return packet;
}

PcapWriter::~PcapWriter() {
  close();
}

bool PcapWriter::open(const std::string& path) {
  close();
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) return false;
  std::uint8_t header[24];
  put_le32(header, kPcapMagic);
  header[4] = 2;  // version 2.4 as two little-endian u16
  header[5] = 0;
  header[6] = 4;
  header[7] = 0;
  put_le32(header + 8, 0);   // thiszone
  put_le32(header + 12, 0);  // sigfigs
  put_le32(header + 16, 65535);
  put_le32(header + 20, kLinktypeRaw);
  std::fwrite(header, 1, sizeof header, file_);
  packets_ = 0;
  return true;
}

void PcapWriter::write(Timestamp at, const Datagram& d) {
  if (file_ == nullptr) return;
  const Buffer packet = build_ip_udp_packet(d, static_cast<std::uint16_t>(packets_));
  std::uint8_t record[16];
  put_le32(record, static_cast<std::uint32_t>(at.us() / 1000000));
  put_le32(record + 4, static_cast<std::uint32_t>(at.us() % 1000000));
  put_le32(record + 8, static_cast<std::uint32_t>(packet.size()));
  put_le32(record + 12, static_cast<std::uint32_t>(packet.size()));
  std::fwrite(record, 1, sizeof record, file_);
  std::fwrite(packet.data(), 1, packet.size(), file_);
  ++packets_;
}

void PcapWriter::close() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
}

}  // namespace rtcpp::sim
