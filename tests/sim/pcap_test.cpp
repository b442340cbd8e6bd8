// pcap capture: the file read back record by record, headers and checksums verified.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "demo.hpp"
#include "sim_test_util.hpp"

namespace rtcpp::sim {
namespace {

using testing::kIpA;
using testing::Probe;

std::uint32_t le32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
         static_cast<std::uint32_t>(b[at + 2]) << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}
std::uint16_t be16(BytesView b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}

struct Captured {
  Timestamp at;
  Datagram datagram;
};

// Parses a capture, checking every structural rule on the way; fails the test on any error.
std::vector<Captured> read_pcap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<std::uint8_t> file((std::istreambuf_iterator<char>(in)),
                                       std::istreambuf_iterator<char>());
  std::vector<Captured> out;
  EXPECT_GE(file.size(), 24u);
  if (file.size() < 24) return out;
  EXPECT_EQ(le32(file, 0), kPcapMagic);
  EXPECT_EQ(le32(file, 4), 0x00040002u);  // version 2.4
  EXPECT_EQ(le32(file, 16), 65535u);
  EXPECT_EQ(le32(file, 20), kLinktypeRaw);
  std::size_t at = 24;
  while (at < file.size()) {
    EXPECT_LE(at + 16, file.size());
    if (at + 16 > file.size()) break;
    const std::uint32_t sec = le32(file, at);
    const std::uint32_t usec = le32(file, at + 4);
    const std::uint32_t incl = le32(file, at + 8);
    EXPECT_EQ(le32(file, at + 12), incl);
    EXPECT_LT(usec, 1000000u);
    at += 16;
    EXPECT_LE(at + incl, file.size());
    if (at + incl > file.size()) break;
    const BytesView p(file.data() + at, incl);
    at += incl;

    const bool v4 = (p[0] >> 4) == 4;
    EXPECT_TRUE(v4 || (p[0] >> 4) == 6);
    const std::size_t ip_len = v4 ? 20 : 40;
    std::uint32_t pseudo = 0;
    if (v4) {
      EXPECT_EQ(p[0], 0x45);
      EXPECT_EQ(be16(p, 2), incl);                                      // total length
      EXPECT_EQ(p[9], 17);                                              // UDP
      EXPECT_EQ(internet_checksum(internet_sum(p.subspan(0, 20))), 0);  // header checksum
      pseudo = internet_sum(p.subspan(12, 8));
    } else {
      EXPECT_EQ(be16(p, 4), incl - 40);  // payload length
      EXPECT_EQ(p[6], 17);
      pseudo = internet_sum(p.subspan(8, 32));
    }
    const BytesView udp = p.subspan(ip_len);
    EXPECT_EQ(be16(udp, 4), udp.size());
    EXPECT_NE(be16(udp, 6), 0);
    pseudo += 17 + static_cast<std::uint32_t>(udp.size());
    EXPECT_EQ(internet_checksum(internet_sum(udp, pseudo)), 0) << "UDP checksum";

    Captured c;
    c.at = Timestamp::micros(static_cast<std::int64_t>(sec) * 1000000 + usec);
    const auto addr = [&](std::size_t offset) {
      if (v4)
        return IpAddress::v4(static_cast<std::uint32_t>(be16(p, offset)) << 16 |
                             be16(p, offset + 2));
      std::array<std::uint8_t, 16> bytes{};
      std::copy(p.begin() + static_cast<std::ptrdiff_t>(offset),
                p.begin() + static_cast<std::ptrdiff_t>(offset + 16), bytes.begin());
      return IpAddress::v6(bytes);
    };
    c.datagram.source = SocketAddress(addr(v4 ? 12 : 8), be16(udp, 0));
    c.datagram.destination = SocketAddress(addr(v4 ? 16 : 24), be16(udp, 2));
    c.datagram.payload = Buffer(udp.subspan(8));
    out.push_back(std::move(c));
  }
  return out;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (name + "-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
           ".pcap"))
      .string();
}

TEST(SimPcap, CapturesDeliveredDatagramsWithPostNatAddresses) {
  const std::string path = temp_path("rtcpp-sim-nat");
  Network net(1);
  ASSERT_TRUE(net.start_pcap(path));
  const IpAddress nat_ip = IpAddress::v4(203, 0, 113, 1);
  const auto nat = net.add_nat(nat_presets::full_cone(nat_ip));
  const SocketAddress inside(IpAddress::v4(10, 0, 0, 2), 5000);
  const SocketAddress server_addr(kIpA, 3478);
  LinkConfig link;
  link.delay = Duration::micros(1500);
  net.set_default_link(link);
  Probe client(inside), server(server_addr);
  server.echo = true;
  SansIoNode<Probe> nc(client), ns(server);
  net.bind(net.add_host({inside.ip()}, nat), inside, nc);
  net.bind(net.add_host({kIpA}), server_addr, ns);
  client.start(server_addr, 5, Duration::millis(10), net.now());
  net.wake(nc);
  net.run_for(Duration::seconds(1));
  net.stop_pcap();
  ASSERT_EQ(net.pcap_packets(), 10u);

  const std::vector<Captured> records = read_pcap(path);
  ASSERT_EQ(records.size(), 10u);
  // Request (as the server sees it), then the echo (as the client sees it), five times.
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Datagram& d = records[i].datagram;
    if (i % 2 == 0) {
      EXPECT_EQ(d.source, SocketAddress(nat_ip, 49152));
      EXPECT_EQ(d.destination, server_addr);
    } else {
      EXPECT_EQ(d.source, server_addr);
      EXPECT_EQ(d.destination, inside);  // after the NAT translated it back
    }
    EXPECT_EQ(d.payload.size(), 100u);
  }
  // Timestamps are the virtual clock: first delivery after 3 link crossings of 1.5 ms.
  EXPECT_EQ(records[0].at, Network::kOrigin + Duration::micros(4500));
  EXPECT_EQ(records[1].at, Network::kOrigin + Duration::micros(9000));
  EXPECT_EQ(records[2].at, Network::kOrigin + Duration::micros(14500));
  std::filesystem::remove(path);
}

TEST(SimPcap, Ipv6DatagramsAndOddLengths) {
  const std::string path = temp_path("rtcpp-sim-v6");
  const IpAddress a = *IpAddress::parse("2001:db8::1");
  const IpAddress b = *IpAddress::parse("2001:db8:ffff::2");
  Network net(2);
  ASSERT_TRUE(net.start_pcap(path));
  const auto ha = net.add_host({a});
  const auto hb = net.add_host({b});
  Probe pa({a, 1}), pb({b, 65535});
  SansIoNode<Probe> na(pa), nb(pb);
  net.bind(ha, {a, 1}, na);
  net.bind(hb, {b, 65535}, nb);
  for (std::size_t size : {12, 13, 999, 1400}) pa.send_now({b, 65535}, net.now(), size);
  net.wake(na);
  net.run_for(Duration::millis(1));
  net.stop_pcap();
  const std::vector<Captured> records = read_pcap(path);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].datagram.source, SocketAddress(a, 1));
  EXPECT_EQ(records[0].datagram.destination, SocketAddress(b, 65535));
  EXPECT_EQ(records[1].datagram.payload.size(), 13u);
  EXPECT_EQ(records[3].datagram.payload.size(), 1400u);
  std::filesystem::remove(path);
}

TEST(SimPcap, KnownChecksums) {
  // An IPv4 UDP packet whose checksums were worked out by hand from RFC 768 / RFC 791.
  Datagram d{SocketAddress(IpAddress::v4(192, 0, 2, 1), 1234),
             SocketAddress(IpAddress::v4(192, 0, 2, 2), 80), Buffer{0x61, 0x62, 0x63}};
  const Buffer p = build_ip_udp_packet(d, 7);
  ASSERT_EQ(p.size(), 31u);
  EXPECT_EQ(be16(p, 2), 31);
  EXPECT_EQ(be16(p, 4), 7);
  // Header words 4500 001f 0007 4000 4011 0000 c000 0201 c000 0202 sum to 0x2493a;
  // folded 0x493c, inverted 0xb6c3.
  EXPECT_EQ(be16(p, 10), 0xb6c3);
  // UDP: pseudo-header c000 0201 c000 0202 0011 000b, header 04d2 0050 000b 0000, data
  // 6162 6300 sum to 0x24dae; folded 0x4db0, inverted 0xb24f.
  EXPECT_EQ(be16(p, 26), 0xb24f);
}

TEST(SimPcap, DemoCaptureMatchesItsDeliveries) {
  const std::string path = temp_path("rtcpp-sim-demo");
  DemoOptions options;
  options.packets = 40;
  options.pcap_path = path;
  const DemoReport r = run_demo_scenario(options);
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.pcap_packets, r.delivered);
  EXPECT_EQ(read_pcap(path).size(), r.delivered);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace rtcpp::sim
