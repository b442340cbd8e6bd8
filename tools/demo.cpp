// `rtcpp demo`: two rtcpp processes on this machine connect through the public API
// (RTCPeerConnection, RTCDataChannel) over real UDP and one sends the other a file. This
// process is the sender and offerer; it starts itself again as the receiver, and the two
// exchange signaling (the peer contract's JSON lines) over the child's stdin and stdout. The
// sender draws a progress bar on stderr and ends with a getStats summary.
#include "tools/demo.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "base/random.hpp"
#include "base/sha256.hpp"
#include "rtcpp/rtcpp.hpp"

extern char** environ;

namespace rtcpp::tools {
namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void progress(std::size_t done, std::size_t total, double seconds) {
  const double fraction = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds / 1e6 : 0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / 1e6 / rate : 0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::fprintf(stderr, "\r[%.*s%*s] %5.1f%%  %6.1f/%.1f MiB  %7.1f MB/s  ETA %4.1fs ", filled,
               "##############################", kWidth - filled, "", fraction * 100,
               static_cast<double>(done) / (1 << 20), static_cast<double>(total) / (1 << 20), rate,
               eta);
}

// Signaling as JSON lines on a pair of file descriptors.
class LineChannel {
 public:
  LineChannel(int in_fd, int out_fd) : in_(in_fd), out_(out_fd) {}
  void write(const json& j) {
    const std::string line = j.dump() + "\n";
    std::lock_guard lock(mutex_);
    std::size_t off = 0;
    while (off < line.size()) {
      const ssize_t n = ::write(out_, line.data() + off, line.size() - off);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }
  // Calls on_line for each line until the other end closes.
  template <typename F>
  void read_lines(F on_line) {
    std::string pending;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(in_, buf, sizeof buf);
      if (n <= 0) return;
      pending.append(buf, static_cast<std::size_t>(n));
      for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
        on_line(pending.substr(0, nl));
        pending.erase(0, nl + 1);
      }
    }
  }

 private:
  int in_;
  int out_;
  std::mutex mutex_;
};

// Applies the peer's signaling lines to a connection. Candidates can overtake the description
// they belong to (the peer starts gathering when it applies its own description, before it
// has written it out); they wait here until a remote description exists, as a signaling
// server would hold them.
class SignalingApplier {
 public:
  SignalingApplier(RTCPeerConnection& pc, LineChannel& channel, bool answer_offers)
      : pc_(pc), channel_(channel), answer_offers_(answer_offers) {}

  void apply(const std::string& line) {
    const json msg = json::parse(line, nullptr, false);
    if (!msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) return;
    const std::string type = msg["type"];
    if ((type == "offer" || type == "answer") && msg.contains("sdp") && msg["sdp"].is_string()) {
      auto applied =
          pc_.set_remote_description({*sdp_type_from_string(type), msg["sdp"].get<std::string>()})
              .get();
      if (!applied) {
        std::fprintf(stderr, "rtcpp demo: %s\n", applied.error().to_string().c_str());
        return;
      }
      if (type == "offer" && answer_offers_) {
        auto answer = pc_.create_answer().get();
        if (answer && pc_.set_local_description(*answer).get())
          channel_.write({{"type", "answer"}, {"sdp", answer->sdp}});
      }
      for (const auto& candidate : held_) add(candidate);
      held_.clear();
    } else if (type == "candidate") {
      RTCIceCandidateInit init;
      init.candidate = msg.value("candidate", "");
      init.sdp_mid = msg.value("sdpMid", "0");
      if (!pc_.remote_description()) {
        held_.push_back(std::move(init));
        return;
      }
      add(init);
    }
  }

 private:
  void add(const RTCIceCandidateInit& init) {
    auto added = pc_.add_ice_candidate(init).get();
    if (!added) std::fprintf(stderr, "rtcpp demo: %s\n", added.error().to_string().c_str());
  }

  RTCPeerConnection& pc_;
  LineChannel& channel_;
  bool answer_offers_;
  std::vector<RTCIceCandidateInit> held_;
};

void trickle(RTCPeerConnection& pc, LineChannel& channel) {
  pc.on_ice_candidate([&channel](const RTCPeerConnectionIceEvent& e) {
    // The null candidate is not signaled (W3C 4.8.1): the end of candidates came before it,
    // as a candidate whose candidate is "".
    if (!e.candidate) return;
    const auto& c = e.candidate->to_json();
    channel.write({{"type", "candidate"},
                   {"candidate", c.candidate},
                   {"sdpMid", c.sdp_mid.value_or("0")},
                   {"sdpMLineIndex", c.sdp_m_line_index.value_or(0)}});
  });
}

RTCConfiguration demo_configuration() {
  RTCConfiguration config;
  config.gather_loopback = true;  // the two processes are on one machine
  return config;
}

// The child: answers, hashes what arrives, and reports the hash when the sender says "EOF".
int run_receiver() {
  LineChannel signaling(STDIN_FILENO, STDOUT_FILENO);
  auto created = RTCPeerConnection::create(demo_configuration());
  if (!created) {
    std::fprintf(stderr, "rtcpp demo receiver: %s\n", created.error().to_string().c_str());
    return 1;
  }
  auto pc = *created;
  trickle(*pc, signaling);
  auto hash = std::make_shared<Sha256>();
  auto bytes = std::make_shared<std::uint64_t>(0);
  pc->on_data_channel([hash, bytes](std::shared_ptr<RTCDataChannel> channel) {
    channel->on_message([channel, hash, bytes](const RTCMessageEvent& m) {
      if (!m.binary && m.text().rfind("EOF ", 0) == 0) {
        const bool same = m.text().substr(4) == hash->hex();
        (void)channel->send(std::string(same ? "OK " : "BAD ") + std::to_string(*bytes));
        return;
      }
      hash->update(BytesView(m.data.data(), m.data.size()));
      *bytes += m.data.size();
    });
  });
  SignalingApplier applier(*pc, signaling, true);
  signaling.read_lines([&](const std::string& line) { applier.apply(line); });
  pc->close();
  return 0;
}

std::string stat_string(const RTCStats* s, const std::string& name) {
  if (s == nullptr) return "?";
  if (auto v = s->get<std::string>(name)) return *v;
  if (auto v = s->get<std::uint64_t>(name)) return std::to_string(*v);
  if (auto v = s->get<std::int64_t>(name)) return std::to_string(*v);
  return "?";
}

void print_summary(const RTCStatsReport& report) {
  const RTCStats* transport = report.get("T01");
  const RTCStats* pair = report.get(stat_string(transport, "selectedCandidatePairId"));
  const RTCStats* local = report.get(stat_string(pair, "localCandidateId"));
  const RTCStats* remote = report.get(stat_string(pair, "remoteCandidateId"));
  std::fprintf(stderr, "getStats summary:\n");
  std::fprintf(stderr, "  candidate pair   %s:%s (%s) -> %s:%s (%s)\n",
               stat_string(local, "address").c_str(), stat_string(local, "port").c_str(),
               stat_string(local, "candidateType").c_str(), stat_string(remote, "address").c_str(),
               stat_string(remote, "port").c_str(), stat_string(remote, "candidateType").c_str());
  std::fprintf(
      stderr, "  transport        ICE %s (%s), DTLS %s (%s, %s)\n",
      stat_string(transport, "iceState").c_str(), stat_string(transport, "iceRole").c_str(),
      stat_string(transport, "dtlsState").c_str(), stat_string(transport, "dtlsRole").c_str(),
      stat_string(transport, "dtlsCipher").c_str());
  std::fprintf(stderr, "  UDP              %s datagrams / %s bytes sent, %s / %s received\n",
               stat_string(transport, "packetsSent").c_str(),
               stat_string(transport, "bytesSent").c_str(),
               stat_string(transport, "packetsReceived").c_str(),
               stat_string(transport, "bytesReceived").c_str());
  for (const auto& [id, s] : report) {
    if (s.type != "data-channel") continue;
    std::fprintf(stderr, "  data channel     '%s' id %s: %s messages / %s bytes sent\n",
                 stat_string(&s, "label").c_str(), stat_string(&s, "dataChannelIdentifier").c_str(),
                 stat_string(&s, "messagesSent").c_str(), stat_string(&s, "bytesSent").c_str());
  }
}

}  // namespace

CLI::App* add_demo_command(CLI::App& app, DemoOptions& options) {
  auto* demo = app.add_subcommand(
      "demo",
      "Two rtcpp processes connect over UDP (ICE, DTLS, SCTP, a data channel) and one sends "
      "the other FILE, or generated bytes");
  demo->add_option("FILE", options.file, "the file to send (default: generated data)");
  demo->add_option("--bytes", options.generated_bytes, "how many bytes to generate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  demo->add_option("--timeout", options.timeout_seconds, "give up after this many seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  // The receiving process the demo starts; not for users.
  demo->add_flag("--receiver", options.receiver)->group("");
  return demo;
}

int run_demo(const DemoOptions& options) {
  if (options.receiver) return run_receiver();

  Buffer file;
  if (!options.file.empty()) {
    std::ifstream in(options.file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "rtcpp demo: cannot read %s\n", options.file.c_str());
      return 1;
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    file = Buffer(as_bytes(std::string_view(bytes.data(), bytes.size())));
  } else {
    file = Buffer(options.generated_bytes);
    SeededRandom(2026).fill(file.mutable_view());
  }
  Sha256 file_hash;
  file_hash.update(file.view());

  // The receiver: this binary again, signaling over its stdin and stdout.
  int to_child[2];
  int from_child[2];
  if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
    std::perror("rtcpp demo: pipe");
    return 1;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
  char self[] = "/proc/self/exe";
  char demo[] = "demo";
  char receiver[] = "--receiver";
  char* child_argv[] = {self, demo, receiver, nullptr};
  pid_t child = 0;
  if (posix_spawn(&child, "/proc/self/exe", &actions, nullptr, child_argv, environ) != 0) {
    std::perror("rtcpp demo: spawn");
    return 1;
  }
  posix_spawn_file_actions_destroy(&actions);
  ::close(to_child[0]);
  ::close(from_child[1]);
  LineChannel signaling(from_child[0], to_child[1]);
  std::fprintf(stderr,
               "rtcpp demo: process %d sends %zu bytes to process %d over a data channel (UDP)\n",
               static_cast<int>(getpid()), file.size(), static_cast<int>(child));

  auto created = RTCPeerConnection::create(demo_configuration());
  if (!created) {
    std::fprintf(stderr, "rtcpp demo: %s\n", created.error().to_string().c_str());
    return 1;
  }
  auto pc = *created;
  trickle(*pc, signaling);

  std::mutex mutex;
  std::condition_variable changed;
  std::optional<std::string> verdict;
  std::optional<double> open_seconds;
  std::atomic<std::size_t> sent{0};
  bool all_sent = false;
  const auto started = Clock::now();
  std::optional<Clock::time_point> transfer_started;

  auto channel = *pc->create_data_channel("file", {});
  constexpr std::size_t kChunk = 64 * 1024;
  constexpr std::size_t kHighWater = 4 * 1024 * 1024;
  channel->set_buffered_amount_low_threshold(1024 * 1024);
  // Runs on the loop thread: sends until 4 MiB is buffered, then waits for bufferedamountlow.
  auto pump = [&] {
    while (sent < file.size() && channel->buffered_amount() < kHighWater) {
      const std::size_t n = std::min(kChunk, file.size() - sent);
      if (!channel->send(std::span<const std::uint8_t>(file.data() + sent.load(), n))) return;
      sent += n;
    }
    if (sent == file.size() && !all_sent) {
      all_sent = true;
      (void)channel->send("EOF " + file_hash.hex());
    }
  };
  channel->on_open([&] {
    {
      std::lock_guard lock(mutex);
      open_seconds = seconds_since(started);
      transfer_started = Clock::now();
    }
    pump();
  });
  channel->on_buffered_amount_low([&] { pump(); });
  channel->on_message([&](const RTCMessageEvent& m) {
    std::lock_guard lock(mutex);
    verdict = std::string(m.text());
    changed.notify_all();
  });

  std::thread reader([&] {
    SignalingApplier applier(*pc, signaling, false);
    signaling.read_lines([&](const std::string& line) { applier.apply(line); });
  });
  auto offer = pc->create_offer().get();
  if (!offer || !pc->set_local_description(*offer).get()) {
    std::fprintf(stderr, "rtcpp demo: cannot make an offer\n");
    return 1;
  }
  signaling.write({{"type", "offer"}, {"sdp", offer->sdp}});

  // Progress until the receiver's verdict (or the timeout).
  const auto deadline = started + std::chrono::seconds(options.timeout_seconds);
  {
    std::unique_lock lock(mutex);
    while (!verdict && Clock::now() < deadline) {
      changed.wait_for(lock, std::chrono::milliseconds(200));
      if (transfer_started) {
        const std::size_t sent_now = sent.load();
        // bufferedAmount falls as SCTP first sends the bytes (W3C 6.2), so this is what left.
        const std::size_t left = sent_now - std::min(sent_now, channel->buffered_amount());
        progress(left, file.size(), seconds_since(*transfer_started));
      }
    }
  }
  const double transfer_seconds = transfer_started ? seconds_since(*transfer_started) : 0;
  std::fprintf(stderr, "\n");
  bool ok = false;
  if (!verdict) {
    std::fprintf(stderr, "rtcpp demo: timed out after %d s (connection %s)\n",
                 options.timeout_seconds, std::string(to_string(pc->connection_state())).c_str());
  } else {
    ok = verdict->rfind("OK ", 0) == 0;
    std::fprintf(stderr,
                 "rtcpp demo: %s: %zu bytes in %.2f s (%.1f MB/s), first channel open after "
                 "%.1f ms, SHA-256 %s\n",
                 ok ? "done" : "FAILED", file.size(), transfer_seconds,
                 static_cast<double>(file.size()) / 1e6 / transfer_seconds, *open_seconds * 1000,
                 ok ? "equal on both sides" : "DIFFERENT");
    print_summary(pc->get_stats().get());
  }
  pc->close();
  ::close(to_child[1]);  // the receiver ends when its stdin closes, and then so does the reader
  reader.join();
  ::close(from_child[0]);
  int status = 0;
  waitpid(child, &status, 0);
  return ok ? 0 : 1;
}

}  // namespace rtcpp::tools
