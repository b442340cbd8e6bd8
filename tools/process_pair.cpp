#include "tools/process_pair.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace rtcpp::tools {

void LineChannel::write(const nlohmann::ordered_json& line) {
  const std::string text = line.dump() + "\n";
  std::lock_guard lock(mutex_);
  if (out_ < 0) return;
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(out_, text.data() + off, text.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

void LineChannel::close_output() {
  std::lock_guard lock(mutex_);
  if (out_ >= 0) ::close(out_);
  out_ = -1;
}

ssize_t LineChannel::read_some(char* buf, std::size_t size) const {
  return ::read(in_, buf, size);
}

SignalingApplier::SignalingApplier(RTCPeerConnection& pc, LineChannel& channel, bool answer_offers,
                                   std::string error_prefix)
    : pc_(pc),
      channel_(channel),
      answer_offers_(answer_offers),
      error_prefix_(std::move(error_prefix)) {}

bool SignalingApplier::apply(const std::string& line) {
  const auto msg = nlohmann::ordered_json::parse(line, nullptr, false);
  if (!msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) return false;
  const std::string type = msg["type"];
  if ((type == "offer" || type == "answer") && msg.contains("sdp") && msg["sdp"].is_string()) {
    auto applied =
        pc_.set_remote_description({*sdp_type_from_string(type), msg["sdp"].get<std::string>()})
            .get();
    if (!applied) {
      std::fprintf(stderr, "%s: %s\n", error_prefix_.c_str(), applied.error().to_string().c_str());
      return true;
    }
    if (type == "offer" && answer_offers_) {
      auto answer = pc_.create_answer().get();
      if (answer && pc_.set_local_description(*answer).get())
        channel_.write({{"type", "answer"}, {"sdp", answer->sdp}});
    }
    for (const auto& candidate : held_) add(candidate);
    held_.clear();
    return true;
  }
  if (type == "candidate") {
    RTCIceCandidateInit init;
    init.candidate = msg.value("candidate", "");
    init.sdp_mid = msg.value("sdpMid", "0");
    if (!pc_.remote_description()) {
      held_.push_back(std::move(init));
      return true;
    }
    add(init);
    return true;
  }
  return false;
}

void SignalingApplier::add(const RTCIceCandidateInit& init) {
  auto added = pc_.add_ice_candidate(init).get();
  if (!added)
    std::fprintf(stderr, "%s: %s\n", error_prefix_.c_str(), added.error().to_string().c_str());
}

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

std::unique_ptr<ChildProcess> ChildProcess::start(const std::vector<std::string>& args) {
  int to_child[2];
  int from_child[2];
  if (pipe2(to_child, O_CLOEXEC) != 0) {
    std::perror("rtcpp: pipe");
    return nullptr;
  }
  if (pipe2(from_child, O_CLOEXEC) != 0) {
    std::perror("rtcpp: pipe");
    ::close(to_child[0]);
    ::close(to_child[1]);
    return nullptr;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
  std::vector<std::string> owned{"/proc/self/exe"};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(owned.size() + 1);
  for (auto& arg : owned) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(to_child[0]);
  ::close(from_child[1]);
  if (spawned != 0) {
    char text[256];
    std::fprintf(stderr, "rtcpp: cannot start a second process: %s\n",
                 strerror_r(spawned, text, sizeof text));
    ::close(to_child[1]);
    ::close(from_child[0]);
    return nullptr;
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, from_child[0], to_child[1]));
}

ChildProcess::ChildProcess(pid_t pid, int read_fd, int write_fd)
    : pid_(pid), read_fd_(read_fd), channel_(read_fd, write_fd) {}

ChildProcess::~ChildProcess() {
  finish();
  ::close(read_fd_);
}

int ChildProcess::finish() {
  if (finished_) return status_;
  finished_ = true;
  channel_.close_output();
  int status = 0;
  if (waitpid(pid_, &status, 0) == pid_ && WIFEXITED(status)) status_ = WEXITSTATUS(status);
  return status_;
}

}  // namespace rtcpp::tools
