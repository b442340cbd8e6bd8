// Two rtcpp processes on one machine, signaling over pipes: the parent starts this binary
// again with other arguments, and each side writes its offer, answer and candidates as JSON
// lines to the other. `rtcpp demo` and `rtcpp bench` use it.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rtcpp/rtcpp.hpp"

namespace rtcpp::tools {

// JSON lines on a pair of file descriptors (not owned).
class LineChannel {
 public:
  LineChannel(int in_fd, int out_fd) : in_(in_fd), out_(out_fd) {}
  // Thread-safe; a closed pipe drops the line.
  void write(const nlohmann::ordered_json& line);
  // Closes the output descriptor; later writes are dropped.
  void close_output();
  // Calls on_line with each line until the other end closes. One reader at a time.
  template <typename F>
  void read_lines(F on_line) {
    std::string pending;
    char buf[4096];
    for (;;) {
      const ssize_t n = read_some(buf, sizeof buf);
      if (n <= 0) return;
      pending.append(buf, static_cast<std::size_t>(n));
      for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
        on_line(pending.substr(0, nl));
        pending.erase(0, nl + 1);
      }
    }
  }

 private:
  ssize_t read_some(char* buf, std::size_t size) const;

  int in_;
  int out_;
  std::mutex mutex_;
};

// Applies the other process's signaling lines to a connection: descriptions (answering an
// offer when asked to) and candidates. Candidates can overtake the description they belong
// to (the other side gathers as soon as it sets its own description, before writing it
// out); they wait here until a remote description exists, as a signaling server would hold
// them. Lines of other types go to `on_other`.
class SignalingApplier {
 public:
  SignalingApplier(RTCPeerConnection& pc, LineChannel& channel, bool answer_offers,
                   std::string error_prefix);
  // Returns false for a line that is not signaling (the caller may read it).
  bool apply(const std::string& line);

 private:
  void add(const RTCIceCandidateInit& init);

  RTCPeerConnection& pc_;
  LineChannel& channel_;
  bool answer_offers_;
  std::string error_prefix_;
  std::vector<RTCIceCandidateInit> held_;
};

// Writes each local candidate, and the end of candidates (a candidate ""), to the channel.
void trickle(RTCPeerConnection& pc, LineChannel& channel);

// This binary started again with `args`, its stdin and stdout a LineChannel to this process.
class ChildProcess {
 public:
  // Null (and a message on stderr) when it cannot be started.
  static std::unique_ptr<ChildProcess> start(const std::vector<std::string>& args);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  LineChannel& channel() { return channel_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  // Closes the child's stdin (it ends when it reads end of input) and waits for it; returns
  // its exit status, or -1 when it did not exit normally.
  int finish();

 private:
  ChildProcess(pid_t pid, int read_fd, int write_fd);

  pid_t pid_;
  int read_fd_;
  LineChannel channel_;
  bool finished_ = false;
  int status_ = -1;
};

}  // namespace rtcpp::tools
