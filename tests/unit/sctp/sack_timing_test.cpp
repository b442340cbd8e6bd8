// When SACKs are sent and what the sender expects of them: the I bit (RFC 9260 3.3.1 and
// 6.2, from RFC 7053) on the last DATA before the sender goes quiet, the receiver honouring
// it, and an RTO that leaves room for a peer that delays its SACK anyway.
#include <gtest/gtest.h>

#include <vector>

#include "base/random.hpp"
#include "sctp/association.hpp"

namespace rtcpp::sctp {
namespace {

constexpr std::uint8_t kImmediate = DataChunk::kFlagImmediate;

bool is_data(const ChunkView& chunk) {
  return chunk.type == chunk_type::kData || chunk.type == chunk_type::kIData;
}

bool has_sack(const Buffer& packet) {
  auto parsed = parse_packet(packet.view(), ChecksumMode::kSkip);
  if (!parsed) return false;
  for (const auto& chunk : parsed->chunks) {
    if (chunk.type == chunk_type::kSack) return true;
  }
  return false;
}

// The flags of every DATA / I-DATA chunk of the packets, in order.
std::vector<std::uint8_t> data_flags(const std::vector<Buffer>& packets) {
  std::vector<std::uint8_t> flags;
  for (const auto& packet : packets) {
    auto parsed = parse_packet(packet.view(), ChecksumMode::kSkip);
    EXPECT_TRUE(parsed.has_value());
    if (!parsed) continue;
    for (const auto& chunk : parsed->chunks) {
      if (is_data(chunk)) flags.push_back(chunk.flags);
    }
  }
  return flags;
}

// Clears the I bit of every DATA chunk: a peer that does not set it. The checksum is zero
// (RFC 9653, negotiated between two rtcpp ends), so the packet stays valid.
void clear_immediate(Buffer& packet) {
  std::size_t at = 12;
  while (at + 4 <= packet.size()) {
    const std::size_t length = (std::size_t{packet[at + 2]} << 8) | packet[at + 3];
    if (packet[at] == chunk_type::kData || packet[at] == chunk_type::kIData)
      packet[at + 1] &= static_cast<std::uint8_t>(~kImmediate);
    if (length < 4) break;
    at += (length + 3) & ~std::size_t{3};
  }
}

class SctpSackTiming : public ::testing::TestWithParam<bool> {
 protected:
  SctpSackTiming() : a_(config(), rng_), b_(config(), rng_) {}

  static SctpConfig config() {
    SctpConfig c;
    c.interleaving = GetParam();
    c.zero_checksum = true;  // connect() checks that it is used
    return c;
  }

  // Delivers everything both ends have to send until neither has more, with no delay.
  void pump() {
    bool moved = true;
    while (moved) {
      moved = false;
      while (auto p = a_.poll_transmit()) {
        b_.handle_packet(*p, now_);
        moved = true;
      }
      while (auto p = b_.poll_transmit()) {
        a_.handle_packet(*p, now_);
        moved = true;
      }
    }
  }

  void connect() {
    a_.connect(now_);
    b_.connect(now_);
    pump();
    ASSERT_EQ(a_.state(), SctpAssociation::State::kEstablished);
    ASSERT_EQ(b_.state(), SctpAssociation::State::kEstablished);
    ASSERT_TRUE(a_.zero_checksum());
  }

  std::vector<Buffer> packets_of(SctpAssociation& s) {
    std::vector<Buffer> out;
    while (auto p = s.poll_transmit()) out.push_back(std::move(*p));
    return out;
  }

  SeededRandom rng_{11};
  SctpAssociation a_;
  SctpAssociation b_;
  Timestamp now_ = Timestamp::seconds(1);
};

TEST_P(SctpSackTiming, LastDataBeforeGoingQuietAsksForItsSack) {
  connect();
  // Three packets' worth: only the last chunk of the last packet carries the I bit.
  ASSERT_TRUE(a_.send(0, 53, Buffer(3000)));
  auto packets = packets_of(a_);
  ASSERT_EQ(packets.size(), 3u);
  const auto flags = data_flags(packets);
  ASSERT_EQ(flags.size(), 3u);
  EXPECT_EQ(flags[0] & kImmediate, 0);
  EXPECT_EQ(flags[1] & kImmediate, 0);
  EXPECT_EQ(flags[2] & kImmediate, kImmediate);
  // The receiver answers the third packet at once instead of holding it for 200 ms.
  b_.handle_packet(packets[0], now_);
  b_.handle_packet(packets[1], now_);
  auto sack = b_.poll_transmit();  // every second packet
  ASSERT_TRUE(sack && has_sack(*sack));
  b_.handle_packet(packets[2], now_);
  sack = b_.poll_transmit();
  ASSERT_TRUE(sack && has_sack(*sack));
  a_.handle_packet(*sack, now_);
  EXPECT_EQ(a_.total_buffered(), 0u);
}

TEST_P(SctpSackTiming, DataThatFillsTheCongestionWindowAsksForItsSack) {
  connect();
  // More than the initial congestion window: the packet that fills it is marked, the ones
  // before it are not.
  ASSERT_TRUE(a_.send(0, 53, Buffer(64 * 1024)));
  auto packets = packets_of(a_);
  ASSERT_GT(packets.size(), 1u);
  EXPECT_GT(a_.total_buffered(), 0u);  // more waits for the window
  const auto flags = data_flags(packets);
  for (std::size_t i = 0; i + 1 < flags.size(); ++i) EXPECT_EQ(flags[i] & kImmediate, 0) << i;
  EXPECT_EQ(flags.back() & kImmediate, kImmediate);
}

TEST_P(SctpSackTiming, WithoutTheIBitTheSackWaitsForTheDelayedAckTimer) {
  connect();
  ASSERT_TRUE(a_.send(0, 53, Buffer(100)));
  auto packets = packets_of(a_);
  ASSERT_EQ(packets.size(), 1u);
  clear_immediate(packets[0]);
  EXPECT_EQ(data_flags(packets)[0] & kImmediate, 0);
  b_.handle_packet(packets[0], now_);
  EXPECT_FALSE(b_.poll_transmit().has_value());
  now_ += Duration::millis(199);
  b_.handle_timeout(now_);
  EXPECT_FALSE(b_.poll_transmit().has_value());
  now_ += Duration::millis(1);
  b_.handle_timeout(now_);
  auto sack = b_.poll_transmit();
  ASSERT_TRUE(sack && has_sack(*sack));
}

TEST_P(SctpSackTiming, APeerThatDelaysItsSackCostsOneProbeAndNoTimeout) {
  connect();
  // Round trips of zero time: the RTO keeps room for the peer's delayed-ack time all the same.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(a_.send(0, 53, Buffer(100)));
    pump();
  }
  EXPECT_GE(a_.rto(), Duration::millis(220));
  // A peer that ignores the I bit (or a sender that did not set it) answers after 200 ms.
  ASSERT_TRUE(a_.send(0, 53, Buffer(100)));
  auto packets = packets_of(a_);
  ASSERT_EQ(packets.size(), 1u);
  clear_immediate(packets[0]);
  b_.handle_packet(packets[0], now_);
  for (int ms = 0; ms < 400; ++ms) {
    now_ += Duration::millis(1);
    a_.handle_timeout(now_);
    b_.handle_timeout(now_);
    pump();
  }
  // No T3-rtx: the window is not collapsed for a late SACK. One tail loss probe (RFC 8985 7)
  // went out after 10 ms; a duplicate TSN is SACKed at once by any peer (RFC 9260 6.2), so
  // that one packet is all the delay cost.
  EXPECT_EQ(a_.t3_expiries(), 0u);
  EXPECT_EQ(a_.tail_loss_probes(), 1u);
  EXPECT_EQ(a_.retransmissions(), 1u);
  EXPECT_EQ(a_.total_buffered(), 0u);
}

INSTANTIATE_TEST_SUITE_P(DataAndIData, SctpSackTiming, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "IData" : "Data";
                         });

}  // namespace
}  // namespace rtcpp::sctp
