// Real encoded streams (made by ffmpeg: tests/data/) through two media sessions: every frame
// of an H.264, VP9 and AV1 clip sent by one, packetized by its codec's payload format, comes
// out of the other whole, in order, with its key-frame flag, byte for byte.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "base/random.hpp"
#include "media/annexb.hpp"
#include "media/ivf.hpp"
#include "pc/media_session.hpp"
#include "rtp/h264.hpp"

namespace rtcpp::pc {
namespace {

Buffer read_file(const std::string& name) {
  std::ifstream in(std::string(RTCPP_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  Buffer out(bytes.size());
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

struct Clip {
  std::vector<EncodedFrame> frames;
};

Clip annexb_clip(const std::string& name) {
  const Buffer file = read_file(name);
  media::AnnexBParser parser(file);
  Clip clip;
  std::uint32_t ts = 0;
  while (true) {
    auto unit = parser.next_access_unit();
    EXPECT_TRUE(unit);
    if (!unit || !*unit) break;
    clip.frames.push_back({ts, (*unit)->key_frame, Buffer((*unit)->data)});
    ts += 3000;
  }
  return clip;
}

Clip ivf_clip(const std::string& name) {
  const Buffer file = read_file(name);
  auto parser = media::IvfParser::open(file);
  EXPECT_TRUE(parser);
  Clip clip;
  if (!parser) return clip;
  std::uint32_t ts = 0;
  bool first = true;
  while (true) {
    auto frame = parser->next_frame();
    EXPECT_TRUE(frame);
    if (!frame || !*frame) break;
    // The fixtures have a key frame first; the receiver works the rest out for itself.
    clip.frames.push_back({ts, first, Buffer((*frame)->data)});
    first = false;
    ts += 3000;
  }
  return clip;
}

std::vector<MediaBinding> binding_for(const RtpCodec& codec) {
  RtpParameters p;
  p.codecs = {codec};
  p.extensions = {{4, std::string(kMidExtensionUri)}};
  MediaBinding b{1, "0", MediaKind::kVideo, true, true, p, p};
  b.local.ssrcs = {0x5151};
  return {b};
}

// Sends every frame and hands each packet straight to the receiver.
std::vector<EncodedFrame> carry(const RtpCodec& codec, const Clip& clip) {
  SeededRandom rng(11);
  MediaSession sender(rng);
  MediaSession receiver(rng);
  sender.configure(binding_for(codec));
  receiver.configure(binding_for(codec));
  std::vector<EncodedFrame> received;
  Timestamp now = Timestamp::seconds(1);
  MediaPacket packet;
  for (const auto& frame : clip.frames) {
    EXPECT_TRUE(sender.send_frame(1, frame, now));
    while (sender.poll_transmit(packet)) {
      EXPECT_LE(packet.bytes.size(), MediaSession::kMaxRtpPacketSize);
      receiver.handle_rtp(packet.bytes, now);
    }
    while (auto e = receiver.poll_event()) {
      if (auto* f = std::get_if<MediaFrameReceived>(&*e)) received.push_back(std::move(f->frame));
    }
    now += Duration::millis(33);
  }
  return received;
}

void expect_same_frames(const Clip& clip, const std::vector<EncodedFrame>& received) {
  ASSERT_EQ(received.size(), clip.frames.size());
  for (std::size_t i = 0; i < received.size(); ++i) {
    EXPECT_EQ(received[i].data, clip.frames[i].data) << "frame " << i;
    EXPECT_EQ(received[i].rtp_timestamp - received[0].rtp_timestamp, 3000u * i);
  }
  EXPECT_TRUE(received.front().key_frame);
}

// An access unit as the H.264 receiver writes it: each NAL unit behind a 4-byte start code,
// without trailing zero bytes, access unit delimiters left out.
Buffer normalized_h264(BytesView unit) {
  Buffer out;
  std::size_t start = rtp::find_h264_start_code(unit, 0);
  while (start < unit.size()) {
    const std::size_t begin = start + 3;
    const std::size_t next = rtp::find_h264_start_code(unit, begin);
    std::size_t end = next;
    while (end > begin && unit[end - 1] == 0) --end;
    if (end > begin && rtp::h264_nal_type(unit[begin]) != rtp::kH264NalAccessUnitDelimiter) {
      out.append(Buffer{0, 0, 0, 1});
      out.append(unit.subspan(begin, end - begin));
    }
    start = next;
  }
  return out;
}

TEST(MediaCodecs, H264ClipArrivesWhole) {
  Clip clip = annexb_clip("testsrc-160x120-baseline.h264");
  ASSERT_EQ(clip.frames.size(), 30u);
  const auto received =
      carry({102, "H264", 90000, 1, "packetization-mode=1;profile-level-id=42e01f", {}, {}}, clip);
  for (auto& frame : clip.frames) frame.data = normalized_h264(frame.data);
  expect_same_frames(clip, received);
  std::size_t keys = 0;
  for (const auto& f : received) keys += f.key_frame ? 1 : 0;
  EXPECT_EQ(keys, 2u);  // the IDR frames 0 and 15
}

TEST(MediaCodecs, H264SingleNalModeRefusesAUnitTooLargeForAPacket) {
  const Clip clip = annexb_clip("testsrc-160x120-baseline.h264");
  ASSERT_FALSE(clip.frames.empty());
  SeededRandom rng(12);
  MediaSession sender(rng);
  sender.configure(
      binding_for({102, "H264", 90000, 1, "packetization-mode=0;profile-level-id=42e01f", {}, {}}));
  // The key frame's slice is larger than 1200 bytes: mode 0 cannot fragment it.
  ASSERT_GT(clip.frames[0].data.size(), MediaSession::kMaxPayloadSize);
  const auto sent = sender.send_frame(1, clip.frames[0], Timestamp::seconds(1));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().type(), RTCErrorType::kOperationError);
}

TEST(MediaCodecs, Vp9ClipArrivesWhole) {
  const Clip clip = ivf_clip("video/testsrc_160x120.vp9.ivf");
  ASSERT_EQ(clip.frames.size(), 30u);
  expect_same_frames(clip, carry({98, "VP9", 90000, 1, "profile-id=0", {}, {}}, clip));
}

TEST(MediaCodecs, Av1ClipArrivesWhole) {
  const Clip clip = ivf_clip("video/testsrc_160x120.av1.ivf");
  ASSERT_EQ(clip.frames.size(), 30u);
  expect_same_frames(clip, carry({35, "AV1", 90000, 1, {}, {}, {}}, clip));
}

}  // namespace
}  // namespace rtcpp::pc
