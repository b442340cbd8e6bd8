// The codec-independent parts of frame assembly, over a format made for the test: byte 0 of
// each payload says where it sits (0 unknown, 1 start, 2 continue), 0x80 marks a key frame's
// first packet and 0x40 a packet the format refuses to join. The VP8 assembly tests
// (vp8_test.cpp) cover ordering, reordering and loss with a real format.
#include "rtp/frame_assembler.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rtcpp::rtp {
namespace {

constexpr std::uint8_t kUnknown = 0;
constexpr std::uint8_t kStart = 1;
constexpr std::uint8_t kContinue = 2;
constexpr std::uint8_t kKey = 0x80;
constexpr std::uint8_t kBroken = 0x40;

class TestFormat final : public PayloadFormat {
 public:
  Expected<FramePosition, PayloadError> inspect(BytesView payload) const override {
    if (payload.empty()) return PayloadError::kEmpty;
    switch (payload[0] & 0x0F) {
      case kUnknown:
        return FramePosition::kUnknown;
      case kStart:
        return FramePosition::kStart;
      case kContinue:
        return FramePosition::kContinue;
      default:
        return PayloadError::kMalformed;
    }
  }
  Expected<AssembledFrameInfo, PayloadError> assemble(std::span<const BytesView> payloads,
                                                      Buffer& frame) const override {
    for (const BytesView payload : payloads) {
      if ((payload[0] & kBroken) != 0) return PayloadError::kBrokenFrame;
      frame.append(payload.subspan(1));
    }
    AssembledFrameInfo info;
    info.key_frame = (payloads.front()[0] & kKey) != 0;
    return info;
  }
};

struct Packet {
  std::uint16_t sequence;
  std::uint32_t timestamp;
  bool marker;
  std::uint8_t flags;
};

FrameAssembler make_assembler(FrameAssemblerConfig config = {}) {
  return FrameAssembler(std::make_unique<TestFormat>(), config);
}

void insert(FrameAssembler& assembler, const Packet& p) {
  const Buffer payload{p.flags, static_cast<std::uint8_t>(p.sequence)};
  EXPECT_TRUE(assembler.insert(p.sequence, p.timestamp, p.marker, payload));
}

// The RTP timestamps of the frames delivered so far.
std::vector<std::uint32_t> delivered(FrameAssembler& assembler) {
  std::vector<std::uint32_t> timestamps;
  while (auto frame = assembler.poll_frame()) timestamps.push_back(frame->rtp_timestamp);
  return timestamps;
}

TEST(FrameAssembler, FramesWithoutStartMarksBeginAfterTheMarker) {
  auto a = make_assembler();
  insert(a, {10, 100, false, kStart | kKey});
  insert(a, {11, 100, true, kUnknown});
  insert(a, {12, 200, false, kUnknown});  // starts: the packet before ends a frame
  insert(a, {13, 200, true, kUnknown});
  insert(a, {14, 300, true, kUnknown});
  EXPECT_EQ(delivered(a), (std::vector<std::uint32_t>{100, 200, 300}));
}

TEST(FrameAssembler, ATimestampChangeStartsAFrameWhoseMarkerWasLost) {
  auto a = make_assembler();
  insert(a, {1, 100, true, kStart | kKey});
  insert(a, {2, 200, false, kUnknown});  // the frame at 200 lost its marker packet...
  insert(a, {3, 300, true, kUnknown});   // ...so this one starts where the timestamp changes
  EXPECT_EQ(delivered(a), (std::vector<std::uint32_t>{100}));
  // The frame at 300 follows a broken one; it waits, then counts as undecodable.
  insert(a, {4, 400, true, kUnknown});
  insert(a, {5, 500, true, kUnknown});
  EXPECT_EQ(delivered(a), std::vector<std::uint32_t>{});
  EXPECT_TRUE(a.waiting_for_key_frame());
  insert(a, {6, 600, true, kUnknown | kKey});
  EXPECT_EQ(delivered(a), (std::vector<std::uint32_t>{600}));
}

TEST(FrameAssembler, AfterALossAFrameWhoseStartCannotBeToldIsDropped) {
  auto a = make_assembler();
  insert(a, {1, 100, true, kStart | kKey});
  insert(a, {2, 200, false, kUnknown});
  // 3 (200, marker) is lost: whether 4 starts a frame cannot be told.
  insert(a, {4, 300, true, kUnknown | kKey});
  insert(a, {5, 400, true, kUnknown});
  insert(a, {6, 500, true, kUnknown});
  EXPECT_EQ(delivered(a), (std::vector<std::uint32_t>{100}));
  EXPECT_TRUE(a.waiting_for_key_frame());
  EXPECT_EQ(a.stats().frames_dropped, 4u);  // 200 (incomplete), 300 (start unknown), 400, 500
  insert(a, {7, 700, true, kStart | kKey});
  insert(a, {8, 800, true, kUnknown});
  EXPECT_EQ(delivered(a), (std::vector<std::uint32_t>{700, 800}));
}

TEST(FrameAssembler, AStreamJoinedWithoutStartMarksRecoversAtAKeyFrame) {
  auto a = make_assembler();
  // The first packets seen: nothing says whether 20 starts its frame.
  insert(a, {20, 100, true, kUnknown | kKey});
  insert(a, {21, 200, true, kUnknown});
  EXPECT_EQ(delivered(a), std::vector<std::uint32_t>{});
  insert(a, {22, 300, true, kUnknown});
  EXPECT_EQ(delivered(a), std::vector<std::uint32_t>{});
  EXPECT_TRUE(a.waiting_for_key_frame());
  insert(a, {23, 400, false, kUnknown | kKey});
  insert(a, {24, 400, true, kContinue});
  EXPECT_EQ(delivered(a), (std::vector<std::uint32_t>{400}));
}

TEST(FrameAssembler, AFrameTheFormatCannotJoinIsDroppedAndAKeyFrameAwaited) {
  auto a = make_assembler();
  insert(a, {1, 100, true, kStart | kKey});
  insert(a, {2, 200, false, kStart});
  insert(a, {3, 200, true, kContinue | kBroken});
  insert(a, {4, 300, true, kStart});
  EXPECT_EQ(delivered(a), (std::vector<std::uint32_t>{100}));
  EXPECT_EQ(a.stats().frames_broken, 1u);
  EXPECT_TRUE(a.waiting_for_key_frame());
  insert(a, {5, 500, true, kStart | kKey});
  EXPECT_EQ(delivered(a), (std::vector<std::uint32_t>{500}));
}

TEST(FrameAssembler, RefusedPayloadsChangeNothing) {
  auto a = make_assembler();
  EXPECT_EQ(a.insert(1, 0, true, BytesView{}).error(), PayloadError::kEmpty);
  EXPECT_EQ(a.insert(2, 0, true, Buffer{0x0F}).error(), PayloadError::kMalformed);
  EXPECT_EQ(a.stats().packets_rejected, 2u);
  insert(a, {1, 100, true, kStart | kKey});
  EXPECT_EQ(delivered(a), (std::vector<std::uint32_t>{100}));
}

TEST(FrameAssembler, ASequenceJumpBeyondTheWindowDropsWhatIsHeld) {
  FrameAssemblerConfig config;
  config.max_pending_packets = 8;
  auto a = make_assembler(config);
  insert(a, {1, 100, true, kStart | kKey});
  insert(a, {2, 200, false, kStart});
  insert(a, {3, 200, false, kContinue});
  insert(a, {40, 900, true, kStart | kKey});
  EXPECT_EQ(delivered(a), (std::vector<std::uint32_t>{100, 900}));
  EXPECT_EQ(a.stats().frames_dropped, 1u);
  // A packet from before the window is late.
  insert(a, {4, 200, true, kContinue});
  EXPECT_EQ(a.stats().packets_late, 1u);
}

TEST(FrameAssembler, ReorderedUnknownStartsWaitForTheirPredecessor) {
  auto a = make_assembler();
  insert(a, {1, 100, true, kStart | kKey});
  insert(a, {3, 300, true, kUnknown});  // before 2 arrives, 3's start is unknown
  EXPECT_EQ(delivered(a), (std::vector<std::uint32_t>{100}));
  insert(a, {2, 200, true, kUnknown});
  EXPECT_EQ(delivered(a), (std::vector<std::uint32_t>{200, 300}));
  EXPECT_EQ(a.stats().frames_dropped, 0u);
}

// With a bound in media time (a receiver asking for missing packets), the wait behind a gap
// is the same at any frame rate: here 100 ms of the 90 kHz clock.
TEST(FrameAssembler, AGapWaitsInMediaTimeWhereABoundIsSet) {
  FrameAssemblerConfig config;
  config.max_frames_behind_gap = 60;
  config.max_wait_behind_gap = 9000;
  // Two-packet frames from sequence number `first`, the first frame a key frame; `skip` is a
  // packet never inserted.
  const auto run = [&](std::uint32_t spacing, int frames, std::uint16_t skip,
                       std::vector<bool>* waiting) {
    FrameAssembler assembler = make_assembler(config);
    for (int f = 0; f < frames; ++f) {
      const auto sequence = static_cast<std::uint16_t>(2 * f);
      const auto timestamp = static_cast<std::uint32_t>(f) * spacing;
      const std::uint8_t start = f == 0 ? kStart | kKey : kStart;
      if (sequence != skip) insert(assembler, {sequence, timestamp, false, start});
      if (sequence + 1 != skip) {
        insert(assembler, {static_cast<std::uint16_t>(sequence + 1), timestamp, true, kContinue});
      }
      waiting->push_back(assembler.waiting_for_key_frame());
    }
    return delivered(assembler).size();
  };
  // 30 fps: the frame missing packet 3 (at 3000) holds back those at 6000-12000; the one at
  // 15000 is more than 9000 after it, and the packet is lost.
  std::vector<bool> waiting;
  EXPECT_EQ(run(3000, 6, 3, &waiting), 1u);
  EXPECT_EQ(waiting, (std::vector<bool>{false, false, false, false, false, true}));
  // 5 fps: the first frame after the one with the gap is already past the bound.
  waiting.clear();
  EXPECT_EQ(run(18000, 3, 3, &waiting), 1u);
  EXPECT_EQ(waiting, (std::vector<bool>{false, false, true}));
  // Counted in frames alone (the default of 2), 30 fps would have given up at the fourth.
  config.max_wait_behind_gap = 0;
  config.max_frames_behind_gap = 2;
  waiting.clear();
  run(3000, 6, 3, &waiting);
  EXPECT_EQ(waiting, (std::vector<bool>{false, false, false, false, true, true}));
}

TEST(FrameAssembler, AGapFilledWithinTheWaitDeliversEverything) {
  FrameAssemblerConfig config;
  config.max_frames_behind_gap = 60;
  config.max_wait_behind_gap = 9000;
  FrameAssembler assembler = make_assembler(config);
  insert(assembler, {0, 0, false, kStart | kKey});
  insert(assembler, {1, 0, true, kContinue});
  insert(assembler, {2, 3000, false, kStart});
  for (std::uint16_t s = 4; s < 10; s += 2) {
    insert(assembler, {s, s * 1500u, false, kStart});
    insert(assembler, {static_cast<std::uint16_t>(s + 1), s * 1500u, true, kContinue});
  }
  EXPECT_EQ(delivered(assembler).size(), 1u);
  insert(assembler, {3, 3000, true, kContinue});  // the retransmission, 9000 ticks later
  EXPECT_EQ(delivered(assembler).size(), 4u);
  EXPECT_FALSE(assembler.waiting_for_key_frame());
  EXPECT_EQ(assembler.stats().frames_dropped, 0u);
}

}  // namespace
}  // namespace rtcpp::rtp
