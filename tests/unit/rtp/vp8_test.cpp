#include "rtp/vp8.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "base/hex.hpp"
#include "common/payloads.hpp"
#include "rtp/frame_assembler.hpp"

namespace rtcpp::rtp {
namespace {

using test_support::packetize_all;

FrameAssembler vp8_assembler(FrameAssemblerConfig config = {}) {
  return FrameAssembler(std::make_unique<Vp8PayloadFormat>(), config);
}

Buffer hex(std::string text) {
  std::erase(text, ' ');
  auto bytes = from_hex(text);
  EXPECT_TRUE(bytes) << text;
  return bytes ? std::move(*bytes) : Buffer{};
}

// A 16x16 key frame and an inter frame as libvpx encodes them (ffmpeg 5.1, black input).
const char* const kKeyFrame = "1002009d012a100010000047088585888584880202000c0d6000feffab5080";
const char* const kInterFrame = "b1010001101000180018582ff400080000";

Buffer write_descriptor(const Vp8PayloadDescriptor& d) {
  Buffer out;
  ByteWriter writer(out);
  EXPECT_TRUE(d.write_to(writer));
  EXPECT_EQ(out.size(), d.size());
  return out;
}

// --- Payload descriptor ------------------------------------------------------------------

TEST(Vp8Descriptor, ChromiumFirstPacket) {
  // X S PID 0 | I | M, PictureID 0x0123, then the key frame.
  const Buffer payload = hex(std::string("90808123") + kKeyFrame);
  auto parsed = parse_vp8_payload(payload);
  ASSERT_TRUE(parsed) << to_string(parsed.error());
  const auto& d = parsed->descriptor;
  EXPECT_TRUE(d.start_of_partition);
  EXPECT_EQ(d.partition_index, 0);
  EXPECT_TRUE(d.starts_frame());
  EXPECT_FALSE(d.non_reference);
  EXPECT_EQ(d.picture_id, 0x0123);
  EXPECT_TRUE(d.long_picture_id);
  EXPECT_FALSE(d.tl0_pic_idx);
  EXPECT_FALSE(d.temporal_id);
  EXPECT_FALSE(d.key_index);
  EXPECT_EQ(to_hex(parsed->data), kKeyFrame);
  EXPECT_EQ(to_hex(write_descriptor(d)), "90808123");
}

TEST(Vp8Descriptor, EveryField) {
  // X N S PID 2 | I L T K | M PictureID 0x1234 | TL0PICIDX 0x56 | TID 2 Y KEYIDX 5 | data.
  const Buffer payload = hex("b2f0923456a5ab");
  auto parsed = parse_vp8_payload(payload);
  ASSERT_TRUE(parsed);
  const auto& d = parsed->descriptor;
  EXPECT_TRUE(d.non_reference);
  EXPECT_TRUE(d.start_of_partition);
  EXPECT_EQ(d.partition_index, 2);
  EXPECT_FALSE(d.starts_frame());
  EXPECT_EQ(d.picture_id, 0x1234);
  EXPECT_EQ(d.tl0_pic_idx, 0x56);
  EXPECT_EQ(d.temporal_id, 2);
  EXPECT_TRUE(d.layer_sync);
  EXPECT_EQ(d.key_index, 5);
  EXPECT_EQ(to_hex(parsed->data), "ab");
  EXPECT_EQ(to_hex(write_descriptor(d)), "b2f0923456a5");
}

TEST(Vp8Descriptor, ShortFormsAndReservedBits) {
  // Without X: one byte. Reserved bits (0x40, 0x08) are ignored.
  const Buffer bare_bytes = hex("58ff");
  auto bare = parse_vp8_payload(bare_bytes);
  ASSERT_TRUE(bare);
  EXPECT_TRUE(bare->descriptor.start_of_partition);
  EXPECT_FALSE(bare->descriptor.picture_id);
  EXPECT_EQ(to_hex(bare->data), "ff");
  EXPECT_EQ(to_hex(write_descriptor(bare->descriptor)), "10");

  // 7-bit PictureID.
  const Buffer short_id_bytes = hex("9080 17 ff");
  auto short_id = parse_vp8_payload(short_id_bytes);
  ASSERT_TRUE(short_id);
  EXPECT_EQ(short_id->descriptor.picture_id, 0x17);
  EXPECT_FALSE(short_id->descriptor.long_picture_id);
  EXPECT_EQ(to_hex(write_descriptor(short_id->descriptor)), "908017");

  // K without T: TID and Y are not read.
  const Buffer key_only_bytes = hex("8010 ff 01");
  auto key_only = parse_vp8_payload(key_only_bytes);
  ASSERT_TRUE(key_only);
  EXPECT_FALSE(key_only->descriptor.temporal_id);
  EXPECT_FALSE(key_only->descriptor.layer_sync);
  EXPECT_EQ(key_only->descriptor.key_index, 31);

  // A PictureID above 127 is written in two bytes whatever M said.
  Vp8PayloadDescriptor d;
  d.picture_id = 200;
  EXPECT_EQ(to_hex(write_descriptor(d)), "808080c8");
}

TEST(Vp8Descriptor, RejectsTruncatedDescriptors) {
  struct Case {
    const char* hex;
    Vp8Error error;
  };
  const Case cases[] = {
      {"", Vp8Error::kEmpty},
      {"80", Vp8Error::kTruncated},          // X without its byte
      {"9080", Vp8Error::kTruncated},        // I without PictureID
      {"908081", Vp8Error::kTruncated},      // M without the second byte
      {"9040", Vp8Error::kTruncated},        // L without TL0PICIDX
      {"9020", Vp8Error::kTruncated},        // T without its byte
      {"9010", Vp8Error::kTruncated},        // K without its byte
      {"90f08123ff", Vp8Error::kTruncated},  // every field, the last one missing
      {"10", Vp8Error::kNoPayload},          // a descriptor and nothing else
      {"90808123", Vp8Error::kNoPayload},
  };
  for (const Case& c : cases) {
    auto parsed = parse_vp8_payload(hex(c.hex));
    ASSERT_FALSE(parsed) << c.hex;
    EXPECT_EQ(parsed.error(), c.error) << c.hex;
  }
}

TEST(Vp8Descriptor, WriterRefusesOutOfRangeFields) {
  Buffer out;
  ByteWriter writer(out);
  Vp8PayloadDescriptor d;
  d.partition_index = 8;
  EXPECT_FALSE(d.write_to(writer));
  d = {};
  d.picture_id = 0x8000;
  EXPECT_FALSE(d.write_to(writer));
  d = {};
  d.temporal_id = 4;
  EXPECT_FALSE(d.write_to(writer));
  d = {};
  d.key_index = 32;
  EXPECT_FALSE(d.write_to(writer));
  EXPECT_TRUE(out.empty());
}

// --- The VP8 frame header ----------------------------------------------------------------

TEST(Vp8FrameHeader, KeyFrame) {
  auto header = parse_vp8_frame_header(hex(kKeyFrame));
  ASSERT_TRUE(header);
  EXPECT_TRUE(header->key_frame);
  EXPECT_TRUE(header->show_frame);
  EXPECT_EQ(header->version, 0);
  EXPECT_EQ(header->width, 16);
  EXPECT_EQ(header->height, 16);
  EXPECT_EQ(header->first_partition_size, 16u);

  // 640x480 with upscaling codes 1 and 2 in the top bits.
  auto scaled = parse_vp8_frame_header(hex("1002009d012a8042e081"));
  ASSERT_TRUE(scaled);
  EXPECT_EQ(scaled->width, 640);
  EXPECT_EQ(scaled->horizontal_scale, 1);
  EXPECT_EQ(scaled->height, 480);
  EXPECT_EQ(scaled->vertical_scale, 2);
}

TEST(Vp8FrameHeader, InterFrameAndErrors) {
  auto inter = parse_vp8_frame_header(hex(kInterFrame));
  ASSERT_TRUE(inter);
  EXPECT_FALSE(inter->key_frame);
  EXPECT_EQ(inter->width, 0);
  EXPECT_EQ(parse_vp8_frame_header(hex("b101")).error(), Vp8Error::kTruncated);
  EXPECT_EQ(parse_vp8_frame_header(hex("1002009d012a1000")).error(), Vp8Error::kTruncated);
  EXPECT_EQ(parse_vp8_frame_header(hex("1002009d012b10001000")).error(), Vp8Error::kBadStartCode);
}

// --- Packetizer --------------------------------------------------------------------------

Buffer pattern_frame(std::size_t size, bool key) {
  Buffer frame(size);
  for (std::size_t i = 0; i < size; ++i) frame[i] = static_cast<std::uint8_t>(i * 7 + 3);
  frame[0] = key ? 0x10 : 0x11;  // the P bit
  return frame;
}

TEST(Vp8Packetizer, SplitsEvenlyWithOnePictureIdPerFrame) {
  Vp8Packetizer packetizer(1200, 0x7ffe);
  const Buffer frame = pattern_frame(2500, true);
  auto payloads = packetize_all(packetizer, frame);
  ASSERT_TRUE(payloads);
  ASSERT_EQ(payloads->size(), 3u);
  // 2500 bytes over 3 packets of at most 1196: 834, 833, 833.
  EXPECT_EQ((*payloads)[0].size(), 4 + 834u);
  EXPECT_EQ((*payloads)[1].size(), 4 + 833u);
  EXPECT_EQ((*payloads)[2].size(), 4 + 833u);
  Buffer joined;
  for (std::size_t i = 0; i < payloads->size(); ++i) {
    auto parsed = parse_vp8_payload((*payloads)[i]);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->descriptor.start_of_partition, i == 0);
    EXPECT_EQ(parsed->descriptor.partition_index, 0);
    EXPECT_EQ(parsed->descriptor.picture_id, 0x7ffe);
    EXPECT_TRUE(parsed->descriptor.long_picture_id);
    joined.append(parsed->data);
  }
  EXPECT_EQ(joined, frame);
  EXPECT_EQ(to_hex(BytesView((*payloads)[0]).first(4)), "9080fffe");

  // The PictureID counts up per frame and wraps at 15 bits.
  EXPECT_EQ(packetizer.next_picture_id(), 0x7fff);
  ASSERT_TRUE(packetize_all(packetizer, frame));
  EXPECT_EQ(packetizer.next_picture_id(), 0);
  auto small = packetize_all(packetizer, hex(kInterFrame));
  ASSERT_TRUE(small);
  ASSERT_EQ(small->size(), 1u);
  EXPECT_EQ(to_hex((*small)[0]), std::string("90808000") + kInterFrame);
}

TEST(Vp8Packetizer, Errors) {
  Vp8Packetizer packetizer(4);
  EXPECT_EQ(packetize_all(packetizer, hex(kKeyFrame)).error(), PayloadError::kNoRoom);
  Vp8Packetizer ok(5);
  EXPECT_EQ(packetize_all(ok, BytesView{}).error(), PayloadError::kEmpty);
  Buffer out;
  EXPECT_EQ(ok.next_payload(out).error(), PayloadError::kNoFrame);
  auto one_byte_each = packetize_all(ok, hex("102030"));
  ASSERT_TRUE(one_byte_each);
  EXPECT_EQ(one_byte_each->size(), 3u);
}

// --- Depacketizer ------------------------------------------------------------------------

struct TestPacket {
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
  bool marker = false;
  Buffer payload;
};

// Packetizes frames onto consecutive sequence numbers, one timestamp per frame.
class Stream {
 public:
  explicit Stream(std::uint16_t first_sequence, std::size_t max_payload = 20)
      : sequence_(first_sequence), packetizer_(max_payload, 100) {}

  std::vector<TestPacket> frame(const Buffer& data) {
    auto payloads = packetize_all(packetizer_, data);
    EXPECT_TRUE(payloads);
    std::vector<TestPacket> packets;
    for (std::size_t i = 0; i < payloads->size(); ++i) {
      packets.push_back(
          {sequence_++, timestamp_, i + 1 == payloads->size(), std::move((*payloads)[i])});
    }
    timestamp_ += 3000;
    return packets;
  }

 private:
  std::uint16_t sequence_;
  std::uint32_t timestamp_ = 90000;
  Vp8Packetizer packetizer_;
};

void insert(FrameAssembler& d, const TestPacket& p) {
  EXPECT_TRUE(d.insert(p.sequence, p.timestamp, p.marker, p.payload));
}
void insert_all(FrameAssembler& d, const std::vector<TestPacket>& packets) {
  for (const auto& p : packets) insert(d, p);
}
std::vector<AssembledFrame> drain(FrameAssembler& d) {
  std::vector<AssembledFrame> frames;
  while (auto f = d.poll_frame()) frames.push_back(std::move(*f));
  return frames;
}

TEST(Vp8Assembly, AssemblesAKeyFrame) {
  Stream stream(1000);
  const Buffer key = pattern_frame(100, true);
  const auto packets = stream.frame(key);
  ASSERT_EQ(packets.size(), 7u);  // 100 bytes, 16 per packet
  FrameAssembler d = vp8_assembler();
  EXPECT_TRUE(d.waiting_for_key_frame());
  for (std::size_t i = 0; i + 1 < packets.size(); ++i) insert(d, packets[i]);
  EXPECT_FALSE(d.poll_frame());  // not before the marker
  insert(d, packets.back());
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, key);
  EXPECT_TRUE(frames[0].key_frame);
  EXPECT_EQ(frames[0].rtp_timestamp, 90000u);
  EXPECT_EQ(frames[0].first_sequence, 1000);
  EXPECT_EQ(frames[0].last_sequence, 1006);
  EXPECT_FALSE(d.waiting_for_key_frame());
  EXPECT_EQ(d.stats().frames_delivered, 1u);
}

TEST(Vp8Assembly, RealFramesInChromiumLayout) {
  Stream stream(7, 1200);
  FrameAssembler d = vp8_assembler();
  insert_all(d, stream.frame(hex(kKeyFrame)));
  insert_all(d, stream.frame(hex(kInterFrame)));
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].key_frame);
  EXPECT_EQ(to_hex(frames[0].data), kKeyFrame);
  EXPECT_FALSE(frames[1].key_frame);
  EXPECT_EQ(to_hex(frames[1].data), kInterFrame);
}

TEST(Vp8Assembly, WaitsForAKeyFrameAtTheStart) {
  Stream stream(1);
  const auto inter = stream.frame(pattern_frame(40, false));
  const auto key = stream.frame(pattern_frame(40, true));
  FrameAssembler d = vp8_assembler();
  insert_all(d, inter);
  EXPECT_FALSE(d.poll_frame());
  EXPECT_TRUE(d.waiting_for_key_frame());
  insert_all(d, key);
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].key_frame);
  EXPECT_EQ(d.stats().frames_dropped, 1u);
}

TEST(Vp8Assembly, ReorderedAndDuplicatedPacketsWithinAFrame) {
  Stream stream(500);
  const Buffer key = pattern_frame(90, true);
  auto packets = stream.frame(key);
  std::reverse(packets.begin(), packets.end());
  FrameAssembler d = vp8_assembler();
  insert_all(d, packets);
  insert(d, packets[2]);  // a duplicate of an already delivered packet
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, key);
  EXPECT_EQ(d.stats().packets_late, 1u);
}

TEST(Vp8Assembly, ReorderingAcrossFramesKeepsTheOrder) {
  Stream stream(10);
  const auto f1 = stream.frame(pattern_frame(40, true));
  const auto f2 = stream.frame(pattern_frame(40, false));
  const auto f3 = stream.frame(pattern_frame(40, false));
  FrameAssembler d = vp8_assembler();
  // f1 lacks its last packet while f2 and f3 complete: both wait behind the gap.
  for (std::size_t i = 0; i + 1 < f1.size(); ++i) insert(d, f1[i]);
  insert_all(d, f2);
  insert_all(d, f3);
  EXPECT_FALSE(d.poll_frame());
  insert(d, f1.back());
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].rtp_timestamp, 90000u);
  EXPECT_EQ(frames[1].rtp_timestamp, 93000u);
  EXPECT_EQ(frames[2].rtp_timestamp, 96000u);
  EXPECT_EQ(d.stats().frames_dropped, 0u);
}

TEST(Vp8Assembly, AFrameWithAHoleIsDroppedAndTheNextKeyFrameRecovers) {
  Stream stream(10);
  const auto f1 = stream.frame(pattern_frame(40, true));
  const auto f2 = stream.frame(pattern_frame(40, false));  // loses a packet
  const auto f3 = stream.frame(pattern_frame(40, false));
  const auto f4 = stream.frame(pattern_frame(40, false));
  const auto f5 = stream.frame(pattern_frame(40, false));
  const auto f6 = stream.frame(pattern_frame(40, true));
  const auto f7 = stream.frame(pattern_frame(40, false));
  FrameAssembler d = vp8_assembler();
  insert_all(d, f1);
  ASSERT_EQ(drain(d).size(), 1u);
  ASSERT_GE(f2.size(), 3u);
  for (std::size_t i = 0; i < f2.size(); ++i) {
    if (i != 1) insert(d, f2[i]);
  }
  insert_all(d, f3);
  insert_all(d, f4);
  EXPECT_FALSE(d.poll_frame());
  EXPECT_FALSE(d.waiting_for_key_frame());  // two frames may still wait behind the gap
  insert_all(d, f5);
  // A third complete frame behind the gap: the packet is lost, f2 to f5 cannot be decoded.
  EXPECT_FALSE(d.poll_frame());
  EXPECT_TRUE(d.waiting_for_key_frame());
  insert(d, f2[1]);  // too late now
  EXPECT_FALSE(d.poll_frame());
  insert_all(d, f6);
  insert_all(d, f7);
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].key_frame);
  EXPECT_EQ(frames[0].rtp_timestamp, f6[0].timestamp);
  EXPECT_EQ(frames[1].rtp_timestamp, f7[0].timestamp);
  EXPECT_FALSE(d.waiting_for_key_frame());
  EXPECT_EQ(d.stats().frames_delivered, 3u);
  EXPECT_EQ(d.stats().frames_dropped, 4u);
  EXPECT_EQ(d.stats().packets_late, 1u);
}

TEST(Vp8Assembly, AKeyFrameBehindAGapWaitsLikeAnyFrame) {
  // f2 loses its first packet. The key frame f3 might be followed by f2's packet still, so it
  // waits behind the gap like any frame; once the gap counts as a loss, f3 recovers.
  Stream stream(10);
  const auto f1 = stream.frame(pattern_frame(40, true));
  const auto f2 = stream.frame(pattern_frame(40, false));
  const auto f3 = stream.frame(pattern_frame(40, true));
  const auto f4 = stream.frame(pattern_frame(40, false));
  const auto f5 = stream.frame(pattern_frame(40, false));
  FrameAssembler d = vp8_assembler();
  insert_all(d, f1);
  for (std::size_t i = 1; i < f2.size(); ++i) insert(d, f2[i]);
  insert_all(d, f3);
  insert_all(d, f4);
  ASSERT_EQ(drain(d).size(), 1u);
  insert_all(d, f5);
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_TRUE(frames[0].key_frame);
  EXPECT_EQ(frames[0].rtp_timestamp, f3[0].timestamp);
  EXPECT_EQ(frames[2].rtp_timestamp, f5[0].timestamp);
  EXPECT_EQ(d.stats().frames_dropped, 1u);
  EXPECT_FALSE(d.waiting_for_key_frame());
}

TEST(Vp8Assembly, LostMarkerPacketThenNewStart) {
  // The marker packet of f2 is lost: f2 never completes, the frames after it start anew.
  FrameAssemblerConfig config;
  config.max_frames_behind_gap = 0;  // declare a gap lost as soon as a frame completes behind it
  Stream stream(10);
  const auto f1 = stream.frame(pattern_frame(40, true));
  const auto f2 = stream.frame(pattern_frame(40, false));
  const auto f3 = stream.frame(pattern_frame(40, false));
  const auto f4 = stream.frame(pattern_frame(40, true));
  FrameAssembler d = vp8_assembler(config);
  insert_all(d, f1);
  for (std::size_t i = 0; i + 1 < f2.size(); ++i) insert(d, f2[i]);
  insert_all(d, f3);
  EXPECT_TRUE(d.waiting_for_key_frame());
  insert_all(d, f4);
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[1].key_frame);
  EXPECT_EQ(frames[1].rtp_timestamp, f4[0].timestamp);
  EXPECT_EQ(d.stats().frames_dropped, 2u);
}

TEST(Vp8Assembly, WhileWaitingAKeyFrameIsTakenWhereverItIs) {
  Stream stream(10);
  const auto f1 = stream.frame(pattern_frame(40, false));
  const auto f2 = stream.frame(pattern_frame(40, true));
  FrameAssembler d = vp8_assembler();
  insert(d, f1[0]);  // an incomplete frame before the key frame
  insert_all(d, f2);
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].key_frame);
}

TEST(Vp8Assembly, TimestampChangeInsideAFrameIsNotAFrame) {
  Stream stream(10);
  auto f1 = stream.frame(pattern_frame(40, true));
  f1[1].timestamp += 1;
  FrameAssembler d = vp8_assembler();
  insert_all(d, f1);
  EXPECT_FALSE(d.poll_frame());
}

TEST(Vp8Assembly, SequenceNumbersWrap) {
  Stream stream(65530);
  std::vector<std::vector<TestPacket>> frames_sent;
  frames_sent.push_back(stream.frame(pattern_frame(60, true)));  // 65530..65533
  for (int i = 0; i < 5; ++i) frames_sent.push_back(stream.frame(pattern_frame(30, false)));
  FrameAssembler d = vp8_assembler();
  for (const auto& f : frames_sent) insert_all(d, f);
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 6u);
  EXPECT_EQ(frames[0].first_sequence, 65530);
  EXPECT_GT(frames[5].last_sequence, 65535);
  for (std::size_t i = 1; i < frames.size(); ++i)
    EXPECT_EQ(frames[i].first_sequence, frames[i - 1].last_sequence + 1);
}

TEST(Vp8Assembly, ShuffledStreamAcrossTheWrapRoundTrips) {
  // Frames of random sizes, shuffled within a window of a few packets, across a wrap.
  std::mt19937 rng(7);
  Stream stream(65000, 100);
  std::vector<Buffer> sent;
  std::vector<TestPacket> packets;
  for (int i = 0; i < 200; ++i) {
    // At least 3 packets per frame, so that a window of 4 holds at most one complete frame.
    Buffer frame = pattern_frame(200 + rng() % 700, i % 50 == 0);
    for (auto& p : stream.frame(frame)) packets.push_back(std::move(p));
    sent.push_back(std::move(frame));
  }
  for (std::size_t i = 0; i + 4 < packets.size(); i += 4)
    std::shuffle(packets.begin() + static_cast<std::ptrdiff_t>(i),
                 packets.begin() + static_cast<std::ptrdiff_t>(i + 4), rng);
  FrameAssembler d = vp8_assembler();
  insert_all(d, packets);
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(frames[i].data, sent[i]) << i;
  EXPECT_EQ(d.stats().frames_dropped, 0u);
}

TEST(Vp8Assembly, RefusesPayloadsThatAreNotVp8) {
  FrameAssembler d = vp8_assembler();
  EXPECT_EQ(d.insert(1, 0, true, BytesView{}).error(), PayloadError::kEmpty);
  EXPECT_EQ(d.insert(2, 0, true, hex("9080")).error(), PayloadError::kTruncated);
  EXPECT_EQ(d.stats().packets_rejected, 2u);
}

TEST(Vp8Assembly, PendingDataIsBounded) {
  FrameAssemblerConfig config;
  config.max_pending_packets = 16;
  FrameAssembler d = vp8_assembler(config);
  // Starts of frames that never end, each with its own timestamp.
  const Buffer payload = hex("10 11 22 33");
  for (std::uint16_t seq = 0; seq < 100; ++seq) {
    EXPECT_TRUE(d.insert(seq, seq * 3000u, false, payload));
  }
  EXPECT_FALSE(d.poll_frame());
  EXPECT_TRUE(d.waiting_for_key_frame());
  EXPECT_EQ(d.stats().frames_dropped, 100u - 16u);
  // The stream recovers with the next key frame.
  EXPECT_TRUE(d.insert(100, 400000, true, hex("10 10 22 33")));
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].key_frame);
}

TEST(Vp8Assembly, PendingBytesAreBounded) {
  FrameAssemblerConfig config;
  config.max_pending_bytes = 1000;
  FrameAssembler d = vp8_assembler(config);
  Buffer payload(400);
  payload[0] = 0x10;
  for (std::uint16_t seq = 0; seq < 10; ++seq) {
    EXPECT_TRUE(d.insert(seq, seq, false, payload));
  }
  EXPECT_EQ(d.stats().frames_dropped, 8u);
}

}  // namespace
}  // namespace rtcpp::rtp
