// Media between two connection cores over the simulator: an offer with a video and an audio
// transceiver, the answer receiving both, DTLS-SRTP keys, and encoded frames sent as SRTP
// and put back together on the other side, with and without loss and reordering. A frame
// the receiver delivers is always one the sender sent, byte for byte; a receiver that lost
// part of a frame asks for a key frame (PLI) and the sender's application hears it.
#include <gtest/gtest.h>

#include <map>

#include "connection_node.hpp"
#include "network.hpp"
#include "pc/connection.hpp"

namespace rtcpp::sim {
namespace {

using testing::ConnectionNode;

struct MediaPeer {
  MediaPeer(Random& rng, SocketAddress at) : address(at), connection(config(), rng) {}
  static pc::ConnectionConfig config() {
    pc::ConnectionConfig c;
    c.certificate = *dtls::Certificate::generate();
    c.tcp_candidates = false;
    return c;
  }
  SocketAddress address;
  pc::Connection connection;
  std::unique_ptr<ConnectionNode> node;
  bool connected = false;
  std::vector<std::uint32_t> tracks;
  std::map<std::uint32_t, std::vector<pc::EncodedFrame>> frames;  // by transceiver
  std::size_t key_frame_requests = 0;
};

// A VP8 frame the depacketizer accepts (RFC 6386 9.1): a key frame has the start code and a
// 320x240 size; the rest is the frame's number and filler, so each frame is recognisable.
Buffer vp8_frame(std::uint32_t number, bool key, std::size_t size) {
  Buffer frame(size);
  const std::uint32_t tag = (key ? 0u : 1u) | (1u << 4) | (100u << 5);  // P, show, partition
  frame[0] = static_cast<std::uint8_t>(tag);
  frame[1] = static_cast<std::uint8_t>(tag >> 8);
  frame[2] = static_cast<std::uint8_t>(tag >> 16);
  std::size_t at = 3;
  if (key) {
    const std::uint8_t header[] = {0x9d, 0x01, 0x2a, 320 & 0xFF, 320 >> 8, 240, 0};
    for (auto b : header) frame[at++] = b;
  }
  for (int i = 0; i < 4; ++i) frame[at++] = static_cast<std::uint8_t>(number >> (8 * i));
  for (; at < size; ++at) frame[at] = static_cast<std::uint8_t>(at * 7 + number);
  return frame;
}

std::uint32_t frame_number(const Buffer& frame, bool key) {
  const std::size_t at = key ? 10 : 3;
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<std::uint32_t>(frame[at + i]) << (8 * i);
  return n;
}

struct MediaOutcome {
  bool connected = false;
  std::size_t video_sent = 0;
  std::size_t audio_sent = 0;
  std::vector<std::uint32_t> receiver_tracks;
  std::vector<pc::EncodedFrame> video_received;
  std::vector<pc::EncodedFrame> audio_received;
  std::map<std::uint32_t, Buffer> video_sent_frames;  // by number
  std::size_t key_frame_requests = 0;
  std::uint64_t pli_sent = 0;
  std::string answer;
  pc::MediaStreamStats sender_video;    // the offerer's view of its video
  pc::MediaStreamStats receiver_video;  // the answerer's
  pc::MediaStreamStats receiver_audio;
};

MediaOutcome run_media_session(std::uint64_t seed, double loss, Duration jitter) {
  Network net(seed);
  const SocketAddress a_addr(IpAddress::v4(10, 0, 0, 2), 5000);
  const SocketAddress b_addr(IpAddress::v4(10, 0, 0, 3), 6000);
  auto host_a = net.add_host({a_addr.ip()});
  auto host_b = net.add_host({b_addr.ip()});
  LinkConfig link;
  link.delay = Duration::millis(15);
  link.jitter = jitter;
  link.loss = loss;
  net.set_links(host_a, link, link);
  net.set_links(host_b, link, link);

  SeededRandom rng(seed);
  MediaPeer a(rng, a_addr);
  MediaPeer b(rng, b_addr);
  auto on_event = [&](MediaPeer& self, MediaPeer& other, pc::ConnectionEvent&& e, Timestamp now) {
    if (std::holds_alternative<pc::GatherRequest>(e)) {
      self.connection.add_host_address(self.address, now);
      self.connection.sockets_ready(now);
    } else if (const auto* c = std::get_if<pc::LocalCandidate>(&e)) {
      ASSERT_TRUE(other.connection.add_ice_candidate(c->candidate.to_string(), c->mid, std::nullopt,
                                                     c->ufrag, now));
      net.wake(*other.node);
    } else if (const auto* d = std::get_if<pc::DtlsStateChanged>(&e)) {
      self.connected = d->state == dtls::DtlsState::kConnected;
    } else if (const auto* t = std::get_if<pc::TrackAdded>(&e)) {
      self.tracks.push_back(t->transceiver);
    } else if (auto* f = std::get_if<pc::MediaFrameReceived>(&e)) {
      self.frames[f->transceiver].push_back(std::move(f->frame));
    } else if (std::holds_alternative<pc::KeyFrameRequested>(e)) {
      ++self.key_frame_requests;
    }
  };
  a.node = std::make_unique<ConnectionNode>(
      a.connection,
      [&](pc::ConnectionEvent&& e, Timestamp now) { on_event(a, b, std::move(e), now); });
  b.node = std::make_unique<ConnectionNode>(
      b.connection,
      [&](pc::ConnectionEvent&& e, Timestamp now) { on_event(b, a, std::move(e), now); });
  net.bind(host_a, a_addr, *a.node);
  net.bind(host_b, b_addr, *b.node);

  MediaOutcome out;
  const Timestamp start = net.now();
  const auto video =
      a.connection.add_transceiver(pc::MediaKind::kVideo, pc::RtpDirection::kSendOnly);
  const auto audio =
      a.connection.add_transceiver(pc::MediaKind::kAudio, pc::RtpDirection::kSendRecv);
  auto offer = a.connection.create_offer(false, start);
  EXPECT_TRUE(offer);
  if (!offer) return out;
  EXPECT_TRUE(
      a.connection.set_local_description(pc::Description{pc::SdpType::kOffer, *offer}, start));
  EXPECT_TRUE(b.connection.set_remote_description({pc::SdpType::kOffer, *offer}, start));
  auto answer = b.connection.create_answer(start);
  EXPECT_TRUE(answer);
  if (!answer) return out;
  out.answer = *answer;
  EXPECT_TRUE(
      b.connection.set_local_description(pc::Description{pc::SdpType::kAnswer, *answer}, start));
  EXPECT_TRUE(a.connection.set_remote_description({pc::SdpType::kAnswer, *answer}, start));
  net.wake(*a.node);
  net.wake(*b.node);
  out.connected =
      net.run_until([&] { return a.connected && b.connected; }, start + Duration::seconds(10));
  if (!out.connected) return out;

  // 4 s of 30 fps video (a key frame every 2 s, or when asked) and 50 packets/s of audio.
  bool key_next = true;
  std::size_t requests_seen = 0;
  const Timestamp media_start = net.now();
  for (std::uint32_t tick = 0; tick < 200; ++tick) {  // 20 ms ticks
    const Timestamp at = media_start + Duration::millis(20 * tick);
    net.run_until([] { return false; }, at);
    if (a.key_frame_requests > requests_seen) {
      requests_seen = a.key_frame_requests;
      key_next = true;
    }
    if (tick % 3 != 1) {  // 2 of every 3 ticks: 33.3 fps on average, near enough to 30
      const auto number = static_cast<std::uint32_t>(out.video_sent);
      const bool key = key_next || number % 60 == 0;
      key_next = false;
      // Key frames span several packets; delta frames one to three.
      const std::size_t size = key ? 9000 + number % 1000 : 300 + (number * 97) % 3000;
      Buffer frame = vp8_frame(number, key, size);
      pc::EncodedFrame encoded{number * 3000, key, frame};
      EXPECT_TRUE(a.connection.send_frame(video, encoded, net.now()));
      out.video_sent_frames[number] = std::move(frame);
      ++out.video_sent;
    }
    Buffer opus(120);
    for (std::size_t i = 0; i < opus.size(); ++i) opus[i] = static_cast<std::uint8_t>(tick + i);
    EXPECT_TRUE(a.connection.send_frame(audio, {tick * 960, true, std::move(opus)}, net.now()));
    ++out.audio_sent;
    net.wake(*a.node);
  }
  net.run_until([] { return false; }, net.now() + Duration::seconds(1));

  const auto* b_video = b.connection.transceivers().find_mid("0");
  const auto* b_audio = b.connection.transceivers().find_mid("1");
  EXPECT_TRUE(b_video && b_audio);
  if (!b_video || !b_audio) return out;
  out.video_received = b.frames[b_video->handle];
  out.audio_received = b.frames[b_audio->handle];
  out.key_frame_requests = a.key_frame_requests;
  out.receiver_tracks = b.tracks;
  if (const auto* stats = b.connection.media_stats(b_video->handle)) {
    out.pli_sent = stats->pli_sent;
    out.receiver_video = *stats;
  }
  if (const auto* stats = a.connection.media_stats(video)) out.sender_video = *stats;
  if (const auto* stats = b.connection.media_stats(b_audio->handle)) out.receiver_audio = *stats;
  // The offerer receives nothing on its sendonly video, and nothing was sent to its audio.
  EXPECT_TRUE(a.frames.empty());
  return out;
}

TEST(SimMedia, VideoAndAudioFramesArriveWhole) {
  const MediaOutcome o = run_media_session(3, 0.0, Duration::zero());
  ASSERT_TRUE(o.connected);
  EXPECT_NE(o.answer.find("a=recvonly"), std::string::npos) << o.answer;
  EXPECT_NE(o.answer.find("VP8/90000"), std::string::npos) << o.answer;
  EXPECT_EQ(o.receiver_tracks.size(), 2u);
  ASSERT_EQ(o.video_received.size(), o.video_sent);
  for (std::size_t i = 0; i < o.video_received.size(); ++i) {
    const auto& frame = o.video_received[i];
    const std::uint32_t number = frame_number(frame.data, frame.key_frame);
    EXPECT_EQ(number, i);
    EXPECT_EQ(frame.data, o.video_sent_frames.at(number)) << "frame " << i;
  }
  // RTP timestamps keep their spacing (the sender adds one random offset to all).
  ASSERT_GE(o.video_received.size(), 2u);
  EXPECT_EQ(o.video_received[1].rtp_timestamp - o.video_received[0].rtp_timestamp, 3000u);
  EXPECT_EQ(o.audio_received.size(), o.audio_sent);
  EXPECT_EQ(o.key_frame_requests, 0u);
  // RTCP (RFC 3550): the sender's SRs echoed in the receiver's RRs give the round-trip time
  // (four 15 ms links); nothing was lost, and the audio, sent on its own clock's pace over
  // links without jitter, arrives with none.
  EXPECT_GE(o.sender_video.sender_reports_sent, 3u);
  EXPECT_GE(o.receiver_video.receiver_reports_sent, 3u);
  ASSERT_TRUE(o.sender_video.round_trip_time);
  EXPECT_NEAR(o.sender_video.round_trip_time->ms_f(), 60.0, 1.0);
  EXPECT_EQ(o.receiver_video.packets_lost, 0);
  EXPECT_EQ(o.sender_video.remote_packets_lost, std::optional<std::int32_t>(0));
  EXPECT_LT(o.receiver_audio.jitter_seconds, 0.0005);
  EXPECT_EQ(o.receiver_audio.packets_lost, 0);
}

TEST(SimMedia, LossAndReorderingNeverDeliverABrokenFrame) {
  for (std::uint64_t seed : {5u, 6u, 7u}) {
    const MediaOutcome o = run_media_session(seed, 0.02, Duration::millis(8));
    ASSERT_TRUE(o.connected) << "seed " << seed;
    // Every delivered frame is a sent one, whole, and in sending order.
    std::optional<std::uint32_t> previous;
    for (const auto& frame : o.video_received) {
      const std::uint32_t number = frame_number(frame.data, frame.key_frame);
      ASSERT_TRUE(o.video_sent_frames.count(number)) << "seed " << seed;
      EXPECT_EQ(frame.data, o.video_sent_frames.at(number)) << "seed " << seed;
      if (previous) {
        EXPECT_GT(number, *previous) << "seed " << seed;
      }
      previous = number;
    }
    // Losses are repaired by asking for key frames (NACK and retransmission are not there
    // yet, so every loss costs the frames up to the next key frame).
    EXPECT_GT(o.video_received.size(), o.video_sent / 3) << "seed " << seed;
    EXPECT_GT(o.pli_sent, 0u) << "seed " << seed;
    EXPECT_GT(o.key_frame_requests, 0u) << "seed " << seed;
    EXPECT_GT(o.audio_received.size(), o.audio_sent * 8 / 10) << "seed " << seed;
    // The receiver counts its losses, and its reports tell the sender.
    EXPECT_GT(o.receiver_video.packets_lost, 0) << "seed " << seed;
    ASSERT_TRUE(o.sender_video.remote_packets_lost) << "seed " << seed;
    EXPECT_GT(*o.sender_video.remote_packets_lost, 0) << "seed " << seed;
    EXPECT_GT(o.receiver_video.jitter_seconds, 0.0) << "seed " << seed;
  }
}

}  // namespace
}  // namespace rtcpp::sim
