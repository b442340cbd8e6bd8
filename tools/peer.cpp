#include "tools/peer.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "base/hex.hpp"
#include "base/random.hpp"
#include "base/sha256.hpp"
#include "pc/jsep.hpp"
#include "runtime/peer_transport_driver.hpp"
#include "sdp/session_description.hpp"

namespace rtcpp::tools {
namespace {

// Insertion order, so that lines read like the contract's examples ("type" first).
using json = nlohmann::ordered_json;
using runtime::monotonic_now;

struct Options {
  bool offer = false;
  std::string label = "data";
  bool unordered = false;
  std::optional<std::uint16_t> max_retransmits;
  std::optional<std::uint16_t> max_packet_life_time;
  std::optional<std::uint16_t> negotiated;
  std::string protocol;
  int channels = 1;
  std::string send_file;
  std::size_t chunk = 65536;
  bool text = false;
  std::string recv_file;
  bool echo = false;
  bool expect_echo = false;
  std::vector<std::string> ice_servers;
  int timeout = 60;
  std::string unsupported;  // an option this build cannot honour yet
};

void emit(const json& j) {
  std::fputs((j.dump() + "\n").c_str(), stdout);
  std::fflush(stdout);
}

std::vector<IpAddress> local_ipv4_addresses() {
  std::vector<IpAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {*IpAddress::parse("127.0.0.1")};
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    const IpAddress ip = IpAddress::v4(ntohl(sin->sin_addr.s_addr));
    if (ip.is_link_local()) continue;
    if (std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
  }
  freeifaddrs(list);
  if (out.empty()) out.push_back(*IpAddress::parse("127.0.0.1"));
  return out;
}

std::optional<std::uint64_t> parse_uint(const char* s) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s || *end != '\0') return std::nullopt;
  return v;
}

class Peer {
 public:
  explicit Peer(Options options) : options_(std::move(options)) {}
  int run();

 private:
  void on_line(const std::string& line);
  void on_event(pc::PeerTransportEvent&& e);
  void apply_remote(const std::string& type, const std::string& sdp_text);
  void open_channels();
  void pump_sender();
  void emit_state(const char* state);
  void finish(bool ok, std::string error);

  Options options_;
  boost::asio::io_context io_;
  CryptoRandom rng_;
  std::unique_ptr<pc::PeerTransport> transport_;
  std::unique_ptr<runtime::PeerTransportDriver> driver_;
  std::optional<pc::TransportDescription> remote_;
  bool description_sent_ = false;
  std::vector<ice::Candidate> pending_local_candidates_;
  bool gathering_done_ = false;
  std::string state_ = "new";
  Timestamp started_;
  std::optional<Timestamp> connected_at_;
  std::optional<Timestamp> first_byte_;
  std::optional<Timestamp> last_byte_;
  std::map<std::uint16_t, std::string> open_channels_;  // every channel seen
  std::set<std::uint16_t> close_requested_;
  std::set<std::uint16_t> closed_;
  std::map<std::uint16_t, std::size_t> sent_offset_;
  std::map<std::uint16_t, std::size_t> echo_offset_;
  Buffer file_;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t bytes_received_ = 0;
  std::uint64_t messages_received_ = 0;
  Sha256 hash_;
  std::ofstream recv_out_;
  bool sending_done_ = false;
  bool finished_ = false;
  bool ok_ = false;
  std::string error_;
};

void Peer::emit_state(const char* state) {
  if (state_ == state) return;
  state_ = state;
  emit({{"type", "state"}, {"connectionState", state}});
}

int Peer::run() {
  if (!options_.unsupported.empty()) {
    emit({{"type", "result"},
          {"ok", false},
          {"role", options_.offer ? "offer" : "answer"},
          {"error", options_.unsupported}});
    return 1;
  }
  if (!options_.send_file.empty()) {
    std::ifstream in(options_.send_file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "rtcpp peer: cannot read %s\n", options_.send_file.c_str());
      emit({{"type", "result"}, {"ok", false}, {"error", "cannot read " + options_.send_file}});
      return 1;
    }
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    file_ = Buffer::from_string(bytes);
  }
  if (!options_.recv_file.empty() && options_.recv_file != "-" && options_.recv_file != "/dev/null")
    recv_out_.open(options_.recv_file, std::ios::binary | std::ios::app);

  pc::PeerTransportConfig config;
  config.certificate = *dtls::Certificate::generate();
  auto transport = pc::PeerTransport::create(
      config, options_.offer ? ice::IceRole::kControlling : ice::IceRole::kControlled, rng_);
  if (!transport) {
    finish(false, transport.error().to_string());
    return 1;
  }
  transport_ = std::move(*transport);
  driver_ = std::make_unique<runtime::PeerTransportDriver>(
      io_, *transport_, [this](pc::PeerTransportEvent&& e) { on_event(std::move(e)); });
  for (const auto& url : options_.ice_servers) {
    // stun:host:port with a literal address; TURN and names come with the TURN client.
    auto address = SocketAddress::parse(url.substr(url.find(':') + 1));
    if (url.rfind("stun:", 0) == 0 && address) {
      transport_->ice().add_stun_server(*address, monotonic_now());
    } else {
      finish(false, "unsupported --ice-server (only stun:IP:PORT for now): " + url);
      return 1;
    }
  }
  started_ = monotonic_now();
  for (const auto& ip : local_ipv4_addresses()) {
    if (auto bound = driver_->bind(ip); !bound)
      std::fprintf(stderr, "rtcpp peer: %s\n", bound.error().to_string().c_str());
  }
  transport_->ice().finish_gathering(monotonic_now());
  driver_->kick();

  if (options_.offer) {
    pc::TransportDescription t;
    t.ice_ufrag = transport_->local_ice_credentials().ufrag;
    t.ice_pwd = transport_->local_ice_credentials().pwd;
    t.ice_options = {"trickle"};
    t.fingerprints = transport_->local_fingerprints();
    t.setup = pc::DtlsSetup::kActpass;
    t.max_message_size = 262144;
    emit({{"type", "offer"}, {"sdp", pc::build_offer({t, rng_.next_u64() >> 2, 1})}});
    description_sent_ = true;
  }
  if (description_sent_) {
    for (const auto& c : pending_local_candidates_)
      emit({{"type", "candidate"},
            {"candidate", c.to_string()},
            {"sdpMid", "0"},
            {"sdpMLineIndex", 0}});
    pending_local_candidates_.clear();
    if (gathering_done_) emit({{"type", "candidate"}, {"candidate", ""}});
  }

  // Signaling arrives on stdin, read on its own thread and handed to the loop.
  std::thread reader([this] {
    std::string line;
    while (std::getline(std::cin, line)) boost::asio::post(io_, [this, line] { on_line(line); });
    boost::asio::post(io_, [this] {
      // The peer may leave as soon as our channels are closed: a finished transfer is not
      // a failure.
      pump_sender();
      if (!finished_) finish(false, "stdin closed before the session ended");
    });
  });
  reader.detach();

  boost::asio::steady_timer deadline(io_);
  deadline.expires_after(std::chrono::seconds(options_.timeout));
  deadline.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !finished_)
      finish(false, "timed out after " + std::to_string(options_.timeout) + " s");
  });
  while (!finished_ && io_.run_one() > 0) {
    pump_sender();
    driver_->kick();
  }
  driver_->close();
  if (recv_out_.is_open()) recv_out_.close();
  std::fflush(stdout);
  return ok_ ? 0 : 1;
}

void Peer::on_line(const std::string& line) {
  if (finished_) return;
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    std::fprintf(stderr, "rtcpp peer: ignoring malformed signaling line\n");
    return;
  }
  const std::string type = j["type"];
  if (type == "offer" || type == "answer") {
    if (!j.contains("sdp") || !j["sdp"].is_string()) {
      std::fprintf(stderr, "rtcpp peer: %s without sdp\n", type.c_str());
      return;
    }
    apply_remote(type, j["sdp"]);
  } else if (type == "candidate") {
    const std::string text = j.value("candidate", "");
    if (text.empty()) {
      transport_->ice().end_of_remote_candidates(monotonic_now());
    } else if (auto c = ice::Candidate::parse(text)) {
      if (auto added = transport_->ice().add_remote_candidate(*c, monotonic_now()); !added)
        std::fprintf(stderr, "rtcpp peer: candidate refused: %s\n",
                     added.error().to_string().c_str());
    } else {
      std::fprintf(stderr, "rtcpp peer: %s\n", c.error().to_string().c_str());
    }
  } else if (type == "bye") {
    finish(error_.empty() && (!options_.expect_echo || sending_done_), error_);
    return;
  }
  transport_->handle_timeout(monotonic_now());
  driver_->kick();
}

void Peer::apply_remote(const std::string& type, const std::string& sdp_text) {
  const bool expected = options_.offer ? type == "answer" : type == "offer";
  if (!expected || remote_) {
    std::fprintf(stderr, "rtcpp peer: unexpected %s\n", type.c_str());
    return;
  }
  auto sd = sdp::SessionDescription::parse(sdp_text);
  if (!sd) {
    std::fprintf(stderr, "rtcpp peer: %s\n", sd.error().to_string().c_str());
    finish(false, sd.error().to_string());
    return;
  }
  auto remote = pc::read_remote_transport(*sd);
  if (!remote) {
    finish(false, remote.error().to_string());
    return;
  }
  const pc::DtlsSetup local_setup =
      options_.offer ? pc::DtlsSetup::kActpass : pc::DtlsSetup::kActive;
  auto role = pc::negotiate_dtls_role(local_setup, remote->setup, options_.offer);
  if (!role) {
    finish(false, role.error().to_string());
    return;
  }
  remote_ = *remote;
  if (!options_.offer) {
    started_ = monotonic_now();  // the answerer counts from the description being applied
    pc::TransportDescription t;
    t.ice_ufrag = transport_->local_ice_credentials().ufrag;
    t.ice_pwd = transport_->local_ice_credentials().pwd;
    t.ice_options = {"trickle"};
    t.fingerprints = transport_->local_fingerprints();
    t.setup = pc::DtlsSetup::kActive;
    t.max_message_size = 262144;
    auto answer = pc::build_answer({t, rng_.next_u64() >> 2, 1}, *sd);
    if (!answer) {
      finish(false, answer.error().to_string());
      return;
    }
    emit({{"type", "answer"}, {"sdp", *answer}});
    description_sent_ = true;
    for (const auto& c : pending_local_candidates_)
      emit({{"type", "candidate"},
            {"candidate", c.to_string()},
            {"sdpMid", remote_->mid},
            {"sdpMLineIndex", 0}});
    pending_local_candidates_.clear();
    if (gathering_done_) emit({{"type", "candidate"}, {"candidate", ""}});
  }
  auto applied = transport_->set_remote_parameters(remote_->ice_ufrag, remote_->ice_pwd,
                                                   remote_->fingerprints, *role, monotonic_now());
  if (!applied) {
    finish(false, applied.error().to_string());
    return;
  }
  for (const auto& c : remote_->candidates)
    (void)transport_->ice().add_remote_candidate(c, monotonic_now());
  if (remote_->end_of_candidates) transport_->ice().end_of_remote_candidates(monotonic_now());
  emit_state("connecting");
}

void Peer::on_event(pc::PeerTransportEvent&& e) {
  if (auto* ice_event = std::get_if<ice::IceEvent>(&e)) {
    if (auto* c = std::get_if<ice::IceLocalCandidateEvent>(ice_event)) {
      if (description_sent_) {
        emit({{"type", "candidate"},
              {"candidate", c->candidate.to_string()},
              {"sdpMid", remote_ ? remote_->mid : "0"},
              {"sdpMLineIndex", 0}});
      } else {
        pending_local_candidates_.push_back(c->candidate);
      }
    } else if (auto* g = std::get_if<ice::IceGatheringStateEvent>(ice_event)) {
      if (g->state == ice::IceGatheringState::kComplete) {
        gathering_done_ = true;
        if (description_sent_) emit({{"type", "candidate"}, {"candidate", ""}});
      }
    } else if (auto* s = std::get_if<ice::IceStateEvent>(ice_event)) {
      if (s->state == ice::IceTransportState::kFailed) {
        emit_state("failed");
        finish(false, "ICE failed");
      } else if (s->state == ice::IceTransportState::kChecking) {
        emit_state("connecting");
      }
    }
  } else if (auto* d = std::get_if<pc::DtlsStateEvent>(&e)) {
    if (d->state == dtls::DtlsState::kConnected) emit_state("connected");
    if (d->state == dtls::DtlsState::kFailed) {
      emit_state("failed");
      finish(false, d->error ? d->error->to_string() : "DTLS failed");
    }
  } else if (auto* s = std::get_if<pc::SctpStateEvent>(&e)) {
    if (s->connected) {
      open_channels();
    } else if (s->error && !finished_) {
      finish(false, s->error->to_string());
    }
  } else if (auto* o = std::get_if<pc::ChannelOpenEvent>(&e)) {
    if (!connected_at_) connected_at_ = monotonic_now();
    open_channels_[o->channel.id] = o->channel.label;
    emit({{"type", "open"},
          {"label", o->channel.label},
          {"id", o->channel.id},
          {"protocol", o->channel.protocol}});
  } else if (auto* c = std::get_if<pc::ChannelClosedEvent>(&e)) {
    closed_.insert(c->id);
    if (!options_.send_file.empty()) {
      // A sender closes its channels itself (pump_sender finishes); the peer closing one
      // first cuts the transfer short.
      if (close_requested_.count(c->id) == 0)
        finish(false, "channel " + std::to_string(c->id) + " closed by the peer mid-transfer");
    } else if (std::all_of(open_channels_.begin(), open_channels_.end(),
                           [&](const auto& ch) { return closed_.count(ch.first) != 0; })) {
      // A receiver is done when every channel it saw has closed.
      finish(error_.empty(), error_);
    }
  } else if (auto* m = std::get_if<pc::ChannelMessageEvent>(&e)) {
    const Timestamp now = monotonic_now();
    if (!first_byte_) first_byte_ = now;
    last_byte_ = now;
    if (options_.expect_echo) {
      // Echoed data must come back byte-equal and in order, per channel.
      std::size_t& at = echo_offset_[m->id];
      if (at + m->data.size() > file_.size() ||
          !equal_bytes(m->data, file_.view().subspan(at, m->data.size()))) {
        error_ = "echo mismatch on channel " + std::to_string(m->id);
      }
      at += m->data.size();
    }
    bytes_received_ += m->data.size();
    ++messages_received_;
    hash_.update(m->data);
    if (recv_out_.is_open())
      recv_out_.write(reinterpret_cast<const char*>(m->data.data()),
                      static_cast<std::streamsize>(m->data.size()));
    if (options_.echo) {
      if (transport_->send(m->id, m->data, m->binary)) bytes_sent_ += m->data.size();
    }
  }
}

void Peer::open_channels() {
  if (!options_.offer && !options_.negotiated) return;  // the answerer waits for the offerer's
  for (int i = 0; i < options_.channels; ++i) {
    pc::ChannelOptions c;
    c.label = options_.channels == 1 ? options_.label : options_.label + "-" + std::to_string(i);
    c.protocol = options_.protocol;
    c.ordered = !options_.unordered;
    c.max_retransmits = options_.max_retransmits;
    c.max_packet_life_time_ms = options_.max_packet_life_time;
    if (options_.negotiated)
      c.negotiated_id = static_cast<std::uint16_t>(*options_.negotiated + 2 * i);
    auto id = transport_->open_channel(c);
    if (!id) {
      finish(false, id.error().to_string());
      return;
    }
    if (!connected_at_) connected_at_ = monotonic_now();
    open_channels_[*id] = c.label;
    emit({{"type", "open"}, {"label", c.label}, {"id", *id}, {"protocol", c.protocol}});
  }
}

void Peer::pump_sender() {
  if (finished_ || options_.send_file.empty() || open_channels_.empty() || sending_done_) return;
  constexpr std::size_t kHighWater = 1024 * 1024;
  bool all_done = true;
  for (const auto& [id, label] : open_channels_) {
    if (closed_.count(id) != 0) {
      // Closed by a stream reset, the peer has everything; closed locally (a peer without
      // RE-CONFIG), wait for the acknowledgements.
      if (!transport_->sctp().stream_reset_supported() && transport_->buffered_amount(id) > 0)
        all_done = false;
      continue;
    }
    all_done = false;
    if (close_requested_.count(id) != 0) continue;
    std::size_t& offset = sent_offset_[id];
    while (offset < file_.size() && transport_->buffered_amount(id) < kHighWater) {
      const std::size_t n = std::min(options_.chunk, file_.size() - offset);
      if (!transport_->send(id, file_.view().subspan(offset, n), !options_.text)) break;
      if (!first_byte_) first_byte_ = monotonic_now();
      offset += n;
      bytes_sent_ += n;
    }
    if (offset < file_.size()) continue;
    if (options_.expect_echo && echo_offset_[id] < file_.size()) continue;
    // The end-of-transfer mark: closing the channel resets its stream after the data queued
    // before it (RFC 8831 6.7); it is closed once the peer has everything and reset its side.
    close_requested_.insert(id);
    if (auto closing = transport_->close_channel(id); !closing) {
      finish(false, closing.error().to_string());
      return;
    }
  }
  if (!all_done) return;
  // Every channel closed and acknowledged; `bye` as well, for peers that wait for it.
  sending_done_ = true;
  last_byte_ = monotonic_now();
  emit({{"type", "bye"}});
  finish(error_.empty(), error_);
}

void Peer::finish(bool ok, std::string error) {
  if (finished_) return;
  finished_ = true;
  ok_ = ok && connected_at_.has_value();
  if (ok && !connected_at_ && error.empty()) error = "no data channel opened";
  json result = {
      {"type", "result"},
      {"ok", ok_},
      {"role", options_.offer ? "offer" : "answer"},
      {"bytesSent", bytes_sent_},
      {"bytesReceived", bytes_received_},
      {"messagesReceived", messages_received_},
      {"sha256", hash_.hex()},
      {"connectMs", connected_at_ ? json((*connected_at_ - started_).ms_f()) : json(nullptr)},
      {"transferMs",
       first_byte_ && last_byte_ ? json((*last_byte_ - *first_byte_).ms_f()) : json(nullptr)},
      {"error", error.empty() ? json(nullptr) : json(error)},
      {"tracks", json::array()}};
  emit_state(ok_ ? "closed" : "failed");
  emit(result);
  io_.stop();
}

}  // namespace

int run_peer(int argc, char** argv) {
  Options o;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    auto number = [&](std::uint64_t max) -> std::optional<std::uint64_t> {
      const char* v = value();
      if (v == nullptr) return std::nullopt;
      auto n = parse_uint(v);
      if (!n || *n > max) return std::nullopt;
      return n;
    };
    std::optional<std::uint64_t> n;
    if (a == "--offer") {
      o.offer = true;
    } else if (a == "--channel" && i + 1 < argc) {
      o.label = value();
    } else if (a == "--unordered") {
      o.unordered = true;
    } else if (a == "--max-retransmits" && (n = number(65535))) {
      o.max_retransmits = static_cast<std::uint16_t>(*n);
    } else if (a == "--max-packet-life-time" && (n = number(65535))) {
      o.max_packet_life_time = static_cast<std::uint16_t>(*n);
    } else if (a == "--negotiated" && (n = number(65534))) {
      o.negotiated = static_cast<std::uint16_t>(*n);
    } else if (a == "--protocol" && i + 1 < argc) {
      o.protocol = value();
    } else if (a == "--channels" && (n = number(1000)) && *n > 0) {
      o.channels = static_cast<int>(*n);
    } else if (a == "--send" && i + 1 < argc) {
      o.send_file = value();
    } else if (a == "--chunk" && (n = number(256 * 1024)) && *n > 0) {
      o.chunk = *n;
    } else if (a == "--text") {
      o.text = true;
    } else if (a == "--recv" && i + 1 < argc) {
      o.recv_file = value();
    } else if (a == "--echo") {
      o.echo = true;
    } else if (a == "--expect-echo") {
      o.expect_echo = true;
    } else if (a == "--ice-server" && i + 1 < argc) {
      o.ice_servers.emplace_back(value());
    } else if (a == "--timeout" && (n = number(86400)) && *n > 0) {
      o.timeout = static_cast<int>(*n);
    } else if (a == "--video" || a == "--audio" || a == "--record" || a == "--duration") {
      value();
      o.unsupported = std::string(a) + ": media arrives with the media milestone";
    } else if (a == "--relay-only") {
      o.unsupported = "--relay-only: the TURN client is not built yet";
    } else {
      std::fprintf(stderr, "rtcpp peer: bad option %s\n", argv[i]);
      return 2;
    }
  }
  if (o.max_retransmits && o.max_packet_life_time) {
    std::fprintf(stderr,
                 "rtcpp peer: --max-retransmits and --max-packet-life-time are exclusive\n");
    return 2;
  }
  // The stdin reader thread may still be blocked in a read; leave without unwinding so it
  // never touches a destroyed loop (everything worth keeping is flushed already).
  const int rc = Peer(std::move(o)).run();
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(rc);
}

}  // namespace rtcpp::tools
