// pc::MediaSession: RFC 8843 9.2 routing (MID, then SSRC, then payload type), frames out of
// packets and packets out of frames, PLI and FIR both ways.
#include "pc/media_session.hpp"

#include <gtest/gtest.h>

#include "base/byte_writer.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtcp_packet.hpp"
#include "rtp/rtp_packet.hpp"

namespace rtcpp::pc {
namespace {

constexpr std::uint8_t kMidId = 4;
constexpr std::uint8_t kAudioLevelId = 1;
constexpr std::uint8_t kCsrcAudioLevelId = 2;
constexpr std::uint32_t kVideo = 1;
constexpr std::uint32_t kAudio = 2;
constexpr std::uint32_t kLocalVideoSsrc = 0x1111;
constexpr std::uint32_t kLocalAudioSsrc = 0x2222;

RtpParameters video_parameters() {
  RtpParameters p;
  p.codecs = {{96, "VP8", 90000, 1, {}, {"nack", "nack pli"}, 97}};
  p.extensions = {{kMidId, std::string(kMidExtensionUri)}};
  return p;
}

RtpParameters audio_parameters() {
  RtpParameters p;
  p.codecs = {{111, "opus", 48000, 2, {}, {}, {}}};
  p.extensions = {{kMidId, std::string(kMidExtensionUri)},
                  {kAudioLevelId, std::string(rtp::kSsrcAudioLevelUri)},
                  {kCsrcAudioLevelId, std::string(rtp::kCsrcAudioLevelUri)}};
  return p;
}

std::vector<MediaBinding> bindings(bool receive = true,
                                   std::vector<std::uint32_t> remote_audio_ssrcs = {}) {
  MediaBinding video{
      kVideo, "0", MediaKind::kVideo, true, receive, video_parameters(), video_parameters()};
  video.local.ssrcs = {kLocalVideoSsrc};
  MediaBinding audio{
      kAudio, "1", MediaKind::kAudio, true, receive, audio_parameters(), audio_parameters()};
  audio.local.ssrcs = {kLocalAudioSsrc};
  audio.remote.ssrcs = std::move(remote_audio_ssrcs);
  return {video, audio};
}

Buffer rtp_packet(std::uint8_t pt, std::uint16_t seq, std::uint32_t ts, std::uint32_t ssrc,
                  BytesView payload, std::optional<std::string> mid = std::nullopt,
                  bool marker = true) {
  rtp::RtpPacketBuilder b;
  b.set_payload_type(pt).set_sequence_number(seq).set_timestamp(ts).set_ssrc(ssrc).set_marker(
      marker);
  b.set_payload(payload);
  if (mid) b.add_extension(kMidId, as_bytes(*mid));
  Buffer out;
  EXPECT_TRUE(b.write(out));
  return out;
}

// A one-packet VP8 key frame (RFC 7741 descriptor with S set, then a key frame header).
Buffer vp8_key_frame_payload() {
  return Buffer{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 1, 2, 3};
}

// Every packet the session has queued, in order; paced video comes out as the session's clock
// moves on to the pacer's next times.
std::vector<MediaPacket> transmitted(MediaSession& session) {
  std::vector<MediaPacket> out;
  for (;;) {
    while (auto p = session.poll_transmit()) out.push_back(std::move(*p));
    const auto next = session.next_timeout();
    if (session.paced_bytes() == 0 || !next) break;
    session.handle_timeout(*next);
  }
  return out;
}

std::vector<MediaFrameReceived> frames(MediaSession& session) {
  std::vector<MediaFrameReceived> out;
  while (auto e = session.poll_event()) {
    if (auto* f = std::get_if<MediaFrameReceived>(&*e)) out.push_back(std::move(*f));
  }
  return out;
}

TEST(MediaSession, RoutesByMidThenBySsrcItTaught) {
  SeededRandom rng(1);
  MediaSession session(rng);
  session.configure(bindings());
  const Buffer opus{1, 2, 3};
  // The payload type alone would not do: it is the MID that names the audio section.
  session.handle_rtp(rtp_packet(111, 10, 960, 0xAAAA, opus, "1"), Timestamp::zero());
  session.handle_rtp(rtp_packet(111, 11, 1920, 0xAAAA, opus), Timestamp::zero());
  auto got = frames(session);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].transceiver, kAudio);
  EXPECT_EQ(got[1].transceiver, kAudio);
  EXPECT_EQ(got[1].frame.rtp_timestamp, 1920u);
  EXPECT_EQ(got[1].frame.data, opus);
  EXPECT_EQ(session.stats(kAudio)->packets_received, 2u);
  EXPECT_EQ(session.stats(kAudio)->remote_ssrc, 0xAAAAu);
}

TEST(MediaSession, RoutesByTheSsrcLinesOfTheRemoteDescription) {
  SeededRandom rng(1);
  MediaSession session(rng);
  session.configure(bindings(true, {0xBBBB}));
  // Payload type 96 is video's, but the SSRC was announced for the audio section: SSRC first.
  session.handle_rtp(rtp_packet(111, 1, 0, 0xBBBB, Buffer{9}), Timestamp::zero());
  auto got = frames(session);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].transceiver, kAudio);
}

TEST(MediaSession, RoutesByAPayloadTypeOnlyOneSectionReceives) {
  SeededRandom rng(1);
  MediaSession session(rng);
  session.configure(bindings());
  session.handle_rtp(rtp_packet(96, 1, 0, 0xCCCC, vp8_key_frame_payload()), Timestamp::zero());
  auto got = frames(session);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].transceiver, kVideo);
  EXPECT_TRUE(got[0].frame.key_frame);
}

TEST(MediaSession, DropsUnknownMidsSectionsNotReceivingAndGarbage) {
  SeededRandom rng(1);
  MediaSession session(rng);
  session.configure(bindings());
  session.handle_rtp(rtp_packet(111, 1, 0, 0xDDDD, Buffer{1}, "7"), Timestamp::zero());
  session.handle_rtp(Buffer{0x80, 0x60}, Timestamp::zero());  // shorter than a header
  EXPECT_TRUE(frames(session).empty());
  EXPECT_EQ(session.packets_unrouted(), 2u);

  MediaSession send_only(rng);
  send_only.configure(bindings(/*receive=*/false));
  send_only.handle_rtp(rtp_packet(111, 1, 0, 0xDDDD, Buffer{1}, "1"), Timestamp::zero());
  EXPECT_TRUE(frames(send_only).empty());
  EXPECT_EQ(send_only.packets_unrouted(), 1u);
}

TEST(MediaSession, SentFramesArriveWholeAtAnotherSession) {
  SeededRandom rng(2);
  MediaSession sender(rng);
  MediaSession receiver(rng);
  sender.configure(bindings());
  receiver.configure(bindings());
  Buffer frame(5000);
  const Buffer header = vp8_key_frame_payload();
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>(i * 13);
  // A key frame: the payload above without its one-byte descriptor.
  for (std::size_t i = 1; i < header.size(); ++i) frame[i - 1] = header[i];
  ASSERT_TRUE(sender.send_frame(kVideo, {3000, true, frame}, Timestamp::zero()));
  std::vector<Buffer> packets;
  for (auto& p : transmitted(sender)) {
    EXPECT_FALSE(p.rtcp);
    packets.push_back(std::move(p.bytes));
  }
  ASSERT_EQ(packets.size(), 5u);  // 5000 bytes in packets of at most 1200
  std::optional<std::uint16_t> previous;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    auto parsed = rtp::parse_rtp_packet(packets[i]);
    ASSERT_TRUE(parsed);
    EXPECT_LE(packets[i].size(), MediaSession::kMaxRtpPacketSize);
    EXPECT_EQ(parsed->ssrc, kLocalVideoSsrc);
    EXPECT_EQ(parsed->payload_type, 96);
    EXPECT_EQ(parsed->marker, i + 1 == packets.size());
    auto mid = parsed->extension(kMidId);
    ASSERT_TRUE(mid);
    EXPECT_EQ(std::string(mid->begin(), mid->end()), "0");
    if (previous) {
      EXPECT_EQ(parsed->sequence_number, static_cast<std::uint16_t>(*previous + 1));
    }
    previous = parsed->sequence_number;
  }
  // Reordered on the way: still one whole frame.
  std::swap(packets[1], packets[3]);
  for (const auto& p : packets) receiver.handle_rtp(p, Timestamp::zero());
  auto got = frames(receiver);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].frame.data, frame);
  EXPECT_EQ(sender.stats(kVideo)->frames_sent, 1u);
  EXPECT_EQ(receiver.stats(kVideo)->frames_received, 1u);
}

TEST(MediaSession, RefusesFramesItCannotSend) {
  SeededRandom rng(3);
  MediaSession session(rng);
  session.configure(bindings());
  EXPECT_EQ(session.send_frame(99, {0, true, Buffer{1}}, Timestamp::zero()).error().type(),
            RTCErrorType::kInvalidStateError);
  EXPECT_EQ(session.send_frame(kAudio, {0, true, Buffer{}}, Timestamp::zero()).error().type(),
            RTCErrorType::kTypeError);
  EXPECT_EQ(session.send_frame(kAudio, {0, true, Buffer(1500)}, Timestamp::zero()).error().type(),
            RTCErrorType::kTypeError);
  MediaSession receive_only(rng);
  auto b = bindings();
  b[0].send = false;
  receive_only.configure(b);
  EXPECT_EQ(receive_only.send_frame(kVideo, {0, true, vp8_key_frame_payload()}, Timestamp::zero())
                .error()
                .type(),
            RTCErrorType::kInvalidStateError);
}

TEST(MediaSession, PliAndFirForASenderBecomeKeyFrameRequests) {
  SeededRandom rng(4);
  MediaSession session(rng);
  session.configure(bindings());
  Buffer compound;
  ByteWriter w(compound);
  ASSERT_TRUE(rtp::write_rtcp(rtp::ReceiverReport{0x9999, {}}, w));
  ASSERT_TRUE(rtp::write_rtcp(rtp::PictureLossIndication{0x9999, kLocalVideoSsrc}, w));
  ASSERT_TRUE(rtp::write_rtcp(rtp::PictureLossIndication{0x9999, 0x12345678}, w));  // not ours
  ASSERT_TRUE(rtp::write_rtcp(rtp::FullIntraRequest{0x9999, {{kLocalVideoSsrc, 1}}}, w));
  session.handle_rtcp(compound, Timestamp::zero());
  std::size_t requests = 0;
  while (auto e = session.poll_event()) {
    auto* r = std::get_if<KeyFrameRequested>(&*e);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->transceiver, kVideo);
    ++requests;
  }
  EXPECT_EQ(requests, 2u);
  EXPECT_EQ(session.stats(kVideo)->pli_received, 1u);
  EXPECT_EQ(session.stats(kVideo)->fir_received, 1u);
}

TEST(MediaSession, NacksAreAnsweredFromTheSendHistory) {
  SeededRandom rng(7);
  MediaSession session(rng);
  session.configure(bindings());
  std::vector<Buffer> sent;
  for (std::uint32_t i = 0; i < 300; ++i) {
    ASSERT_TRUE(session.send_frame(
        kAudio, {i * 960, true, Buffer{1, 2, static_cast<std::uint8_t>(i)}}, Timestamp::zero()));
    for (auto& p : transmitted(session)) sent.push_back(std::move(p.bytes));
  }
  ASSERT_EQ(sent.size(), 300u);
  auto sequence_of = [](const Buffer& p) { return rtp::parse_rtp_packet(p)->sequence_number; };
  // The newest packets are kept; the first 44 have left the 256-packet history.
  const std::vector<std::uint16_t> lost = {sequence_of(sent[299]), sequence_of(sent[100]),
                                           sequence_of(sent[101]), sequence_of(sent[10])};
  Buffer compound;
  ByteWriter w(compound);
  ASSERT_TRUE(rtp::write_rtcp(rtp::ReceiverReport{0x9999, {}}, w));
  ASSERT_TRUE(
      rtp::write_rtcp(rtp::GenericNack::from_lost_packets(0x9999, kLocalAudioSsrc, lost), w));
  ASSERT_TRUE(rtp::write_rtcp(rtp::GenericNack::from_lost_packets(0x9999, 0x4242, lost), w));
  session.handle_rtcp(compound, Timestamp::zero());
  std::vector<Buffer> resent;
  for (auto& p : transmitted(session)) resent.push_back(std::move(p.bytes));
  ASSERT_EQ(resent.size(), 3u);
  EXPECT_EQ(resent[0], sent[299]);  // byte for byte, in the order asked
  EXPECT_EQ(resent[1], sent[100]);
  EXPECT_EQ(resent[2], sent[101]);
  EXPECT_EQ(session.stats(kAudio)->nack_received, 1u);
  EXPECT_EQ(session.stats(kAudio)->packets_retransmitted, 3u);
  EXPECT_EQ(session.stats(kAudio)->retransmissions_missed, 1u);
}

// The generic NACKs among a session's transmitted RTCP.
std::vector<rtp::GenericNack> nacks_in(const std::vector<MediaPacket>& packets) {
  std::vector<rtp::GenericNack> out;
  for (const auto& p : packets) {
    if (!p.rtcp) continue;
    auto compound = rtp::parse_rtcp_compound(p.bytes);
    if (!compound) continue;
    for (const auto& m : compound->messages)
      if (const auto* nack = std::get_if<rtp::GenericNack>(&m)) out.push_back(*nack);
  }
  return out;
}

// A 5000-byte VP8 key frame in five packets from `sender`.
std::vector<Buffer> key_frame_packets(MediaSession& sender, Buffer& frame) {
  frame = Buffer(5000);
  const Buffer header = vp8_key_frame_payload();
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>(i * 7);
  for (std::size_t i = 1; i < header.size(); ++i) frame[i - 1] = header[i];
  EXPECT_TRUE(sender.send_frame(kVideo, {3000, true, frame}, Timestamp::zero()));
  std::vector<Buffer> packets;
  for (auto& p : transmitted(sender)) packets.push_back(std::move(p.bytes));
  EXPECT_EQ(packets.size(), 5u);
  return packets;
}

TEST(MediaSession, AsksForAMissingVideoPacketByNackAndTakesItsRetransmission) {
  SeededRandom rng(21);
  MediaSession sender(rng);
  MediaSession receiver(rng);
  sender.configure(bindings());
  receiver.configure(bindings());
  Buffer frame;
  auto packets = key_frame_packets(sender, frame);
  const Timestamp t0 = Timestamp::seconds(1);
  for (std::size_t i = 0; i < packets.size(); ++i)
    if (i != 2) receiver.handle_rtp(packets[i], t0);
  EXPECT_TRUE(frames(receiver).empty());
  // Not at once (it may only be reordered); after the reorder delay, one NACK for it.
  EXPECT_TRUE(nacks_in(transmitted(receiver)).empty());
  ASSERT_TRUE(receiver.next_timeout());
  EXPECT_LE(*receiver.next_timeout(), t0 + Duration::millis(5));
  receiver.handle_timeout(t0 + Duration::millis(5));
  const auto rtcp = transmitted(receiver);
  const auto nacks = nacks_in(rtcp);
  ASSERT_EQ(nacks.size(), 1u);
  const auto missing = rtp::parse_rtp_packet(packets[2])->sequence_number;
  EXPECT_EQ(nacks[0].lost_packets(), std::vector<std::uint16_t>{missing});
  EXPECT_EQ(nacks[0].media_ssrc, kLocalVideoSsrc);
  EXPECT_EQ(receiver.stats(kVideo)->nack_sent, 1u);
  // The sender answers from its history; the frame completes.
  for (const auto& p : rtcp) sender.handle_rtcp(p.bytes, t0 + Duration::millis(6));
  auto resent = transmitted(sender);
  ASSERT_EQ(resent.size(), 1u);
  receiver.handle_rtp(resent[0].bytes, t0 + Duration::millis(7));
  auto got = frames(receiver);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].frame.data, frame);
  // Nothing more is asked for.
  receiver.handle_timeout(t0 + Duration::millis(200));
  EXPECT_TRUE(nacks_in(transmitted(receiver)).empty());
}

TEST(MediaSession, TakesAnRtxRepairAsThePacketItCarries) {
  SeededRandom rng(22);
  MediaSession sender(rng);
  MediaSession receiver(rng);
  sender.configure(bindings());
  receiver.configure(bindings());
  Buffer frame;
  auto packets = key_frame_packets(sender, frame);
  for (std::size_t i = 0; i < packets.size(); ++i)
    if (i != 3) receiver.handle_rtp(packets[i], Timestamp::zero());
  // RFC 4588 4: the repair stream's own SSRC, sequence number and payload type (97 repairs
  // VP8's 96); the original sequence number, then the original payload.
  const auto lost = *rtp::parse_rtp_packet(packets[3]);
  Buffer payload{static_cast<std::uint8_t>(lost.sequence_number >> 8),
                 static_cast<std::uint8_t>(lost.sequence_number)};
  payload.append(lost.payload);
  receiver.handle_rtp(rtp_packet(97, 9, lost.timestamp, 0x7777, Buffer{}, "0"), Timestamp::zero());
  receiver.handle_rtp(rtp_packet(97, 10, lost.timestamp, 0x7777, payload, "0", lost.marker),
                      Timestamp::zero());
  auto got = frames(receiver);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].frame.data, frame);
  const auto* stats = receiver.stats(kVideo);
  EXPECT_EQ(stats->retransmitted_packets_received, 1u);
  EXPECT_EQ(stats->retransmitted_bytes_received, lost.payload.size());
  EXPECT_EQ(stats->packets_received, 4u);  // the repair is not a packet of the media stream
  EXPECT_EQ(stats->remote_ssrc, kLocalVideoSsrc);
  EXPECT_EQ(receiver.packets_unrouted(), 0u);
  receiver.handle_timeout(Timestamp::millis(100));
  EXPECT_TRUE(nacks_in(transmitted(receiver)).empty());
}

// A NACK for one of the video sender's packets.
Buffer nack_for(std::uint16_t sequence) {
  Buffer compound;
  ByteWriter w(compound);
  EXPECT_TRUE(rtp::write_rtcp(rtp::ReceiverReport{0x9999, {}}, w));
  const std::uint16_t lost[] = {sequence};
  EXPECT_TRUE(
      rtp::write_rtcp(rtp::GenericNack::from_lost_packets(0x9999, kLocalVideoSsrc, lost), w));
  return compound;
}

TEST(MediaSession, VideoLeavesPacedAndNothingOfAStreamFollowsItsGoodbye) {
  SeededRandom rng(25);
  MediaSession sender(rng);
  sender.configure(bindings());
  Buffer frame(24'000);
  const Buffer header = vp8_key_frame_payload();
  for (std::size_t i = 1; i < header.size(); ++i) frame[i - 1] = header[i];
  const Timestamp t0 = Timestamp::seconds(1);
  ASSERT_TRUE(sender.send_frame(kVideo, {3000, true, frame}, t0));
  // 21 packets; at 2.5 times the 1 Mbit/s start, 10 ms of budget (3125 bytes) goes at once.
  std::size_t first_burst = 0;
  while (sender.poll_transmit()) ++first_burst;
  EXPECT_GE(first_burst, 2u);
  EXPECT_LE(first_burst, 4u);
  EXPECT_GT(sender.paced_bytes(), 15'000u);
  ASSERT_TRUE(sender.next_timeout());
  EXPECT_LE(*sender.next_timeout(), t0 + Duration::millis(10));
  // Closing: the BYE goes, the rest of the frame does not.
  sender.close(t0 + Duration::millis(1));
  const auto rest = transmitted(sender);
  ASSERT_FALSE(rest.empty());
  for (const auto& p : rest) EXPECT_TRUE(p.rtcp);
  EXPECT_EQ(sender.paced_bytes(), 0u);
}

TEST(MediaSession, AnswersNacksWithRtxRepairsWhereRtxWasNegotiated) {
  SeededRandom rng(24);
  MediaSession sender(rng);
  auto b = bindings();
  b[0].local.ssrcs = {kLocalVideoSsrc, 0x3333};  // media, then repair (a=ssrc-group:FID)
  sender.configure(b);
  Buffer frame;
  auto packets = key_frame_packets(sender, frame);
  const auto original = *rtp::parse_rtp_packet(packets[4]);
  std::optional<std::uint16_t> previous_repair;
  for (int i = 0; i < 2; ++i) {
    // Each NACK a round trip after the last (no RTT known yet: 100 ms is assumed); one
    // repeated sooner asks for what is on its way.
    const Timestamp at = Timestamp::seconds(1) + Duration::millis(150 * i);
    sender.handle_rtcp(nack_for(original.sequence_number), at);
    auto sent = transmitted(sender);
    ASSERT_EQ(sent.size(), 1u);
    sender.handle_rtcp(nack_for(original.sequence_number), at + Duration::millis(20));
    EXPECT_TRUE(transmitted(sender).empty());
    auto repair = rtp::parse_rtp_packet(sent[0].bytes);
    ASSERT_TRUE(repair);
    EXPECT_EQ(repair->payload_type, 97);
    EXPECT_EQ(repair->ssrc, 0x3333u);
    EXPECT_EQ(repair->timestamp, original.timestamp);
    EXPECT_EQ(repair->marker, original.marker);
    auto mid = repair->extension(kMidId);
    ASSERT_TRUE(mid);
    EXPECT_EQ(std::string(mid->begin(), mid->end()), "0");
    ASSERT_EQ(repair->payload.size(), original.payload.size() + 2);
    EXPECT_EQ((repair->payload[0] << 8) | repair->payload[1], original.sequence_number);
    EXPECT_TRUE(equal_bytes(repair->payload.subspan(2), original.payload));
    // The repair stream numbers its packets itself.
    if (previous_repair) {
      EXPECT_EQ(repair->sequence_number, static_cast<std::uint16_t>(*previous_repair + 1));
    }
    previous_repair = repair->sequence_number;
  }
  EXPECT_EQ(sender.stats(kVideo)->packets_retransmitted, 2u);
  // A peer that did not pair the format with rtx gets the packet as it was.
  MediaSession plain(rng);
  b[0].remote.codecs[0].rtx_payload_type.reset();
  plain.configure(b);
  auto plain_packets = key_frame_packets(plain, frame);
  plain.handle_rtcp(nack_for(rtp::parse_rtp_packet(plain_packets[1])->sequence_number),
                    Timestamp::zero());
  auto resent = transmitted(plain);
  ASSERT_EQ(resent.size(), 1u);
  EXPECT_EQ(resent[0].bytes, plain_packets[1]);
}

TEST(MediaSession, NoNackWhereThePeerDidNotListIt) {
  SeededRandom rng(23);
  MediaSession sender(rng);
  MediaSession receiver(rng);
  sender.configure(bindings());
  auto b = bindings();
  b[0].remote.codecs[0].feedback = {"nack pli"};  // PLI only
  receiver.configure(b);
  Buffer frame;
  auto packets = key_frame_packets(sender, frame);
  for (std::size_t i = 0; i < packets.size(); ++i)
    if (i != 1) receiver.handle_rtp(packets[i], Timestamp::zero());
  for (int ms = 0; ms < 500; ms += 5) receiver.handle_timeout(Timestamp::millis(ms));
  EXPECT_TRUE(nacks_in(transmitted(receiver)).empty());
  EXPECT_EQ(receiver.stats(kVideo)->nack_sent, 0u);
}

TEST(MediaSession, AsksForAKeyFrameWhenDeltaFramesComeFirstAndNotTooOften) {
  SeededRandom rng(5);
  MediaSession session(rng);
  session.configure(bindings());
  // Delta frames only (the key frame was lost before the receiver started).
  const Buffer delta{0x10, 0x01, 0x00, 0x00, 7, 7, 7};
  Timestamp now = Timestamp::zero();
  std::size_t plis = 0;
  for (std::uint16_t seq = 0; seq < 40; ++seq) {
    session.handle_rtp(rtp_packet(96, seq, seq * 3000u, 0xEEEE, delta), now);
    while (auto p = session.poll_transmit()) {
      ASSERT_TRUE(p->rtcp);
      auto parsed = rtp::parse_rtcp_compound(p->bytes);
      ASSERT_TRUE(parsed);
      ASSERT_EQ(parsed->messages.size(), 2u);  // RR, then PLI (RFC 4585 3.1)
      EXPECT_TRUE(std::holds_alternative<rtp::ReceiverReport>(parsed->messages[0]));
      const auto* pli = std::get_if<rtp::PictureLossIndication>(&parsed->messages[1]);
      ASSERT_NE(pli, nullptr);
      EXPECT_EQ(pli->sender_ssrc, kLocalVideoSsrc);
      EXPECT_EQ(pli->media_ssrc, 0xEEEEu);
      ++plis;
    }
    now += Duration::millis(33);
  }
  // 40 frames over 1.3 s: at most one PLI per 300 ms, and nothing decodable delivered.
  EXPECT_GE(plis, 3u);
  EXPECT_LE(plis, 5u);
  EXPECT_TRUE(frames(session).empty());
  EXPECT_EQ(session.stats(kVideo)->pli_sent, plis);
}

TEST(MediaSession, ReportsGoOutAboutOnceASecondWithTheCname) {
  SeededRandom rng(8);
  MediaSession session(rng);
  session.configure(bindings());
  session.set_report_identity("cname-of-test", Duration::seconds(3'900'000'000LL));
  // Nothing sent or received yet: no reports.
  Timestamp now = Timestamp::seconds(1);
  for (int i = 0; i < 40; ++i, now += Duration::millis(100)) session.handle_timeout(now);
  EXPECT_FALSE(session.poll_transmit());
  // Audio sent, and video received: an SR for the first, an RR with a block for the second.
  ASSERT_TRUE(session.send_frame(kAudio, {960, true, Buffer{1, 2, 3}}, now));
  transmitted(session);
  session.handle_rtp(rtp_packet(96, 5, 0, 0xCAFE, vp8_key_frame_payload(), "0"), now);
  frames(session);
  std::size_t sender_reports = 0;
  std::size_t receiver_reports = 0;
  const Timestamp start = now;
  for (; now < start + Duration::seconds(10); now += Duration::millis(10)) {
    session.handle_timeout(now);
    ASSERT_GE(*session.next_timeout(), now);
    while (auto p = session.poll_transmit()) {
      ASSERT_TRUE(p->rtcp);
      auto parsed = rtp::parse_rtcp_compound(p->bytes);
      ASSERT_TRUE(parsed);
      ASSERT_EQ(parsed->messages.size(), 2u);
      if (const auto* sr = std::get_if<rtp::SenderReport>(&parsed->messages[0])) {
        EXPECT_EQ(sr->sender_ssrc, kLocalAudioSsrc);
        EXPECT_EQ(sr->packet_count, 1u);
        EXPECT_TRUE(sr->report_blocks.empty());
        ++sender_reports;
      } else {
        const auto& rr = std::get<rtp::ReceiverReport>(parsed->messages[0]);
        EXPECT_EQ(rr.sender_ssrc, kLocalVideoSsrc);
        ASSERT_EQ(rr.report_blocks.size(), 1u);
        EXPECT_EQ(rr.report_blocks[0].ssrc, 0xCAFEu);
        EXPECT_EQ(rr.report_blocks[0].extended_highest_sequence, 5u);
        ++receiver_reports;
      }
      const auto& sdes = std::get<rtp::SourceDescription>(parsed->messages[1]);
      ASSERT_EQ(sdes.chunks.size(), 1u);
      EXPECT_EQ(sdes.chunks[0].cname(), std::optional<std::string_view>("cname-of-test"));
    }
  }
  // RFC 3550 6.3.5: every 0.5-1.5 s, so 7 to 20 in 10 s.
  EXPECT_GE(sender_reports, 7u);
  EXPECT_LE(sender_reports, 20u);
  EXPECT_EQ(receiver_reports, sender_reports);
}

TEST(MediaSession, SurvivesRandomInput) {
  SeededRandom rng(6);
  MediaSession session(rng);
  session.configure(bindings(true, {1, 2, 3}));
  for (int i = 0; i < 20000; ++i) {
    Buffer packet(rng.uniform(80));
    rng.fill(packet);
    if (!packet.empty()) packet[0] = static_cast<std::uint8_t>(0x80 | (packet[0] & 0x3F));
    if (i % 2 == 0) {
      session.handle_rtp(packet, Timestamp::millis(i));
    } else {
      session.handle_rtcp(packet, Timestamp::millis(i));
    }
    frames(session);
    transmitted(session);
  }
  SUCCEED();
}

TEST(MediaSession, SynchronizationAndContributingSourcesWithTheirAudioLevels) {
  SeededRandom rng(9);
  MediaSession session(rng);
  session.configure(bindings());
  auto packet = [](std::uint16_t seq, std::uint32_t ts, std::uint8_t level,
                   std::vector<std::uint32_t> csrcs, Buffer csrc_levels) {
    rtp::RtpPacketBuilder b;
    b.set_payload_type(111).set_sequence_number(seq).set_timestamp(ts).set_ssrc(0xA0D1);
    for (const auto c : csrcs) b.add_csrc(c);
    // The builder holds views: what they see must live until write().
    const std::string mid = "1";
    const auto audio_level = rtp::write_ssrc_audio_level({level, true});
    b.add_extension(kMidId, as_bytes(mid));
    b.add_extension(kAudioLevelId, audio_level);
    if (!csrc_levels.empty()) b.add_extension(kCsrcAudioLevelId, csrc_levels);
    const Buffer payload{0xFC, 1, 2};
    b.set_payload(payload);
    Buffer out;
    EXPECT_TRUE(b.write(out));
    return out;
  };
  const Timestamp t0 = Timestamp::seconds(100);
  session.handle_rtp(packet(1, 960, 30, {0xC1, 0xC2}, Buffer{10, 20}), t0);
  session.handle_rtp(packet(2, 1920, 25, {0xC2}, {}), t0 + Duration::seconds(2));
  frames(session);

  auto ssrcs = session.synchronization_sources(kAudio, t0 + Duration::seconds(3));
  ASSERT_EQ(ssrcs.size(), 1u);
  EXPECT_EQ(ssrcs[0].source, 0xA0D1u);
  EXPECT_EQ(ssrcs[0].rtp_timestamp, 1920u);
  EXPECT_EQ(ssrcs[0].audio_level, std::optional<std::uint8_t>(25));
  EXPECT_EQ(ssrcs[0].last_received, t0 + Duration::seconds(2));
  // Most recent first; a CSRC without a level in its packet has none.
  auto csrcs = session.contributing_sources(kAudio, t0 + Duration::seconds(3));
  ASSERT_EQ(csrcs.size(), 2u);
  EXPECT_EQ(csrcs[0].source, 0xC2u);
  EXPECT_EQ(csrcs[0].audio_level, std::nullopt);
  EXPECT_EQ(csrcs[1].source, 0xC1u);
  EXPECT_EQ(csrcs[1].audio_level, std::optional<std::uint8_t>(10));
  // W3C 5.4.4: 10 s later they are gone.
  EXPECT_EQ(session.contributing_sources(kAudio, t0 + Duration::millis(11'000)).size(), 1u);
  EXPECT_TRUE(session.synchronization_sources(kAudio, t0 + Duration::seconds(13)).empty());
  EXPECT_TRUE(session.synchronization_sources(kVideo, t0).empty());
}

constexpr std::uint8_t kTransportCcId = 3;

// bindings() with the transport-wide sequence number in both descriptions, and transport-cc
// feedback listed by us and (with `peer_feedback`) by the peer.
std::vector<MediaBinding> transport_cc_bindings(bool peer_feedback = true) {
  auto b = bindings();
  for (auto& binding : b) {
    for (auto* p : {&binding.local, &binding.remote}) {
      p->extensions.push_back({kTransportCcId, std::string(rtp::kTransportWideCcUri)});
      if (p == &binding.remote && !peer_feedback) continue;
      for (auto& c : p->codecs) c.feedback.push_back("transport-cc");
    }
  }
  return b;
}

std::uint16_t transport_sequence_of(BytesView packet) {
  auto parsed = rtp::parse_rtp_packet(packet);
  EXPECT_TRUE(parsed);
  if (!parsed) return 0;
  auto value = parsed->extension(kTransportCcId);
  EXPECT_TRUE(value);
  if (!value) return 0;
  auto sequence = rtp::parse_transport_sequence_number(*value);
  EXPECT_TRUE(sequence);
  return sequence ? *sequence : 0;
}

std::vector<rtp::TransportFeedback> transport_feedback_in(const std::vector<MediaPacket>& packets) {
  std::vector<rtp::TransportFeedback> out;
  for (const auto& p : packets) {
    if (!p.rtcp) continue;
    auto compound = rtp::parse_rtcp_compound(p.bytes);
    if (!compound) continue;
    for (const auto& m : compound->messages)
      if (const auto* f = std::get_if<rtp::TransportFeedback>(&m)) out.push_back(*f);
  }
  return out;
}

Buffer compound_of(const rtp::TransportFeedback& feedback) {
  Buffer compound;
  ByteWriter w(compound);
  EXPECT_TRUE(rtp::write_rtcp(rtp::ReceiverReport{0x9999, {}}, w));
  EXPECT_TRUE(rtp::write_rtcp(feedback, w));
  return compound;
}

TEST(MediaSession, NumbersEveryPacketOnTheTransportAndReportsArrivalsBack) {
  SeededRandom rng(31);
  MediaSession sender(rng);
  MediaSession receiver(rng);
  auto sending = transport_cc_bindings();
  sending[0].local.ssrcs = {kLocalVideoSsrc, 0x3333};
  sender.configure(sending);
  receiver.configure(transport_cc_bindings());
  // Five video packets, then two of audio: one sequence across the sections.
  Buffer frame;
  std::vector<Buffer> packets = key_frame_packets(sender, frame);
  for (std::uint32_t ts : {960u, 1920u}) {
    ASSERT_TRUE(sender.send_frame(kAudio, {ts, true, Buffer{1, 2, 3}}, Timestamp::zero()));
  }
  for (auto& p : transmitted(sender)) packets.push_back(std::move(p.bytes));
  ASSERT_EQ(packets.size(), 7u);
  const std::uint16_t first = transport_sequence_of(packets[0]);
  for (std::size_t i = 0; i < packets.size(); ++i)
    EXPECT_EQ(transport_sequence_of(packets[i]), static_cast<std::uint16_t>(first + i)) << i;

  // The third is lost; the others arrive 2 ms apart, and are all handled later in one batch:
  // the feedback reports the arrival times, not when they were handled.
  const Timestamp t0 = Timestamp::seconds(3);
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (i != 2) {
      receiver.handle_rtp(packets[i], t0 + Duration::millis(15), t0 + Duration::millis(2 * i));
    }
  }
  ASSERT_TRUE(receiver.next_timeout());
  receiver.handle_timeout(t0 + Duration::millis(20));
  const auto feedback = transport_feedback_in(transmitted(receiver));
  ASSERT_EQ(feedback.size(), 1u);
  EXPECT_EQ(feedback[0].base_sequence, first);
  ASSERT_EQ(feedback[0].deltas.size(), 7u);
  EXPECT_FALSE(feedback[0].deltas[2]);
  EXPECT_EQ(receiver.transport_feedback_stats().feedback_sent, 1u);
  EXPECT_EQ(receiver.transport_feedback_stats().packets_reported, 6u);
  // Nothing new: no more feedback, however long the wait.
  receiver.handle_timeout(t0 + Duration::millis(500));
  EXPECT_TRUE(transport_feedback_in(transmitted(receiver)).empty());

  sender.handle_rtcp(compound_of(feedback[0]), t0 + Duration::millis(40));
  const auto stats = sender.transport_feedback_stats();
  EXPECT_EQ(stats.feedback_received, 1u);
  EXPECT_EQ(stats.packets_reported_received, 6u);
  EXPECT_EQ(stats.packets_reported_lost, 1u);
  const auto results = sender.take_transport_results();
  ASSERT_EQ(results.size(), 7u);
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].sequence, static_cast<std::uint16_t>(first + i));
    EXPECT_EQ(results[i].size, packets[i].size());
    EXPECT_EQ(results[i].arrival.has_value(), i != 2);
    if (i > 0 && i != 2 && i != 3) {
      EXPECT_EQ((*results[i].arrival - *results[i - 1].arrival).us(), 2000);
    }
  }
  EXPECT_TRUE(sender.take_transport_results().empty());

  // The lost packet's repair is a new packet on the transport: the next number.
  sender.handle_rtcp(nack_for(rtp::parse_rtp_packet(packets[2])->sequence_number),
                     t0 + Duration::millis(41));
  auto repair = transmitted(sender);
  ASSERT_EQ(repair.size(), 1u);
  EXPECT_EQ(transport_sequence_of(repair[0].bytes), static_cast<std::uint16_t>(first + 7));
  // The copy kept for later retransmissions still has its own number (asked again a round
  // trip later: within one the repair on its way is not repeated).
  sender.handle_rtcp(nack_for(rtp::parse_rtp_packet(packets[2])->sequence_number),
                     t0 + Duration::millis(42));
  EXPECT_TRUE(transmitted(sender).empty());
  sender.handle_rtcp(nack_for(rtp::parse_rtp_packet(packets[2])->sequence_number),
                     t0 + Duration::millis(200));
  repair = transmitted(sender);
  ASSERT_EQ(repair.size(), 1u);
  EXPECT_EQ(transport_sequence_of(repair[0].bytes), static_cast<std::uint16_t>(first + 8));
  EXPECT_EQ(transport_sequence_of(packets[2]), static_cast<std::uint16_t>(first + 2));
}

TEST(MediaSession, NoTransportFeedbackUnlessBothSidesListedIt) {
  SeededRandom rng(32);
  MediaSession sender(rng);
  MediaSession receiver(rng);
  sender.configure(transport_cc_bindings());
  receiver.configure(transport_cc_bindings(/*peer_feedback=*/false));
  Buffer frame;
  const auto packets = key_frame_packets(sender, frame);
  for (const auto& p : packets) {
    transport_sequence_of(p);  // numbered all the same: the extension was negotiated
    receiver.handle_rtp(p, Timestamp::seconds(1));
  }
  receiver.handle_timeout(Timestamp::seconds(2));
  EXPECT_TRUE(transport_feedback_in(transmitted(receiver)).empty());
  EXPECT_EQ(receiver.transport_feedback_stats().packets_reported, 0u);
  // Without the extension, packets carry no number.
  MediaSession plain(rng);
  plain.configure(bindings());
  const auto plain_packets = key_frame_packets(plain, frame);
  EXPECT_FALSE(rtp::parse_rtp_packet(plain_packets[0])->extension(kTransportCcId));
}

}  // namespace
}  // namespace rtcpp::pc
