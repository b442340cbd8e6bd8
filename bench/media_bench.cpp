// The RTP media path of a connection core without the sockets: pc::MediaSession cutting VP8
// frames into packets (send) and putting them back together (receive), alone and with SRTP
// (AEAD_AES_128_GCM) on each packet as the transport applies it. Frames of 9,000 bytes
// (8 packets of at most 1200 bytes): a 2.2 Mbit/s stream at 30 fps. Time and heap
// allocations are per packet, taken as the connection core takes them (one MediaPacket
// reused for every packet sent).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <vector>

#include "allocation_counter.hpp"
#include "common/vp8_frames.hpp"
#include "pc/media_session.hpp"
#include "rtp/srtp.hpp"

namespace rtcpp::pc {
namespace {

constexpr std::size_t kFrameSize = 9000;
// 8192 frames of 8 packets: a receiver fed them over and over sees sequence numbers that
// wrap and carry on, so it runs without ever being reset.
constexpr std::size_t kCyclePackets = 65536;

std::vector<MediaBinding> video_binding() {
  RtpParameters p;
  p.codecs = {{96, "VP8", 90000, 1, {}, {"nack", "nack pli"}, 97}};
  p.extensions = {{4, std::string(kMidExtensionUri)}};
  MediaBinding b{1, "0", MediaKind::kVideo, true, true, p, p};
  b.local.ssrcs = {0x1234};
  return {b};
}

EncodedFrame frame(std::uint32_t number) {
  return {number * 3000, number == 0, test_support::vp8_frame(number, number == 0, kFrameSize)};
}

rtp::SrtpSessions srtp_pair() {
  const Buffer key(16);
  const Buffer salt(12);
  return std::move(
      *rtp::make_dtls_srtp_sessions("SRTP_AEAD_AES_128_GCM", key, salt, key, salt, true));
}

void report(benchmark::State& state, std::uint64_t packets, std::uint64_t allocated) {
  state.counters["packets"] = static_cast<double>(packets);
  state.counters["time/packet"] = benchmark::Counter(
      static_cast<double>(packets), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["allocs/packet"] =
      static_cast<double>(allocated) / static_cast<double>(std::max<std::uint64_t>(packets, 1));
}

void MediaSend(benchmark::State& state, bool with_srtp) {
  SeededRandom rng(1);
  MediaSession session(rng);
  session.configure(video_binding());
  auto srtp = srtp_pair();
  const EncodedFrame f = frame(1);
  Buffer protected_packet;
  std::uint64_t packets = 0;
  MediaPacket packet;
  // Warm up (the NACK history fills), then count.
  for (int i = 0; i < 64; ++i) {
    (void)session.send_frame(1, f, Timestamp::zero());
    while (session.poll_transmit(packet)) {
    }
  }
  const auto before = bench::heap_allocations();
  for (auto _ : state) {
    (void)session.send_frame(1, f, Timestamp::zero());
    while (session.poll_transmit(packet)) {
      if (with_srtp) (void)srtp.outbound.protect_rtp(packet.bytes, protected_packet);
      benchmark::DoNotOptimize(packet.bytes.data());
      ++packets;
    }
  }
  report(state, packets, bench::heap_allocations() - before);
}

void MediaReceive(benchmark::State& state, bool with_srtp) {
  SeededRandom rng(2);
  MediaSession sender(rng);
  MediaSession receiver(rng);
  sender.configure(video_binding());
  receiver.configure(video_binding());
  auto srtp = srtp_pair();
  // One cycle of packets, protected ahead and fed over and over; with SRTP, the sessions
  // start again with each pass (their replay window would refuse the packets otherwise).
  std::vector<Buffer> packets;
  MediaPacket sent;
  for (std::uint32_t i = 0; packets.size() < kCyclePackets; ++i) {
    (void)sender.send_frame(1, frame(i % 8192), Timestamp::zero());
    while (sender.poll_transmit(sent)) {
      Buffer out;
      if (with_srtp) {
        (void)srtp.outbound.protect_rtp(sent.bytes, out);
      } else {
        out.assign(sent.bytes);
      }
      packets.push_back(std::move(out));
    }
  }
  if (packets.size() != kCyclePackets) state.SkipWithError("frames are not 8 packets each");
  std::size_t next = 0;
  std::uint64_t count = 0;
  std::uint64_t frames = 0;
  Buffer clear;
  auto feed = [&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i, next = (next + 1) % packets.size()) {
      const Buffer& p = packets[next];
      if (with_srtp) {
        (void)srtp.inbound.unprotect_rtp(p, clear);
        receiver.handle_rtp(clear, Timestamp::zero());
      } else {
        receiver.handle_rtp(p, Timestamp::zero());
      }
      while (auto e = receiver.poll_event()) ++frames;
    }
  };
  feed(1024);  // the assembler's ring and the queues reach their working size
  const auto before = bench::heap_allocations();
  for (auto _ : state) {
    if (with_srtp && next == 0) {
      state.PauseTiming();
      srtp = srtp_pair();
      state.ResumeTiming();
    }
    feed(1);
    ++count;
  }
  report(state, count, bench::heap_allocations() - before);
  state.counters["frames"] = static_cast<double>(frames);
}

BENCHMARK_CAPTURE(MediaSend, vp8, false);
BENCHMARK_CAPTURE(MediaSend, vp8_srtp_gcm, true);
BENCHMARK_CAPTURE(MediaReceive, vp8, false);
BENCHMARK_CAPTURE(MediaReceive, vp8_srtp_gcm, true);

}  // namespace
}  // namespace rtcpp::pc
