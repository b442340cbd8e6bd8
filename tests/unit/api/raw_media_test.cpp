// Raw media through the public API (rtcpp extensions): pictures and audio given to
// RTCRtpSender::send_video_frame / send_audio_frame are encoded with the negotiated codec,
// and come out of the peer's RTCRtpReceiver::on_video_frame / on_audio_frame decoded, between
// two connections over loopback UDP.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/eventually.hpp"
#include "common/signaling.hpp"
#include "media/test_source.hpp"
#include "rtcpp/rtcpp.hpp"

namespace rtcpp {
namespace {

using namespace std::chrono_literals;
using test_support::eventually;
using test_support::Signaling;

using test_support::make_pc;

// Prefers one codec on a transceiver (W3C setCodecPreferences).
void prefer(const std::shared_ptr<RTCRtpTransceiver>& t, const std::string& mime,
            std::uint32_t rate, std::optional<std::uint16_t> channels = std::nullopt) {
  ASSERT_TRUE(t->set_codec_preferences({{mime, rate, channels, std::nullopt}}));
}

class RawVideo : public ::testing::TestWithParam<std::string> {};

TEST_P(RawVideo, PicturesArriveDecodedInOrder) {
  auto a = make_pc();
  auto b = make_pc();
  auto t = a->add_transceiver(MediaStreamTrack::create("video"),
                              {RTCRtpTransceiverDirection::kSendOnly, {}});
  ASSERT_TRUE(t);
  prefer(*t, "video/" + GetParam(), 90000);
  std::mutex mutex;
  std::vector<std::uint32_t> numbers;
  std::vector<std::int64_t> timestamps;
  b->on_track([&](const RTCTrackEvent& e) {
    e.receiver->on_video_frame([&](const VideoFrame& picture) {
      std::lock_guard lock(mutex);
      if (auto stamp = media::read_pattern_stamp(picture)) numbers.push_back(stamp->frame_number);
      timestamps.push_back(picture.timestamp_us);
    });
  });
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(
      eventually([&] { return a->connection_state() == RTCPeerConnectionState::kConnected; }));
  auto pattern = media::TestPattern::create(320, 240);
  auto sender = (*t)->sender();
  // Before the codec check: an audio frame on a video sender is refused.
  EXPECT_FALSE(sender->send_audio_frame(AudioFrame{}));
  EXPECT_EQ(sender->send_video_frame(VideoFrame{}).error().type(), RTCErrorType::kRangeError);
  // A disabled track sends black pictures: no stamps arrive from these.
  (*t)->sender()->track()->set_enabled(false);
  for (std::uint32_t n = 100; n < 103; ++n) {
    auto picture = pattern->render({n, 0});
    picture.timestamp_us = static_cast<std::int64_t>(n - 100) * 33'333;
    ASSERT_TRUE(sender->send_video_frame(picture));
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return timestamps.size() >= 3;
  }));
  {
    std::lock_guard lock(mutex);
    EXPECT_TRUE(numbers.empty());
    timestamps.clear();
  }
  (*t)->sender()->track()->set_enabled(true);
  for (std::uint32_t n = 0; n < 30; ++n) {
    auto picture = pattern->render({n, 0});
    picture.timestamp_us = 1'000'000 + static_cast<std::int64_t>(n) * 33'333;
    auto sent = sender->send_video_frame(picture);
    ASSERT_TRUE(sent) << sent.error().to_string();
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return numbers.size() >= 28;
  })) << numbers.size();
  // webrtc-stats: what the encoder and the decoder did.
  const auto find = [](const RTCStatsReport& report, const std::string& type) -> const RTCStats* {
    for (const auto& [id, stats] : report) {
      if (stats.type == type) return &stats;
    }
    return nullptr;
  };
  const auto sent = sender->get_stats().get();
  const RTCStats* out = find(sent, "outbound-rtp");
  ASSERT_NE(out, nullptr);
  EXPECT_GE(out->get<std::uint64_t>("framesEncoded").value_or(0), 31u);
  EXPECT_GE(out->get<std::uint64_t>("keyFramesEncoded").value_or(0), 1u);
  EXPECT_GT(out->get<double>("totalEncodeTime").value_or(0), 0.0);
  EXPECT_EQ(out->get<std::uint64_t>("frameWidth"), 320u);
  EXPECT_FALSE(out->get<std::string>("encoderImplementation").value_or("").empty());
  // The encoder aims at 600 kbit/s at most, the default for 320x240, or less where the
  // bandwidth estimate (which starts at 1 Mbit/s) leaves less.
  EXPECT_GT(out->get<double>("targetBitrate").value_or(0), 0.0);
  EXPECT_LE(out->get<double>("targetBitrate").value_or(1e9), 600'000.0);
  // The estimate itself, on the selected pair, once the peer's transport-cc feedback came.
  EXPECT_TRUE(eventually([&] {
    const auto report = a->get_stats().get();
    const RTCStats* pair = report.get("CPsel");
    return pair != nullptr && pair->get<double>("availableOutgoingBitrate").value_or(0) > 0;
  }));
  const RTCStats* source = find(sent, "media-source");
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->get<std::uint64_t>("frames"), 33u);
  const auto received = b->get_transceivers().front()->receiver()->get_stats().get();
  const RTCStats* in = find(received, "inbound-rtp");
  ASSERT_NE(in, nullptr);
  EXPECT_GE(in->get<std::uint64_t>("framesDecoded").value_or(0), 28u);
  EXPECT_EQ(in->get<std::uint64_t>("frameHeight"), 240u);
  EXPECT_FALSE(in->get<std::string>("decoderImplementation").value_or("").empty());
  std::lock_guard lock(mutex);
  for (std::size_t i = 1; i < numbers.size(); ++i) EXPECT_GT(numbers[i], numbers[i - 1]);
  // Timestamps count from the first picture (the black ones, a second before), at the
  // sender's spacing (90 kHz rounding aside).
  EXPECT_NEAR(static_cast<double>(timestamps.front()), 1'000'000.0, 50);
  EXPECT_NEAR(static_cast<double>(timestamps.back() - timestamps.front()),
              (numbers.back() - numbers.front()) * 33'333.0, 50);
  a->close();
  b->close();
}

INSTANTIATE_TEST_SUITE_P(Codecs, RawVideo, ::testing::Values("VP8", "VP9", "H264", "AV1"),
                         [](const auto& test_case) { return test_case.param; });

TEST(RawAudio, ToneArrivesAtItsFrequency) {
  auto a = make_pc();
  auto b = make_pc();
  auto t = a->add_transceiver(MediaStreamTrack::create("audio"),
                              {RTCRtpTransceiverDirection::kSendOnly, {}});
  ASSERT_TRUE(t);
  std::mutex mutex;
  AudioFrame received;
  received.sample_rate = 0;
  b->on_track([&](const RTCTrackEvent& e) {
    e.receiver->on_audio_frame([&](const AudioFrame& audio) {
      std::lock_guard lock(mutex);
      received.sample_rate = audio.sample_rate;
      received.channels = audio.channels;
      received.samples.insert(received.samples.end(), audio.samples.begin(), audio.samples.end());
    });
  });
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(
      eventually([&] { return a->connection_state() == RTCPeerConnectionState::kConnected; }));
  // 44.1 kHz stereo in pieces of 10 ms that are not the codec's 20 ms: resampled, mixed down
  // and regrouped by the sender.
  auto tone = media::ToneGenerator::create(440, 44100, 2);
  auto sender = (*t)->sender();
  for (int i = 0; i < 100; ++i) {
    auto sent = sender->send_audio_frame(tone->next(441));
    ASSERT_TRUE(sent) << sent.error().to_string();
    if (i % 4 == 3) std::this_thread::sleep_for(10ms);
  }
  AudioFrame bad;
  bad.channels = 2;
  bad.samples.assign(3, 0);  // not whole samples on both channels
  EXPECT_EQ(sender->send_audio_frame(bad).error().type(), RTCErrorType::kRangeError);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return received.samples.size() >= 40000;  // most of the second, at 48 kHz mono
  }));
  {
    const auto report = b->get_transceivers().front()->receiver()->get_stats().get();
    bool seen = false;
    for (const auto& [id, stats] : report) {
      if (stats.type != "inbound-rtp") continue;
      seen = true;
      EXPECT_GE(stats.get<std::uint64_t>("totalSamplesReceived").value_or(0), 40000u);
      // A 0.25 sine: an RMS level of 0.177.
      EXPECT_NEAR(stats.get<double>("audioLevel").value_or(0), 0.177, 0.03);
      EXPECT_EQ(stats.get<std::string>("decoderImplementation"), "libopus");
    }
    EXPECT_TRUE(seen);
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(received.sample_rate, 48000);
  EXPECT_EQ(received.channels, 1);
  received.samples.erase(received.samples.begin(), received.samples.begin() + 4800);
  const auto frequency = media::estimate_tone_frequency(received);
  ASSERT_TRUE(frequency);
  EXPECT_NEAR(*frequency, 440.0, 4.4);
  a->close();
  b->close();
}

// getStats on the loop while another thread is in send_video_frame (which waits for the loop
// as it sends): neither may wait for the other.
TEST(RawMedia, StatsWhileSending) {
  auto a = make_pc();
  auto b = make_pc();
  auto t = a->add_transceiver(MediaStreamTrack::create("video"),
                              {RTCRtpTransceiverDirection::kSendOnly, {}});
  ASSERT_TRUE(t);
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(
      eventually([&] { return a->connection_state() == RTCPeerConnectionState::kConnected; }));
  auto pattern = media::TestPattern::create(320, 240);
  std::atomic<bool> done{false};
  std::thread sending([&] {
    for (std::uint32_t n = 0; n < 90; ++n) {
      auto picture = pattern->render({n, 0});
      picture.timestamp_us = static_cast<std::int64_t>(n) * 33'333;
      (void)(*t)->sender()->send_video_frame(picture);
    }
    done = true;
  });
  int reports = 0;
  while (!done) {
    auto report = a->get_stats();
    ASSERT_EQ(report.wait_for(10s), std::future_status::ready) << "getStats waited on the sender";
    (void)report.get();
    ++reports;
  }
  sending.join();
  EXPECT_GT(reports, 0);
  a->close();
  b->close();
}

// W3C 5.2 scaleResolutionDownBy: the pictures are scaled before encoding, each dimension
// divided and rounded down to an even size; back to 1, the full size again.
TEST(RawMedia, ScaleResolutionDownByShrinksWhatIsEncoded) {
  auto a = make_pc();
  auto b = make_pc();
  auto t = a->add_transceiver(MediaStreamTrack::create("video"),
                              {RTCRtpTransceiverDirection::kSendOnly, {}});
  ASSERT_TRUE(t);
  std::mutex mutex;
  std::vector<std::pair<int, int>> sizes;
  b->on_track([&](const RTCTrackEvent& e) {
    e.receiver->on_video_frame([&](const VideoFrame& picture) {
      std::lock_guard lock(mutex);
      sizes.emplace_back(picture.width(), picture.height());
    });
  });
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(
      eventually([&] { return a->connection_state() == RTCPeerConnectionState::kConnected; }));
  auto pattern = media::TestPattern::create(320, 240);
  auto sender = (*t)->sender();
  std::uint32_t n = 0;
  const auto send_and_see = [&](double factor, std::pair<int, int> expected) {
    auto parameters = sender->get_parameters();
    parameters.encodings.front().scale_resolution_down_by = factor;
    auto set = sender->set_parameters(parameters).get();
    ASSERT_TRUE(set) << set.error().to_string();
    {
      std::lock_guard lock(mutex);
      sizes.clear();
    }
    for (int i = 0; i < 5; ++i, ++n) {
      auto picture = pattern->render({n, 0});
      picture.timestamp_us = static_cast<std::int64_t>(n) * 33'333;
      ASSERT_TRUE(sender->send_video_frame(picture));
      std::this_thread::sleep_for(5ms);
    }
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(mutex);
      return sizes.size() >= 4;
    })) << factor;
    std::lock_guard lock(mutex);
    for (const auto& size : sizes) EXPECT_EQ(size, expected) << factor;
  };
  send_and_see(2.0, {160, 120});
  send_and_see(3.0, {106, 80});  // 106.7 x 80
  send_and_see(1.0, {320, 240});
  const auto report = sender->get_stats().get();
  for (const auto& [id, stats] : report) {
    if (stats.type == "outbound-rtp") {
      EXPECT_EQ(stats.get<std::uint64_t>("frameWidth"), 320u);
    }
  }
  a->close();
  b->close();
}

TEST(RawMedia, NothingToSendBeforeNegotiation) {
  auto a = make_pc();
  auto t = a->add_transceiver(MediaStreamTrack::create("video"), {});
  ASSERT_TRUE(t);
  auto picture = VideoFrame::create(64, 48);
  EXPECT_EQ((*t)->sender()->send_video_frame(*picture).error().type(),
            RTCErrorType::kInvalidStateError);
  a->close();
}

}  // namespace
}  // namespace rtcpp
