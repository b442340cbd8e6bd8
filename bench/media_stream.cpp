// rtcpp -> rtcpp video-sized RTP over real loopback UDP, two processes: the sender sends
// VP8-framed frames at a given bit rate through RTCRtpSender::send_encoded_frame, the receiver
// counts the whole frames RTCRtpReceiver delivers. Each process measures its own CPU time
// (all its threads) over the measured window. Prints one JSON line.
//   rtcpp_media_stream_bench [--mbps 50] [--seconds 20] [--fps 30]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "common/vp8_frames.hpp"
#include "rtcpp/rtcpp.hpp"

namespace {

using namespace rtcpp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Length-prefixed messages over a pipe.
bool write_message(int fd, const std::string& text) {
  const auto size = static_cast<std::uint32_t>(text.size());
  std::string framed(reinterpret_cast<const char*>(&size), sizeof size);
  framed += text;
  std::size_t done = 0;
  while (done < framed.size()) {
    const ssize_t n = ::write(fd, framed.data() + done, framed.size() - done);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool read_exact(int fd, char* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, out + done, size - done);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<std::string> read_message(int fd) {
  std::uint32_t size = 0;
  if (!read_exact(fd, reinterpret_cast<char*>(&size), sizeof size) || size > (1u << 20))
    return std::nullopt;
  std::string text(size, '\0');
  if (!read_exact(fd, text.data(), size)) return std::nullopt;
  return text;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::shared_ptr<RTCPeerConnection> make_pc() {
  RTCConfiguration config;
  config.gather_loopback = true;
  auto pc = RTCPeerConnection::create(std::move(config));
  if (!pc) {
    std::fprintf(stderr, "media_stream_bench: %s\n", pc.error().to_string().c_str());
    std::_Exit(1);
  }
  return *pc;
}

std::string gathered_description(RTCPeerConnection& pc) {
  while (pc.ice_gathering_state() != RTCIceGatheringState::kComplete)
    std::this_thread::sleep_for(5ms);
  return pc.local_description()->sdp;
}

// The receiving process: answers, then reports what arrived between "start" and "stop".
int receive(int in, int out) {
  auto pc = make_pc();
  std::atomic<std::uint64_t> frames{0};
  std::atomic<std::uint64_t> bytes{0};
  pc->on_track([&](const RTCTrackEvent& e) {
    e.receiver->on_encoded_frame([&](const RTCEncodedFrame& frame) {
      ++frames;
      bytes += frame.data.size();
    });
  });
  auto offer = read_message(in);
  if (!offer || !pc->set_remote_description({RTCSdpType::kOffer, *offer}).get() ||
      !pc->set_local_description().get())
    return 1;
  write_message(out, gathered_description(*pc));
  if (read_message(in) != "start") return 1;
  const double cpu_start = cpu_seconds();
  const std::uint64_t frames_start = frames;
  const std::uint64_t bytes_start = bytes;
  if (read_message(in) != "stop") return 1;
  std::this_thread::sleep_for(200ms);  // the last frames in flight
  const double cpu = cpu_seconds() - cpu_start;
  std::uint64_t lost = 0;
  for (const auto& [id, stats] : pc->get_stats().get()) {
    if (stats.type == "inbound-rtp") lost = stats.get<std::uint64_t>("packetsLost").value_or(0);
  }
  char report[256];
  std::snprintf(report, sizeof report, "%.3f %llu %llu %llu", cpu,
                static_cast<unsigned long long>(frames - frames_start),
                static_cast<unsigned long long>(bytes - bytes_start),
                static_cast<unsigned long long>(lost));
  write_message(out, report);
  pc->close();
  return 0;
}

int send(int in, int out, double mbps, double seconds, int fps) {
  auto pc = make_pc();
  RTCRtpTransceiverInit init;
  init.direction = RTCRtpTransceiverDirection::kSendOnly;
  auto transceiver = pc->add_transceiver(MediaStreamTrack::create("video"), init);
  if (!transceiver) return 1;
  auto sender = (*transceiver)->sender();
  if (!pc->set_local_description().get()) return 1;
  write_message(out, gathered_description(*pc));
  auto answer = read_message(in);
  if (!answer || !pc->set_remote_description({RTCSdpType::kAnswer, *answer}).get()) return 1;

  const auto frame_bytes = static_cast<std::size_t>(mbps * 1e6 / 8 / fps);
  const auto period =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / fps));
  std::uint32_t number = 0;
  auto next_frame = [&] {
    RTCEncodedFrame frame;
    frame.key_frame = number % static_cast<std::uint32_t>(fps * 2) == 0;  // one each 2 s
    frame.rtp_timestamp = number * (90000 / static_cast<std::uint32_t>(fps));
    const auto data = ::test_support::vp8_frame(number, frame.key_frame, frame_bytes);
    frame.data.assign(data.begin(), data.end());
    ++number;
    return frame;
  };
  // Connected once a key frame goes out; then a second of warm-up.
  const auto connect_deadline = Clock::now() + 10s;
  while (!sender->send_encoded_frame(next_frame())) {
    number = 0;
    if (Clock::now() > connect_deadline) return 1;
    std::this_thread::sleep_for(10ms);
  }
  auto due = Clock::now();
  auto pace_until = [&](Clock::time_point end) {
    std::uint64_t sent = 0;
    while (due < end) {
      std::this_thread::sleep_until(due);
      if (sender->send_encoded_frame(next_frame())) ++sent;
      due += period;
    }
    return sent;
  };
  pace_until(Clock::now() + 1s);
  write_message(out, "start");
  const double cpu_start = cpu_seconds();
  const auto started = Clock::now();
  const std::uint64_t sent = pace_until(started + std::chrono::duration_cast<Clock::duration>(
                                                      std::chrono::duration<double>(seconds)));
  const double wall = std::chrono::duration<double>(Clock::now() - started).count();
  const double cpu = cpu_seconds() - cpu_start;
  write_message(out, "stop");
  auto report = read_message(in);
  if (!report) return 1;
  double receiver_cpu = 0;
  unsigned long long frames = 0;
  unsigned long long bytes = 0;
  unsigned long long lost = 0;
  if (std::sscanf(report->c_str(), "%lf %llu %llu %llu", &receiver_cpu, &frames, &bytes, &lost) !=
      4)
    return 1;
  std::printf(
      "{\"mbps\":%.1f,\"seconds\":%.1f,\"frameBytes\":%zu,\"framesSent\":%llu,"
      "\"framesReceived\":%llu,\"receivedMbps\":%.2f,\"packetsLost\":%llu,"
      "\"senderCpuPercent\":%.2f,\"receiverCpuPercent\":%.2f}\n",
      mbps, wall, frame_bytes, static_cast<unsigned long long>(sent), frames,
      static_cast<double>(bytes) * 8 / wall / 1e6, lost, 100.0 * cpu / wall,
      100.0 * receiver_cpu / wall);
  pc->close();
  return frames >= sent ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  double mbps = 50;
  double seconds = 20;
  int fps = 30;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string option = argv[i];
    if (option == "--mbps") {
      mbps = std::atof(argv[i + 1]);
    } else if (option == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else if (option == "--fps") {
      fps = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: rtcpp_media_stream_bench [--mbps M] [--seconds S] [--fps F]\n");
      return 2;
    }
  }
  if (mbps <= 0 || seconds <= 0 || fps <= 0 || fps > 120) {
    std::fprintf(stderr, "media_stream_bench: --mbps and --seconds above 0, --fps 1-120\n");
    return 2;
  }
  int to_receiver[2];
  int to_sender[2];
  if (pipe(to_receiver) != 0 || pipe(to_sender) != 0) return 1;
  // Forked before any thread exists: each process then makes its own connection.
  const pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    ::close(to_receiver[1]);
    ::close(to_sender[0]);
    std::_Exit(receive(to_receiver[0], to_sender[1]));
  }
  ::close(to_receiver[0]);
  ::close(to_sender[1]);
  const int result = send(to_sender[0], to_receiver[1], mbps, seconds, fps);
  ::close(to_receiver[1]);
  int status = 0;
  waitpid(child, &status, 0);
  return result;
}
