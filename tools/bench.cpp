// `rtcpp bench`: see bench.hpp. Everything here goes through the public API, as a user's
// program would; the process figures come from the kernel (getrusage, /proc/self, and a
// perf counter of the syscalls the process makes).
#include "tools/bench.hpp"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <malloc.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rtcpp/rtcpp.hpp"
#include "tools/heap_count.hpp"
#include "tools/process_pair.hpp"

namespace rtcpp::tools {
namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;
constexpr double kMiB = 1024.0 * 1024.0;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Two decimals in the JSON (nlohmann prints the shortest form that reads back the same).
double round2(double value) {
  return std::round(value * 100) / 100;
}

void print_result(const json& line) {
  std::printf("%s\n", line.dump().c_str());
  std::fflush(stdout);
}

// ---- what the process costs, from the kernel ----

std::string errno_text(int error) {
  char buffer[256];
  return strerror_r(error, buffer, sizeof buffer);  // the GNU form: returns the text
}

// User plus system time of every thread of this process.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The resident set, from /proc/self/statm (pages).
double resident_kib() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size_pages = 0;
  std::uint64_t resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return static_cast<double>(resident_pages) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1024;
}

int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  return 0;
}

int open_descriptors() {
  std::error_code error;
  int count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error))
    ++count;
  return count;
}

// Counts the syscalls of this process (every thread made after it, so it is made first) with
// the kernel's raw_syscalls:sys_enter tracepoint. Needs tracefs and the permission to trace
// (root, or perf_event_paranoid <= 1); without them the count is unknown (null in the JSON).
class SyscallCounter {
 public:
  SyscallCounter() {
    std::optional<std::uint64_t> id;
    for (const char* path : {"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
                             "/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id"}) {
      std::ifstream in(path);
      std::uint64_t value = 0;
      if (in >> value) {
        id = value;
        break;
      }
    }
    if (!id) return;
    perf_event_attr attr{};
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.size = sizeof attr;
    attr.config = *id;
    attr.inherit = 1;  // threads started later count too
    fd_ = static_cast<int>(::syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
  }
  ~SyscallCounter() {
    if (fd_ >= 0) ::close(fd_);
  }
  SyscallCounter(const SyscallCounter&) = delete;
  SyscallCounter& operator=(const SyscallCounter&) = delete;

  [[nodiscard]] std::optional<std::uint64_t> read() const {
    std::uint64_t value = 0;
    if (fd_ < 0 || ::read(fd_, &value, sizeof value) != sizeof value) return std::nullopt;
    return value;
  }

 private:
  int fd_ = -1;
};

// CPU time, syscalls and heap allocations (counted only by `rtcpp-counted`) from a starting
// point.
struct CostMark {
  double cpu_seconds = 0;
  std::optional<std::uint64_t> syscalls;
  std::optional<std::uint64_t> allocations;
  Clock::time_point at;

  static CostMark now(const SyscallCounter& counter) {
    return {process_cpu_seconds(), counter.read(), tools::heap_allocations(), Clock::now()};
  }
};

// What moved between two marks: bytes, and the messages and packets that carried them.
struct Moved {
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;
  std::uint64_t packets = 0;  // DTLS records' datagrams, from the transport's stats
};

// {"cpuMsPerMiB":..,"syscallsPerMiB":..,"allocationsPerMessage":..,"allocationsPerPacket":..}
// for what moved between two marks; a figure the process cannot measure is null.
json cost_per_mib(const CostMark& from, const CostMark& to, const Moved& moved) {
  const double mib = static_cast<double>(moved.bytes) / kMiB;
  json cost;
  cost["cpuMsPerMiB"] = round2((to.cpu_seconds - from.cpu_seconds) * 1000 / mib);
  if (from.syscalls && to.syscalls)
    cost["syscallsPerMiB"] = round2(static_cast<double>(*to.syscalls - *from.syscalls) / mib);
  else
    cost["syscallsPerMiB"] = nullptr;
  cost["allocationsPerMessage"] = nullptr;
  cost["allocationsPerPacket"] = nullptr;
  if (from.allocations && to.allocations) {
    const auto allocations = static_cast<double>(*to.allocations - *from.allocations);
    const auto per = [allocations](std::uint64_t count) {
      return count == 0 ? json()
                        : json(std::round(allocations / static_cast<double>(count) * 1e4) / 1e4);
    };
    cost["allocationsPerMessage"] = per(moved.messages);
    cost["allocationsPerPacket"] = per(moved.packets);
  }
  return cost;
}

// The transport's packet count (sent or received) once the transfer is done.
std::uint64_t transport_packets(const RTCStatsReport& report, const char* member) {
  for (const auto& [id, stats] : report) {
    if (stats.type == "transport") return stats.get<std::uint64_t>(member).value_or(0);
  }
  return 0;
}

// Thousands of connections need more descriptors than the usual soft limit of 1024.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// A network namespace of our own whose only interface is loopback, brought up: every
// candidate is then 127.0.0.1 and nothing else on the machine's network takes part. A child
// process started later inherits it.
bool enter_loopback_namespace() {
  if (unshare(CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "rtcpp bench: --isolated needs a new network namespace: %s\n",
                 errno_text(errno).c_str());
    return false;
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  bool up = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &request) == 0;
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  up = up && ioctl(fd, SIOCSIFFLAGS, &request) == 0;
  if (fd >= 0) ::close(fd);
  if (!up)
    std::fprintf(stderr, "rtcpp bench: cannot bring up loopback: %s\n", errno_text(errno).c_str());
  return up;
}

RTCConfiguration bench_configuration(const BenchOptions& options) {
  RTCConfiguration config;
  config.gather_loopback = true;  // both ends are on this machine
  config.sctp_zero_checksum = options.zero_checksum;
  if (options.udp_only) config.ice_candidate_protocols = RTCIceCandidateProtocols::kUdpOnly;
  if (options.shared_certificate) {
    // As a server would: generateCertificate once, the same identity for every connection.
    static const auto certificate = RTCCertificate::generate();
    if (certificate) config.certificates.push_back(*certificate);
  }
  return config;
}

// ---- two connections in this process ----

// Hands one side's candidates to the other, holding them until the other side has the
// remote description they belong to.
class CandidateRelay {
 public:
  explicit CandidateRelay(std::weak_ptr<RTCPeerConnection> to) : to_(std::move(to)) {}

  void candidate(const RTCPeerConnectionIceEvent& event) {
    if (!event.candidate) return;
    std::lock_guard lock(mutex_);
    if (ready_)
      add(event.candidate->to_json());
    else
      held_.push_back(event.candidate->to_json());
  }
  void remote_description_set() {
    std::lock_guard lock(mutex_);
    ready_ = true;
    for (auto& init : held_) add(std::move(init));
    held_.clear();
  }

 private:
  void add(RTCIceCandidateInit init) {
    if (auto pc = to_.lock()) pc->add_ice_candidate(std::move(init), [](const Result<>&) {});
  }

  std::weak_ptr<RTCPeerConnection> to_;
  std::mutex mutex_;
  bool ready_ = false;
  std::vector<RTCIceCandidateInit> held_;
};

// An offerer and an answerer in this process over loopback UDP, with one data channel.
struct LoopbackPair {
  std::shared_ptr<RTCPeerConnection> offerer;
  std::shared_ptr<RTCPeerConnection> answerer;
  std::shared_ptr<RTCDataChannel> channel;
  std::shared_ptr<CandidateRelay> to_offerer;
  std::shared_ptr<CandidateRelay> to_answerer;

  void close() {
    if (offerer) offerer->close();
    if (answerer) answerer->close();
  }
};

std::shared_ptr<LoopbackPair> make_loopback_pair(const RTCConfiguration& config) {
  auto offerer = RTCPeerConnection::create(config);
  auto answerer = RTCPeerConnection::create(config);
  if (!offerer || !answerer) {
    std::fprintf(stderr, "rtcpp bench: %s\n",
                 (!offerer ? offerer.error() : answerer.error()).to_string().c_str());
    return nullptr;
  }
  auto pair = std::make_shared<LoopbackPair>();
  pair->offerer = *offerer;
  pair->answerer = *answerer;
  pair->to_offerer = std::make_shared<CandidateRelay>(pair->offerer);
  pair->to_answerer = std::make_shared<CandidateRelay>(pair->answerer);
  pair->offerer->on_ice_candidate(
      [relay = pair->to_answerer](const RTCPeerConnectionIceEvent& e) { relay->candidate(e); });
  pair->answerer->on_ice_candidate(
      [relay = pair->to_offerer](const RTCPeerConnectionIceEvent& e) { relay->candidate(e); });
  return pair;
}

// Called on the loop thread: `opened` when the offerer's channel opens, `finished` once, with
// true when the answerer has received the offerer's first message and false on any failure.
struct PairEvents {
  std::function<void()> opened;
  std::function<void(bool)> finished;
};

// Negotiates the pair with the callback forms of the API (nothing here waits), then sends
// one message over its channel.
void connect_pair(const std::shared_ptr<LoopbackPair>& pair, const PairEvents& events) {
  auto finished_once = std::make_shared<std::atomic<bool>>(false);
  auto finish = [finished = events.finished, finished_once](bool ok) {
    if (!finished_once->exchange(true)) finished(ok);
  };
  auto on_failure = [finish](const std::shared_ptr<RTCPeerConnection>& pc) {
    return [finish, weak = std::weak_ptr<RTCPeerConnection>(pc)] {
      if (auto live = weak.lock();
          live && live->connection_state() == RTCPeerConnectionState::kFailed)
        finish(false);
    };
  };
  pair->offerer->on_connection_state_change(on_failure(pair->offerer));
  pair->answerer->on_connection_state_change(on_failure(pair->answerer));
  pair->answerer->on_data_channel([finish](const std::shared_ptr<RTCDataChannel>& channel) {
    channel->on_message([finish](const RTCMessageEvent&) { finish(true); });
  });
  auto channel = pair->offerer->create_data_channel("bench");
  if (!channel) {
    finish(false);
    return;
  }
  pair->channel = *channel;
  pair->channel->on_open([opened = events.opened, weak = std::weak_ptr(pair->channel)] {
    if (opened) opened();
    if (auto open_channel = weak.lock()) (void)open_channel->send("hello");
  });

  const auto& offerer = pair->offerer;
  const auto& answerer = pair->answerer;
  auto fail_on_error = [finish](const auto& result) {
    if (!result) finish(false);
    return static_cast<bool>(result);
  };
  // offer -> local(offer) -> remote(offer) -> answer -> local(answer) -> remote(answer)
  offerer->create_offer([=](Result<RTCSessionDescriptionInit> offer) {
    if (!fail_on_error(offer)) return;
    offerer->set_local_description(
        [=](const Result<>& set_offer) {
          if (!fail_on_error(set_offer)) return;
          answerer->set_remote_description(*offer, [=](const Result<>& got_offer) {
            if (!fail_on_error(got_offer)) return;
            pair->to_answerer->remote_description_set();
            answerer->create_answer([=](Result<RTCSessionDescriptionInit> answer) {
              if (!fail_on_error(answer)) return;
              answerer->set_local_description(
                  [=](const Result<>& set_answer) {
                    if (!fail_on_error(set_answer)) return;
                    offerer->set_remote_description(*answer, [=](const Result<>& got_answer) {
                      if (!fail_on_error(got_answer)) return;
                      pair->to_offerer->remote_description_set();
                    });
                  },
                  *answer);
            });
          });
        },
        *offer);
  });
}

double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  // Nearest rank: the smallest value with at least `fraction` of the values at or below it.
  const auto rank =
      static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

// What the process holds between connections: memory, descriptors, threads.
struct Holdings {
  double rss_kib = 0;
  double heap_kib = 0;  // in use in glibc's heap (mallinfo2): a leak grows it, fragmentation not
  int descriptors = 0;
  int threads = 0;
};

Holdings holdings_now() {
  // Closing finishes on the loop thread: give it a moment before counting.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const struct mallinfo2 heap = mallinfo2();
  return {resident_kib(), static_cast<double>(heap.uordblks + heap.hblkhd) / 1024,
          open_descriptors(), thread_count()};
}

int run_connect(const BenchOptions& options) {
  const RTCConfiguration config = bench_configuration(options);
  std::vector<double> open_ms;
  // Counted after the first tenth of the runs (allocator pools and caches warm) and at the
  // end: connect-close cycles that leak show as growth between the two.
  const int warm_runs = std::max(1, options.runs / 10);
  Holdings warm;
  for (int run = 0; run < options.runs; ++run) {
    if (run == warm_runs) warm = holdings_now();
    auto pair = make_loopback_pair(config);
    if (!pair) return 1;
    auto opened = std::make_shared<std::promise<Clock::time_point>>();
    auto settled = std::make_shared<std::atomic<bool>>(false);
    const auto started = Clock::now();
    connect_pair(pair, {[opened, settled] {
                          if (!settled->exchange(true)) opened->set_value(Clock::now());
                        },
                        [opened, settled](bool ok) {
                          if (!ok && !settled->exchange(true))
                            opened->set_exception(std::make_exception_ptr(std::runtime_error("")));
                        }});
    auto open_time = opened->get_future();
    if (open_time.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      std::fprintf(stderr, "rtcpp bench connect: run %d did not open within 10 s\n", run + 1);
      return 1;
    }
    try {
      open_ms.push_back(
          std::chrono::duration<double, std::milli>(open_time.get() - started).count());
    } catch (const std::runtime_error&) {
      std::fprintf(stderr, "rtcpp bench connect: run %d failed\n", run + 1);
      return 1;
    }
    pair->close();
  }
  const Holdings end = holdings_now();
  if (options.runs <= warm_runs) warm = end;
  const double median = percentile(open_ms, 0.5);
  const double p99 = percentile(open_ms, 0.99);
  const double max = *std::max_element(open_ms.begin(), open_ms.end());
  const double min = *std::min_element(open_ms.begin(), open_ms.end());
  std::fprintf(stderr,
               "rtcpp bench connect: %d runs, create_offer to the first open channel: median %.2f "
               "ms, p99 %.2f ms, max %.2f ms (min %.2f ms)\n",
               options.runs, median, p99, max, min);
  std::fprintf(stderr,
               "rtcpp bench connect: after run %d and after run %d: RSS %.0f and %.0f KiB, heap in "
               "use %.0f and %.0f KiB, %d and %d descriptors, %d and %d threads\n",
               std::min(warm_runs, options.runs), options.runs, warm.rss_kib, end.rss_kib,
               warm.heap_kib, end.heap_kib, warm.descriptors, end.descriptors, warm.threads,
               end.threads);
  print_result({{"bench", "connect"},
                {"runs", options.runs},
                {"medianMs", round2(median)},
                {"p99Ms", round2(p99)},
                {"maxMs", round2(max)},
                {"minMs", round2(min)},
                {"warmRuns", std::min(warm_runs, options.runs)},
                {"rssKiBWarm", round2(warm.rss_kib)},
                {"rssKiBEnd", round2(end.rss_kib)},
                {"heapKiBWarm", round2(warm.heap_kib)},
                {"heapKiBEnd", round2(end.heap_kib)},
                {"descriptorsWarm", warm.descriptors},
                {"descriptorsEnd", end.descriptors},
                {"threadsWarm", warm.threads},
                {"threadsEnd", end.threads}});
  return 0;
}

int run_connections(const BenchOptions& options) {
  raise_descriptor_limit();
  const SyscallCounter syscalls;
  const RTCConfiguration config = bench_configuration(options);
  const double rss_before = resident_kib();

  std::mutex mutex;
  std::condition_variable changed;
  int in_flight = 0;
  int connected = 0;
  int failures = 0;
  std::vector<std::shared_ptr<LoopbackPair>> pairs;
  pairs.reserve(static_cast<std::size_t>(options.pairs));
  double creating_seconds = 0;  // in RTCPeerConnection::create (certificates, sockets)
  const auto started = Clock::now();
  for (int i = 0; i < options.pairs; ++i) {
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return in_flight < options.concurrency; });
      if (failures > 0) break;
      ++in_flight;
    }
    const auto creating = Clock::now();
    auto pair = make_loopback_pair(config);
    creating_seconds += seconds_since(creating);
    if (!pair) {
      std::lock_guard lock(mutex);
      ++failures;
      break;
    }
    pairs.push_back(pair);
    connect_pair(pair, {nullptr, [&](bool ok) {
                          std::lock_guard lock(mutex);
                          --in_flight;
                          ++(ok ? connected : failures);
                          changed.notify_all();
                        }});
  }
  bool complete = false;
  {
    std::unique_lock lock(mutex);
    complete = changed.wait_for(lock, std::chrono::seconds(120), [&] { return in_flight == 0; });
  }
  const double setup_ms = seconds_since(started) * 1000;
  int connected_now = 0;
  int failed_now = 0;
  {
    std::lock_guard lock(mutex);
    connected_now = connected;
    failed_now = failures;
  }
  if (!complete || failed_now > 0 || connected_now != options.pairs) {
    std::fprintf(stderr,
                 "rtcpp bench connections: %d of %d pairs connected, %d failed%s (%d descriptors "
                 "open)\n",
                 connected_now, options.pairs, failed_now, complete ? "" : ", the rest timed out",
                 open_descriptors());
    for (auto& pair : pairs) pair->close();
    return 1;
  }

  const CostMark idle_start = CostMark::now(syscalls);
  std::this_thread::sleep_for(std::chrono::duration<double>(options.idle_seconds));
  const CostMark idle_end = CostMark::now(syscalls);
  const double idle_cpu = idle_end.cpu_seconds - idle_start.cpu_seconds;
  const double idle_wall = std::chrono::duration<double>(idle_end.at - idle_start.at).count();
  const double idle_syscalls_per_second =
      idle_start.syscalls && idle_end.syscalls && idle_wall > 0
          ? static_cast<double>(*idle_end.syscalls - *idle_start.syscalls) / idle_wall
          : -1;
  const double rss_after = resident_kib();
  const int threads = thread_count();
  const int descriptors = open_descriptors();
  const int peer_connections = 2 * options.pairs;

  const auto closing = Clock::now();
  for (auto& pair : pairs) pair->close();
  const double close_ms = seconds_since(closing) * 1000;

  const double per_pc_kib = (rss_after - rss_before) / peer_connections;
  const double idle_percent = idle_wall > 0 ? idle_cpu / idle_wall * 100 : 0;
  std::fprintf(
      stderr,
      "rtcpp bench connections: %d pairs (%d connections) connected in %.0f ms (%.0f "
      "connections/s; %.0f ms of it in RTCPeerConnection::create); RSS %.1f KiB per connection; "
      "%.1f s idle at %.2f %% of a core, %.0f syscalls/s; %d threads, %d descriptors; closed in "
      "%.0f ms\n",
      options.pairs, peer_connections, setup_ms, peer_connections / setup_ms * 1000,
      creating_seconds * 1000, per_pc_kib, idle_wall, idle_percent, idle_syscalls_per_second,
      threads, descriptors, close_ms);
  print_result({{"pairs", options.pairs},
                {"peerConnections", peer_connections},
                {"setupMs", round2(setup_ms)},
                {"rssPerPeerConnectionKiB", round2(per_pc_kib)},
                {"idleCpuPercent", round2(idle_percent)},
                {"threads", threads}});
  return 0;
}

// ---- two processes: this one sends and offers, the child (this binary again) receives ----

// This process's side: a connection to the child, the child's signaling lines applied, and
// the bench's own lines (other types) kept for wait_for().
class ChildConnection {
 public:
  bool start(const std::vector<std::string>& child_args, const RTCConfiguration& config) {
    child_ = ChildProcess::start(child_args);
    if (!child_) return false;
    auto created = RTCPeerConnection::create(config);
    if (!created) {
      std::fprintf(stderr, "rtcpp bench: %s\n", created.error().to_string().c_str());
      return false;
    }
    pc_ = *created;
    trickle(*pc_, child_->channel());
    reader_ = std::thread([this] {
      SignalingApplier applier(*pc_, child_->channel(), false, "rtcpp bench");
      child_->channel().read_lines([&](const std::string& line) {
        if (applier.apply(line)) return;
        auto parsed = json::parse(line, nullptr, false);
        std::lock_guard lock(mutex_);
        lines_.push_back(std::move(parsed));
        arrived_.notify_all();
      });
    });
    return true;
  }
  // After the channels are made: the offer goes to the child.
  bool offer() {
    auto offer = pc_->create_offer().get();
    if (!offer || !pc_->set_local_description(*offer).get()) {
      std::fprintf(stderr, "rtcpp bench: cannot make an offer\n");
      return false;
    }
    child_->channel().write({{"type", "offer"}, {"sdp", offer->sdp}});
    return true;
  }
  // The first line of the child's with this type (and label, when given), waiting for it.
  std::optional<json> wait_for(const std::string& type, const std::string& label,
                               std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    std::optional<json> found;
    arrived_.wait_for(lock, timeout, [&] {
      for (auto it = lines_.begin(); it != lines_.end(); ++it) {
        if (it->is_object() && it->value("type", "") == type &&
            (label.empty() || it->value("label", "") == label)) {
          found = *it;
          lines_.erase(it);
          return true;
        }
      }
      return false;
    });
    return found;
  }
  void send_line(const json& line) { child_->channel().write(line); }
  RTCPeerConnection& pc() { return *pc_; }

  ~ChildConnection() {
    if (pc_) pc_->close();
    if (child_) child_->finish();
    if (reader_.joinable()) reader_.join();
  }

 private:
  std::unique_ptr<ChildProcess> child_;
  std::shared_ptr<RTCPeerConnection> pc_;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<json> lines_;
};

// The child: answers the offer, and hands the bench's other lines to `on_line` (on the reader
// thread). Returns when the parent closes its end.
template <typename Setup, typename OnLine>
int run_child(const RTCConfiguration& config, Setup setup, OnLine on_line) {
  LineChannel signaling(STDIN_FILENO, STDOUT_FILENO);
  auto created = RTCPeerConnection::create(config);
  if (!created) {
    std::fprintf(stderr, "rtcpp bench receiver: %s\n", created.error().to_string().c_str());
    return 1;
  }
  auto pc = *created;
  trickle(*pc, signaling);
  setup(*pc, signaling);
  SignalingApplier applier(*pc, signaling, true, "rtcpp bench receiver");
  signaling.read_lines([&](const std::string& line) {
    if (!applier.apply(line)) on_line(json::parse(line, nullptr, false), signaling);
  });
  pc->close();
  return 0;
}

// Each message of the bulk transfer starts with its number on its channel (8 bytes, big
// endian), so the receiver checks order without hashing.
void stamp(std::vector<std::uint8_t>& message, std::uint64_t number) {
  for (int i = 0; i < 8; ++i)
    message[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(number >> (56 - 8 * i));
}
std::uint64_t read_stamp(const std::vector<std::uint8_t>& message) {
  std::uint64_t number = 0;
  for (std::size_t i = 0; i < 8 && i < message.size(); ++i) number = number << 8 | message[i];
  return number;
}

std::vector<std::string> child_args(const BenchOptions& options, const std::string& which) {
  std::vector<std::string> args{"bench", which, "--receiver"};
  if (options.zero_checksum) args.emplace_back("--zero-checksum");
  if (options.udp_only) args.emplace_back("--udp-only");
  if (options.shared_certificate) args.emplace_back("--shared-certificate");
  if (which == "bulk") {
    args.insert(args.end(), {"--size", std::to_string(options.bulk_bytes), "--channels",
                             std::to_string(options.channels)});
  }
  return args;
}

int run_bulk_receiver(const BenchOptions& options) {
  SyscallCounter syscalls;
  struct State {
    std::uint64_t bytes = 0;
    std::uint64_t messages = 0;
    bool in_order = true;
    std::optional<CostMark> first;
    std::vector<std::uint64_t> next_number;  // per channel, in the order they were announced
  };
  auto state = std::make_shared<State>();
  const std::uint64_t expected = options.bulk_bytes;
  return run_child(
      bench_configuration(options),
      [&](RTCPeerConnection& pc, LineChannel& signaling) {
        // Handlers run on the one loop thread of this process: the state needs no lock.
        pc.on_data_channel([state, &pc, &syscalls, &signaling,
                            expected](const std::shared_ptr<RTCDataChannel>& channel) {
          const std::size_t index = state->next_number.size();
          state->next_number.push_back(0);
          channel->on_message([state, &pc, &syscalls, &signaling, expected,
                               index](const RTCMessageEvent& m) {
            if (!state->first) state->first = CostMark::now(syscalls);
            if (read_stamp(m.data) != state->next_number[index]++) state->in_order = false;
            state->bytes += m.data.size();
            ++state->messages;
            if (state->bytes != expected) return;
            const CostMark last = CostMark::now(syscalls);
            pc.get_stats([state, last, &signaling](const RTCStatsReport& report) {
              json done{
                  {"type", "bulk-done"},
                  {"bytes", state->bytes},
                  {"inOrder", state->in_order},
                  {"seconds", std::chrono::duration<double>(last.at - state->first->at).count()}};
              done["cost"] = cost_per_mib(
                  *state->first, last,
                  {state->bytes, state->messages, transport_packets(report, "packetsReceived")});
              signaling.write(done);
            });
          });
        });
      },
      [](const json&, LineChannel&) {});
}

int run_bulk(const BenchOptions& options) {
  if (options.receiver) return run_bulk_receiver(options);
  if (options.chunk_bytes < 8) {
    std::fprintf(stderr, "rtcpp bench bulk: --chunk must be at least 8 bytes\n");
    return 2;
  }
  SyscallCounter syscalls;

  constexpr std::size_t kHighWater = std::size_t{4} << 20;
  constexpr std::size_t kLowWater = std::size_t{1} << 20;
  struct Sender {
    std::shared_ptr<RTCDataChannel> channel;
    std::uint64_t quota = 0;
    std::uint64_t sent = 0;
    std::uint64_t number = 0;
  };
  // Loop-thread state, apart from `first_send`, which the main thread reads at the end.
  std::vector<Sender> senders(static_cast<std::size_t>(options.channels));
  std::vector<std::uint8_t> message(options.chunk_bytes, 0x5a);
  std::mutex first_mutex;
  std::optional<CostMark> first_send;
  std::optional<Clock::time_point> opened;
  const auto pump = [&](Sender& s) {
    if (!first_send) {
      std::lock_guard lock(first_mutex);
      if (!opened) opened = Clock::now();
      first_send = CostMark::now(syscalls);
    }
    while (s.sent < s.quota && s.channel->buffered_amount() < kHighWater) {
      const auto n =
          static_cast<std::size_t>(std::min<std::uint64_t>(message.size(), s.quota - s.sent));
      stamp(message, s.number);
      if (!s.channel->send(std::span<const std::uint8_t>(message.data(), n))) return;
      s.sent += n;
      ++s.number;
    }
  };
  // Made after the state its handlers use, so that it closes (and drops them) first.
  ChildConnection link;
  if (!link.start(child_args(options, "bulk"), bench_configuration(options))) return 1;
  for (std::size_t i = 0; i < senders.size(); ++i) {
    Sender& s = senders[i];
    s.quota =
        options.bulk_bytes / senders.size() + (i == 0 ? options.bulk_bytes % senders.size() : 0);
    auto made = link.pc().create_data_channel("bulk-" + std::to_string(i));
    if (!made) {
      std::fprintf(stderr, "rtcpp bench bulk: %s\n", made.error().to_string().c_str());
      return 1;
    }
    s.channel = *made;
    s.channel->set_buffered_amount_low_threshold(kLowWater);
    s.channel->on_buffered_amount_low([&pump, &s] { pump(s); });  // before on_open: see messages
    s.channel->on_open([&pump, &s] { pump(s); });
  }
  const auto started = Clock::now();  // connectMs: create_offer to the first channel open
  if (!link.offer()) return 1;
  auto done = link.wait_for("bulk-done", "", std::chrono::seconds(300));
  const CostMark last = CostMark::now(syscalls);
  if (!done) {
    std::fprintf(stderr, "rtcpp bench bulk: the transfer did not finish within 300 s\n");
    return 1;
  }
  CostMark first;
  Clock::time_point open_time;
  {
    std::lock_guard lock(first_mutex);
    first = *first_send;
    open_time = *opened;
  }
  const double seconds = std::chrono::duration<double>(last.at - first.at).count();
  const auto bytes = static_cast<double>(options.bulk_bytes);
  const bool in_order = done->value("inOrder", false);
  json result{
      {"bench", "bulk"},
      {"bytes", options.bulk_bytes},
      {"chunk", options.chunk_bytes},
      {"channels", options.channels},
      {"inOrder", in_order},
      {"connectMs", round2(std::chrono::duration<double, std::milli>(open_time - started).count())},
      {"seconds", std::round(seconds * 1000) / 1000},
      {"MBps", round2(bytes / seconds / 1e6)},
      {"MiBps", round2(bytes / seconds / kMiB)}};
  std::uint64_t messages = 0;
  for (const Sender& sender : senders) messages += sender.number;
  const std::uint64_t packets = transport_packets(link.pc().get_stats().get(), "packetsSent");
  result["sender"] = cost_per_mib(first, last, {options.bulk_bytes, messages, packets});
  result["receiver"] = done->value("cost", json::object());
  std::fprintf(stderr,
               "rtcpp bench bulk: %.1f MiB in %.3f s: %.1f MB/s (%.1f MiB/s)%s; CPU ms per MiB: "
               "sender %s, receiver %s; syscalls per MiB: sender %s, receiver %s\n",
               bytes / kMiB, seconds, bytes / seconds / 1e6, bytes / seconds / kMiB,
               in_order ? "" : ", OUT OF ORDER", result["sender"]["cpuMsPerMiB"].dump().c_str(),
               result["receiver"].value("cpuMsPerMiB", json()).dump().c_str(),
               result["sender"]["syscallsPerMiB"].dump().c_str(),
               result["receiver"].value("syscallsPerMiB", json()).dump().c_str());
  if (!result["sender"]["allocationsPerPacket"].is_null()) {
    std::fprintf(stderr,
                 "rtcpp bench bulk: heap allocations per message: sender %s, receiver %s; per "
                 "packet: sender %s, receiver %s\n",
                 result["sender"]["allocationsPerMessage"].dump().c_str(),
                 result["receiver"].value("allocationsPerMessage", json()).dump().c_str(),
                 result["sender"]["allocationsPerPacket"].dump().c_str(),
                 result["receiver"].value("allocationsPerPacket", json()).dump().c_str());
  }
  print_result(result);
  return in_order ? 0 : 1;
}

// The message sizes and orderings of `rtcpp bench messages`, one channel each, in turn.
struct MessageCase {
  std::size_t size;
  bool ordered;
};
constexpr std::array<MessageCase, 4> kMessageCases{
    {{16, true}, {16, false}, {1024, true}, {1024, false}}};

std::string case_label(std::size_t index) {
  return "messages-" + std::to_string(index);
}

int run_messages_receiver(const BenchOptions& options) {
  struct Count {
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> expected{UINT64_MAX};
    std::atomic<bool> reported{false};
  };
  auto counts = std::make_shared<std::array<Count, kMessageCases.size()>>();
  // Reports a case once the count the sender announced has arrived (from either thread).
  auto report_if_done = [counts](std::size_t index, LineChannel& out) {
    Count& c = (*counts)[index];
    if (c.received.load() < c.expected.load() || c.reported.exchange(true)) return;
    out.write(
        {{"type", "messages-done"}, {"label", case_label(index)}, {"count", c.received.load()}});
  };
  return run_child(
      bench_configuration(options),
      [&](RTCPeerConnection& pc, LineChannel& signaling) {
        pc.on_data_channel([counts, report_if_done,
                            &signaling](const std::shared_ptr<RTCDataChannel>& channel) {
          for (std::size_t i = 0; i < kMessageCases.size(); ++i) {
            if (channel->label() != case_label(i)) continue;
            channel->on_message([counts, report_if_done, i, &signaling](const RTCMessageEvent&) {
              ++(*counts)[i].received;
              report_if_done(i, signaling);
            });
          }
        });
      },
      [&](const json& line, LineChannel& signaling) {
        if (!line.is_object() || line.value("type", "") != "expect") return;
        for (std::size_t i = 0; i < kMessageCases.size(); ++i) {
          if (line.value("label", "") != case_label(i)) continue;
          (*counts)[i].expected = line.value("count", std::uint64_t{0});
          report_if_done(i, signaling);
        }
      });
}

int run_messages(const BenchOptions& options) {
  if (options.receiver) return run_messages_receiver(options);
  std::promise<void> connected;
  ChildConnection link;
  if (!link.start(child_args(options, "messages"), bench_configuration(options))) return 1;
  // A first channel to connect with, so that each case starts on a connection that is up.
  auto warmup = link.pc().create_data_channel("connect");
  if (!warmup) return 1;
  (*warmup)->on_open([&connected] { connected.set_value(); });
  if (!link.offer()) return 1;
  if (connected.get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    std::fprintf(stderr, "rtcpp bench messages: no connection within 10 s\n");
    return 1;
  }

  constexpr std::size_t kHighWater = std::size_t{256} << 10;
  constexpr std::size_t kLowWater = std::size_t{64} << 10;
  json result{{"bench", "messages"}, {"secondsPerCase", options.message_seconds}};
  json rates = json::array();
  for (std::size_t i = 0; i < kMessageCases.size(); ++i) {
    const MessageCase& c = kMessageCases[i];
    RTCDataChannelInit init;
    init.ordered = c.ordered;
    auto made = link.pc().create_data_channel(case_label(i), init);
    if (!made) return 1;
    auto channel = *made;
    // Loop-thread state; the main thread reads it after `stopped`.
    // Handlers may still run after this case ends: they share the state.
    struct Pump {
      std::vector<std::uint8_t> message;
      std::uint64_t sent = 0;
      Clock::time_point first{};
      Clock::time_point deadline{};
      bool stopped = false;
      std::string error;  // a send that failed
      std::mutex mutex;
      std::condition_variable stop;
    };
    auto shared_pump = std::make_shared<Pump>();
    Pump& pump = *shared_pump;
    pump.message.assign(c.size, 0x33);
    const auto duration = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options.message_seconds));
    auto send_more = [shared_pump, weak = std::weak_ptr(channel), duration] {
      auto live = weak.lock();
      Pump& state = *shared_pump;
      std::lock_guard lock(state.mutex);
      if (!live) return;
      if (state.stopped) return;
      if (state.sent == 0) {
        state.first = Clock::now();
        state.deadline = state.first + duration;
      }
      while (live->buffered_amount() < kHighWater) {
        if ((state.sent & 63) == 0 && Clock::now() >= state.deadline) {
          state.stopped = true;
          state.stop.notify_all();
          return;
        }
        if (auto sent = live->send(std::span<const std::uint8_t>(state.message)); !sent) {
          state.error = sent.error().to_string();
          state.stopped = true;
          state.stop.notify_all();
          return;
        }
        ++state.sent;
      }
    };
    // Events fire on the loop thread between our calls: the open event may come (and a first
    // burst drain) before a handler set after on_open is in place, so it is set first.
    channel->set_buffered_amount_low_threshold(kLowWater);
    channel->on_buffered_amount_low(send_more);
    channel->on_open(send_more);
    std::uint64_t sent = 0;
    Clock::time_point first;
    {
      std::unique_lock lock(pump.mutex);
      if (!pump.stop.wait_for(lock, duration + std::chrono::seconds(10),
                              [&] { return pump.stopped; })) {
        std::fprintf(stderr,
                     "rtcpp bench messages: %s stalled (channel %s, %llu messages sent, %zu bytes "
                     "buffered)\n",
                     case_label(i).c_str(), std::string(to_string(channel->ready_state())).c_str(),
                     static_cast<unsigned long long>(pump.sent), channel->buffered_amount());
        return 1;
      }
      if (!pump.error.empty()) {
        std::fprintf(stderr, "rtcpp bench messages: %s: %s\n", case_label(i).c_str(),
                     pump.error.c_str());
        return 1;
      }
      sent = pump.sent;
      first = pump.first;
    }
    link.send_line({{"type", "expect"}, {"label", case_label(i)}, {"count", sent}});
    auto done = link.wait_for("messages-done", case_label(i), std::chrono::seconds(60));
    const double seconds = seconds_since(first);
    channel->close();
    if (!done) {
      std::fprintf(stderr, "rtcpp bench messages: %s: not all of %llu messages arrived\n",
                   case_label(i).c_str(), static_cast<unsigned long long>(sent));
      return 1;
    }
    const double per_second = static_cast<double>(sent) / seconds;
    std::fprintf(stderr, "rtcpp bench messages: %4zu B %-9s %10.0f messages/s (%.1f MB/s)\n",
                 c.size, c.ordered ? "ordered" : "unordered", per_second,
                 per_second * static_cast<double>(c.size) / 1e6);
    rates.push_back({{"size", c.size},
                     {"ordered", c.ordered},
                     {"messages", sent},
                     {"messagesPerSecond", std::round(per_second)}});
  }
  result["rates"] = rates;
  print_result(result);
  return 0;
}

}  // namespace

CLI::App* add_bench_command(CLI::App& app, BenchOptions& options) {
  auto* bench = app.add_subcommand(
      "bench", "Benchmarks: each prints one JSON line on stdout and a summary on stderr");
  bench->require_subcommand(1);
  const auto common = [&options](CLI::App* command) {
    command->add_flag("--isolated", options.isolated,
                      "run in a new network namespace with only loopback (needs root)");
    command->add_flag("--zero-checksum", options.zero_checksum,
                      "offer SCTP zero checksums (RFC 9653), used when both ends are rtcpp");
    command->add_flag("--udp-only", options.udp_only, "no ICE-TCP candidates");
    command->add_flag("--shared-certificate", options.shared_certificate,
                      "one certificate (RTCCertificate::generate) for every connection of a "
                      "process, instead of one generated per connection");
    command->callback([&options, command] { options.which = command->get_name(); });
  };

  auto* bulk = bench->add_subcommand(
      "bulk",
      "One data channel transfer between two processes over loopback UDP: MB/s, CPU and "
      "syscalls per MiB on each side");
  bulk->add_option("--size", options.bulk_bytes, "bytes to send")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  bulk->add_option("--chunk", options.chunk_bytes, "bytes per message (at least 8)")
      ->check(CLI::Range(std::size_t{8}, std::size_t{256} * 1024))
      ->capture_default_str();
  bulk->add_option("--channels", options.channels, "channels sharing the transfer")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  bulk->add_flag("--receiver", options.receiver)->group("");
  common(bulk);

  auto* connect = bench->add_subcommand(
      "connect",
      "Time from create_offer to the first open data channel, two connections in "
      "this process: median, p99 and max");
  connect->add_option("--runs", options.runs, "connections to time")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  common(connect);

  auto* messages = bench->add_subcommand(
      "messages",
      "Small-message rates between two processes: 16 B and 1 KiB, ordered and "
      "unordered");
  messages->add_option("--seconds", options.message_seconds, "sending time per case")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  messages->add_flag("--receiver", options.receiver)->group("");
  common(messages);

  auto* connections = bench->add_subcommand(
      "connections",
      "K connected pairs in this process, each with an open channel that carried "
      "a message, then idle: setup time, RSS per connection, idle CPU, threads");
  connections->add_option("--pairs", options.pairs, "pairs of connections (K)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  connections->add_option("--idle-seconds", options.idle_seconds, "idle time measured (S)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  connections->add_option("--concurrency", options.concurrency, "pairs connecting at once")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  common(connections);
  return bench;
}

int run_bench(const BenchOptions& options) {
  if (options.isolated && !options.receiver && !enter_loopback_namespace()) return 1;
  if (options.which == "bulk") return run_bulk(options);
  if (options.which == "connect") return run_connect(options);
  if (options.which == "messages") return run_messages(options);
  if (options.which == "connections") return run_connections(options);
  return 2;
}

}  // namespace rtcpp::tools
