// Two associations moving messages in one process make no heap allocation per packet once
// warmed up, when driven through the allocation-free calls (poll_transmit(Buffer&),
// recycle_buffer()), or with the delivered messages dropped (the per-thread packet and message
// blocks, base/packet_pool.hpp). A program of its own: it replaces the global operator new to
// count.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "base/random.hpp"
#include "sctp/association.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define RTCPP_COUNT_ALLOCATIONS 0  // the sanitizer's allocator stays in place
#else
#define RTCPP_COUNT_ALLOCATIONS 1
#endif

namespace {
std::atomic<std::uint64_t> g_allocations{0};
std::atomic<std::uint64_t> g_allocated_bytes{0};
}  // namespace

#if RTCPP_COUNT_ALLOCATIONS
// GCC takes free() on what operator new returned for a mismatch; here both are malloc's.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  g_allocated_bytes.fetch_add(size, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#endif

namespace rtcpp::sctp {
namespace {

// Zero checksums (the default), with I-DATA (the default) or DATA (what browsers use).
struct TransferParams {
  std::size_t message_size;
  int streams;
  bool interleaving = true;
  // Whether each delivered message's buffer goes back to the association; when not, it is
  // dropped, as the peer connection does, and the thread's message blocks are what recycle it.
  bool recycle = true;
};

SctpConfig config_for(const TransferParams& params) {
  SctpConfig config;
  config.interleaving = params.interleaving;
  return config;
}

class SctpAllocation : public ::testing::TestWithParam<TransferParams> {
 protected:
  SctpAllocation() : a_(config_, rng_), b_(config_, rng_) {}

  void pump() {
    bool moved = true;
    while (moved) {
      moved = false;
      while (a_.poll_transmit(packet_)) {
        b_.handle_packet(packet_, now_);
        moved = true;
      }
      while (b_.poll_transmit(packet_)) {
        a_.handle_packet(packet_, now_);
        moved = true;
      }
    }
  }

  // Sends `count` messages, keeping 16 queued or unacknowledged, each filled with its number;
  // checks every one delivered against what was sent (a comparison that allocates nothing).
  void transfer(int count) {
    const std::size_t size = GetParam().message_size;
    int sent = 0;
    int received = 0;
    while (received < count) {
      while (sent < count && a_.total_buffered() < 16 * size) {
        const std::uint16_t stream = static_cast<std::uint16_t>(next_send_ % GetParam().streams);
        std::fill(message_.begin(), message_.end(), static_cast<std::uint8_t>(next_send_));
        ASSERT_TRUE(a_.send(stream, 53, message_));
        ++next_send_;
        ++sent;
      }
      pump();
      now_ += Duration::millis(1);
      a_.handle_timeout(now_);
      b_.handle_timeout(now_);
      pump();
      while (auto e = b_.poll_event()) {
        auto* m = std::get_if<SctpMessage>(&*e);
        ASSERT_NE(m, nullptr);
        ASSERT_EQ(m->data.size(), size);
        // One stream: in send order. Several: in order per stream.
        const auto first = m->data[0];
        ASSERT_TRUE(std::all_of(m->data.begin(), m->data.end(),
                                [&](std::uint8_t byte) { return byte == first; }));
        if (GetParam().streams == 1) {
          ASSERT_EQ(first, static_cast<std::uint8_t>(next_receive_));
        }
        ++next_receive_;
        ++received;
        if (GetParam().recycle) b_.recycle_buffer(std::move(m->data));
      }
    }
    // The last SACK may wait for the delayed-ack timer: let it come, so that every transfer
    // starts with nothing unacknowledged (otherwise the measured one starts with more messages
    // alive than the warm-up ever had, and their slots are growth, not per-packet allocation).
    for (int ms = 0; ms < 1000 && a_.total_buffered() > 0; ++ms) {
      now_ += Duration::millis(1);
      b_.handle_timeout(now_);
      a_.handle_timeout(now_);
      pump();
    }
    ASSERT_EQ(a_.total_buffered(), 0u);
  }

  SeededRandom rng_{7};
  SctpConfig config_ = config_for(GetParam());
  SctpAssociation a_;
  SctpAssociation b_;
  Timestamp now_ = Timestamp::seconds(1);
  Buffer packet_;
  Buffer message_ = Buffer(GetParam().message_size);
  std::uint64_t next_send_ = 0;
  std::uint64_t next_receive_ = 0;
};

TEST_P(SctpAllocation, NoHeapAllocationPerPacketInSteadyState) {
  if (!RTCPP_COUNT_ALLOCATIONS) GTEST_SKIP() << "allocations are not counted under sanitizers";
  a_.connect(now_);
  b_.connect(now_);
  pump();
  ASSERT_EQ(a_.state(), SctpAssociation::State::kEstablished);
  ASSERT_EQ(a_.interleaving(), GetParam().interleaving);
  while (b_.poll_event()) {
  }
  // Warm-up: the queues and pools grow to their working sizes.
  transfer(1000);
  const std::uint64_t packets_before = a_.packets_sent() + b_.packets_sent();
  const std::uint64_t allocations_before = g_allocations.load();
  transfer(1000);
  const std::uint64_t allocations = g_allocations.load() - allocations_before;
  const std::uint64_t packets = a_.packets_sent() + b_.packets_sent() - packets_before;
  EXPECT_GT(packets, 400u);
  EXPECT_EQ(allocations, 0u) << "over " << packets << " packets";
}

// What a connection costs at rest: two associations of the default config (65535 streams
// each way, as WebRTC negotiates), connected, one small message each way, as a data channel's
// open leaves them. Per-stream state is kept for the streams in use, not all 65535.
TEST(SctpMemory, AnIdleAssociationIsSmall) {
  if (!RTCPP_COUNT_ALLOCATIONS) GTEST_SKIP() << "allocations are not counted under sanitizers";
  SeededRandom rng(3);
  const SctpConfig config;
  ASSERT_EQ(config.streams, 65535);
  const std::uint64_t bytes_before = g_allocated_bytes.load();
  {
    SctpAssociation a(config, rng);
    SctpAssociation b(config, rng);
    Timestamp now = Timestamp::seconds(1);
    Buffer packet;
    auto pump = [&] {
      for (int i = 0; i < 8; ++i) {
        while (a.poll_transmit(packet)) b.handle_packet(packet, now);
        while (b.poll_transmit(packet)) a.handle_packet(packet, now);
      }
    };
    a.connect(now);
    b.connect(now);
    pump();
    ASSERT_EQ(a.state(), SctpAssociation::State::kEstablished);
    const Buffer message(100);
    ASSERT_TRUE(a.send(1, 50, message));
    ASSERT_TRUE(b.send(1, 50, message));
    pump();
    int delivered = 0;
    while (auto e = a.poll_event()) delivered += std::holds_alternative<SctpMessage>(*e);
    while (auto e = b.poll_event()) delivered += std::holds_alternative<SctpMessage>(*e);
    EXPECT_EQ(delivered, 2);
    // Everything allocated on the way, freed or not, for both ends.
    const std::uint64_t bytes = g_allocated_bytes.load() - bytes_before;
    EXPECT_LT(bytes, 2 * 32 * 1024u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, SctpAllocation,
    ::testing::Values(TransferParams{65536, 1}, TransferParams{1024, 1}, TransferParams{65536, 4},
                      TransferParams{65536, 1, false}, TransferParams{1024, 1, false},
                      TransferParams{65536, 4, false}, TransferParams{1200, 3},
                      TransferParams{1200, 3, false}, TransferParams{65536, 1, true, false},
                      TransferParams{65536, 1, false, false},
                      TransferParams{1024, 1, false, false}),
    [](const ::testing::TestParamInfo<TransferParams>& param_info) {
      return std::to_string(param_info.param.message_size) + "B_" +
             std::to_string(param_info.param.streams) + "streams_" +
             (param_info.param.interleaving ? "IDATA" : "DATA") +
             (param_info.param.recycle ? "" : "_dropped");
    });

}  // namespace
}  // namespace rtcpp::sctp
