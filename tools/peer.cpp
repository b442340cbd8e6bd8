// `rtcpp peer`: the peer contract (docs/peer-contract.md) on the public API. Signaling lines
// come in on stdin and go out on stdout; the connection is an RTCPeerConnection and its data
// channels RTCDataChannels, as an application would write it.
//
// Threads: a reader thread turns stdin lines into calls of the API's callback forms (they
// never block); everything else, the transfer and the result included, runs in the
// connection's handlers on rtcpp's loop thread, so the peer's state needs no lock. The main
// thread only waits for the result or the timeout. SIGTERM and SIGINT are blocked in every
// thread and taken by one more thread with sigwait(), which finishes on the loop as well.
#include "tools/peer.hpp"

#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "base/sha256.hpp"
#include "base/utf8.hpp"
#include "rtcpp/rtcpp.hpp"
#include "tools/peer_media.hpp"
#include "tools/peer_sources.hpp"
#include "tools/read_file.hpp"
#include "tools/signaling_lines.hpp"

namespace rtcpp::tools {
namespace {

// Insertion order, so that lines read like the contract's examples ("type" first).
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

std::mutex stdout_mutex;
bool result_written = false;  // under stdout_mutex

void emit(const json& j) {
  // Strings from outside (a channel label from the peer, an error quoting an argument) need
  // not be UTF-8: replaced (U+FFFD), as dump() would throw on them and end the process.
  const std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  std::lock_guard lock(stdout_mutex);
  // The contract: the result line is the last line on stdout, whatever is still under way.
  if (result_written) return;
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
  result_written = j.value("type", "") == "result";
}

// An RTCIceCandidateInit as the contract's line; an empty candidate is end-of-candidates.
void emit_candidate(const RTCIceCandidateInit& c) {
  if (c.candidate.empty()) {
    emit({{"type", "candidate"}, {"candidate", ""}});
    return;
  }
  emit({{"type", "candidate"},
        {"candidate", c.candidate},
        {"sdpMid", c.sdp_mid.value_or("0")},
        {"sdpMLineIndex", c.sdp_m_line_index.value_or(0)}});
}

// The signals that stop a peer (the contract: it closes, prints its result and exits non-zero).
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// The contract's --ice-server form: stun:host:port, or turn[s]:user:pass@host:port[?transport=].
Result<RTCIceServer> parse_ice_server(const std::string& url) {
  RTCIceServer server;
  const auto colon = url.find(':');
  const auto at = url.find('@');
  if (colon == std::string::npos) return syntax_error("bad --ice-server: " + url);
  if (at == std::string::npos) {
    server.urls = {url};
    return server;
  }
  const std::string scheme = url.substr(0, colon);
  const std::string credentials = url.substr(colon + 1, at - colon - 1);
  const auto split = credentials.find(':');
  if (split == std::string::npos) return syntax_error("bad --ice-server credentials: " + url);
  server.username = credentials.substr(0, split);
  server.credential = credentials.substr(split + 1);
  server.urls = {scheme + ":" + url.substr(at + 1)};
  return server;
}

// testsrc and raw files are encoded here; anything else is an encoded file sent as it is.
bool is_raw_source(const std::string& path) {
  return path == "testsrc" || path.ends_with(".y4m") || path.ends_with(".wav");
}

class Peer {
 public:
  explicit Peer(PeerOptions options) : options_(std::move(options)) {}
  int run();

 private:
  // Loop thread.
  void on_line(const SignalingLine& msg);
  void on_remote_applied(const std::string& type);
  void add_candidate(const RTCIceCandidateInit& init);
  void emit_description(const RTCSessionDescriptionInit& d);
  void open_channels();
  void attach(const std::shared_ptr<RTCDataChannel>& channel);
  void on_message(RTCDataChannel& channel, const RTCMessageEvent& m);
  void pump(const std::shared_ptr<RTCDataChannel>& channel);
  void on_channel_closed(RTCDataChannel& channel);
  void finish(bool ok, std::string error);
  void drop_handlers();
  // Media (loop thread).
  void add_media_transceivers();
  void on_track(const RTCTrackEvent& event);
  // A file this side sends (--video, --audio) and, once it has a sender, the thread sending it.
  // Either an encoded clip sent as it is, or a raw source encoded on the way.
  struct Outgoing {
    std::string kind;
    std::string codec;  // the RTP name to negotiate
    std::uint32_t clock_rate = 90000;
    std::string option;  // "--video" or "--audio", for errors
    std::optional<MediaClip> clip;
    std::optional<RawSource> raw;
    std::unique_ptr<ClipSender> sender;
    std::unique_ptr<RawSender> encoder;
    bool done = false;
    bool started() const { return sender || encoder; }
  };
  void prefer_clip_codec(RTCRtpTransceiver& transceiver, const Outgoing& outgoing);
  void start_sending(Outgoing& outgoing, const std::shared_ptr<RTCRtpSender>& sender);
  void on_sending_done(Outgoing& outgoing, std::uint64_t frames, std::uint64_t bytes,
                       const std::string& error);

  PeerOptions options_;
  std::shared_ptr<RTCPeerConnection> pc_;
  Buffer file_;
  bool description_sent_ = false;
  std::vector<RTCIceCandidateInit> local_candidates_held_;
  std::vector<RTCIceCandidateInit> remote_candidates_held_;
  bool remote_applied_ = false;
  Clock::time_point started_;
  std::optional<Clock::time_point> connected_at_;
  std::optional<Clock::time_point> first_byte_;
  std::optional<Clock::time_point> last_byte_;
  std::vector<std::shared_ptr<RTCDataChannel>> channels_;
  std::map<const RTCDataChannel*, std::size_t> sent_offset_;
  std::map<const RTCDataChannel*, std::size_t> echo_offset_;
  std::set<const RTCDataChannel*> closed_;
  std::set<const RTCDataChannel*> close_requested_;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t bytes_received_ = 0;
  std::uint64_t messages_received_ = 0;
  Sha256 hash_;
  std::ofstream recv_out_;
  std::string error_;
  bool finished_ = false;
  // The connectionState of the last state line, so that the final one is not said twice.
  std::string state_said_;
  std::promise<bool> result_;
  std::atomic<int> interrupted_by_{0};               // the signal that finished the peer
  std::vector<std::unique_ptr<Outgoing>> outgoing_;  // video first, then audio
  std::vector<std::shared_ptr<TrackRecorder>> recorders_;
  // What each recorded track's receiver decoded, written beside the encoded recording.
  std::map<const TrackRecorder*, std::shared_ptr<DecodedRecorder>> decoded_;
  std::uint64_t frames_sent_ = 0;
};

int Peer::run() {
  const char* role = options_.offer ? "offer" : "answer";
  if (!options_.unsupported.empty()) {
    emit({{"type", "result"}, {"ok", false}, {"role", role}, {"error", options_.unsupported}});
    return 1;
  }
  if (!options_.send_file.empty()) {
    const auto read = read_whole_file(options_.send_file);
    if (!read) {
      std::fprintf(stderr, "rtcpp peer: cannot read %s\n", options_.send_file.c_str());
      emit({{"type", "result"},
            {"ok", false},
            {"role", role},
            {"error", "cannot read " + options_.send_file}});
      return 1;
    }
    const std::string& bytes = *read;
    if (options_.text && !is_valid_utf8(bytes)) {
      std::fprintf(stderr, "rtcpp peer: %s is not UTF-8 (--text)\n", options_.send_file.c_str());
      emit({{"type", "result"},
            {"ok", false},
            {"role", role},
            {"error", options_.send_file + " is not UTF-8 text"}});
      return 1;
    }
    file_ = Buffer::from_string(bytes);
  }
  for (const auto& [option, path, kind] :
       {std::tuple{"--video", options_.video, "video"}, {"--audio", options_.audio, "audio"}}) {
    if (path.empty()) continue;
    auto outgoing = std::make_unique<Outgoing>();
    outgoing->option = option;
    outgoing->kind = kind;
    std::string error;
    if (is_raw_source(path)) {
      RawSource raw;
      raw.kind = kind;
      raw.path = path;
      raw.codec = kind == std::string("video") ? options_.video_codec : options_.audio_codec;
      raw.width = options_.video_width;
      raw.height = options_.video_height;
      raw.fps = options_.video_fps;
      raw.bitrate_bps = kind == std::string("video") ? options_.video_bitrate : 0;
      if (auto ok = prepare_raw_source(raw); !ok) {
        error = std::string(option) + " " + path + ": " + ok.error().to_string();
      } else {
        outgoing->codec = raw.codec;
        outgoing->clock_rate = raw.clock_rate();
        outgoing->raw = std::move(raw);
      }
    } else if (auto clip = load_media_clip(path); !clip) {
      error = clip.error().to_string();
    } else if (clip->kind != kind) {
      error = std::string(option) + " " + path + ": a file of " + clip->kind + ", not " + kind;
    } else {
      outgoing->codec = clip->codec;
      outgoing->clock_rate = clip->clock_rate;
      outgoing->clip = std::move(*clip);
    }
    if (!error.empty()) {
      emit({{"type", "result"}, {"ok", false}, {"role", role}, {"error", error}});
      return 1;
    }
    outgoing_.push_back(std::move(outgoing));
  }
  if (!options_.record_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.record_dir, ec);
    if (ec) {
      emit({{"type", "result"},
            {"ok", false},
            {"role", role},
            {"error", "cannot create " + options_.record_dir + ": " + ec.message()}});
      return 1;
    }
  }
  if (!options_.recv_file.empty() && options_.recv_file != "-" && options_.recv_file != "/dev/null")
    recv_out_.open(options_.recv_file, std::ios::binary | std::ios::app);

  RTCConfiguration config;
  // Loopback is gathered too: peers are often two processes on one machine.
  config.gather_loopback = true;
  config.ice_transport_policy =
      options_.relay_only ? RTCIceTransportPolicy::kRelay : RTCIceTransportPolicy::kAll;
  for (const auto& url : options_.ice_servers) {
    auto server = parse_ice_server(url);
    if (!server) {
      emit({{"type", "result"},
            {"ok", false},
            {"role", role},
            {"error", server.error().to_string()}});
      return 1;
    }
    config.ice_servers.push_back(*server);
  }
  auto pc = RTCPeerConnection::create(config);
  if (!pc) {
    emit({{"type", "result"}, {"ok", false}, {"role", role}, {"error", pc.error().to_string()}});
    return 1;
  }
  pc_ = *pc;
  pc_->on_ice_candidate([this](const RTCPeerConnectionIceEvent& e) {
    // The end of candidates is the candidate whose candidate is ""; the null one after it is
    // not signaled (W3C 4.8.1).
    if (!e.candidate) return;
    const RTCIceCandidateInit& init = e.candidate->to_json();
    if (!description_sent_) {
      local_candidates_held_.push_back(init);
      return;
    }
    emit_candidate(init);
  });
  pc_->on_connection_state_change([this] {
    const auto state = pc_->connection_state();
    state_said_ = to_string(state);
    emit({{"type", "state"}, {"connectionState", state_said_}});
    if (state == RTCPeerConnectionState::kFailed) {
      // W3C 4.3.3: failed is ICE failed or DTLS failed; say which.
      const auto ice = pc_->ice_connection_state();
      finish(false, std::string("the connection failed (") +
                        (ice == RTCIceConnectionState::kFailed
                             ? "ICE failed"
                             : "DTLS failed with ICE " + std::string(to_string(ice))) +
                        ")");
    }
    if (state == RTCPeerConnectionState::kConnected && !outgoing_.empty()) {
      if (!connected_at_) connected_at_ = Clock::now();
      if (!first_byte_) first_byte_ = Clock::now();
      for (const auto& outgoing : outgoing_) {
        if (outgoing->sender) outgoing->sender->start();
        if (outgoing->encoder) outgoing->encoder->start();
      }
    }
  });
  pc_->on_track([this](const RTCTrackEvent& e) { on_track(e); });
  pc_->on_data_channel([this](std::shared_ptr<RTCDataChannel> channel) { attach(channel); });
  pc_->on_ice_candidate_error([](const RTCPeerConnectionIceErrorEvent& e) {
    std::fprintf(stderr, "rtcpp peer: ICE server %s: %u %s\n", e.url.c_str(),
                 unsigned{e.error_code}, e.error_text.c_str());
  });

  // A stop signal finishes the peer like the timeout does: on the loop, result line and all.
  std::thread([this] {
    const sigset_t signals = stop_signals();
    int signo = 0;
    if (sigwait(&signals, &signo) != 0) return;
    pc_->get_stats([this, signo](RTCStatsReport) {
      if (finished_) return;
      interrupted_by_ = signo;
      finish(false, std::string("interrupted by ") + (signo == SIGINT ? "SIGINT" : "SIGTERM"));
    });
  }).detach();

  started_ = Clock::now();
  if (options_.offer || options_.negotiated) open_channels();
  if (options_.offer) add_media_transceivers();
  if (options_.offer) {
    pc_->set_local_description([this](Result<> set) {
      if (!set) {
        finish(false, set.error().to_string());
        return;
      }
      emit_description(*pc_->local_description());
    });
  }

  // Signaling arrives on stdin, read on its own thread and handed to the connection's loop.
  std::thread reader([this] {
    std::string line;
    while (true) {
      const LineRead read = read_signaling_line(std::cin, line);
      if (read == LineRead::kEnd) break;
      if (read == LineRead::kTooLong) {
        std::fprintf(stderr, "rtcpp peer: ignoring a signaling line over %zu bytes\n",
                     kMaxSignalingLine);
        continue;
      }
      auto msg = parse_signaling_line(line);
      if (!msg) {
        std::fprintf(stderr, "rtcpp peer: %s\n", msg.error().message().c_str());
        continue;
      }
      on_line(*msg);
    }
    // get_stats' callback is a way onto the loop thread, after everything queued before.
    pc_->get_stats([this](RTCStatsReport) {
      if (!finished_) {
        // After a finished transfer the other side may simply have gone away.
        const bool transfer_done =
            !options_.send_file.empty() && !channels_.empty() && closed_.size() == channels_.size();
        finish(transfer_done && error_.empty(),
               transfer_done ? error_ : "stdin closed before the session ended");
      }
    });
  });
  reader.detach();

  auto result = result_.get_future();
  bool ok = false;
  if (result.wait_for(std::chrono::seconds(options_.timeout)) == std::future_status::ready) {
    ok = result.get();
  } else {
    pc_->get_stats([this](RTCStatsReport) {
      finish(false, "timed out after " + std::to_string(options_.timeout) + " s");
    });
    ok = result.get();
  }
  pc_->close();
  if (recv_out_.is_open()) recv_out_.close();
  if (const int signo = interrupted_by_.load(); signo != 0) return 128 + signo;
  return ok ? 0 : 1;
}

// Called on the reader thread: only the API's callback forms, which queue and return.
void Peer::on_line(const SignalingLine& msg) {
  if (const auto* description = std::get_if<DescriptionLine>(&msg)) {
    const std::string type(to_string(description->type));
    const bool expected = options_.offer ? type == "answer" : type == "offer";
    if (!expected) {
      std::fprintf(stderr, "rtcpp peer: unexpected %s\n", type.c_str());
      return;
    }
    pc_->set_remote_description({description->type, description->sdp},
                                [this, type](Result<> applied) {
                                  if (!applied) {
                                    finish(false, applied.error().to_string());
                                    return;
                                  }
                                  on_remote_applied(type);
                                });
  } else if (const auto* candidate = std::get_if<CandidateLine>(&msg)) {
    const RTCIceCandidateInit init = candidate->init;
    pc_->add_ice_candidate(init, [this, init](Result<> added) {
      // The contract: a candidate may come before the description it belongs to; it waits.
      if (!added && !remote_applied_) {
        remote_candidates_held_.push_back(init);
      } else if (!added) {
        std::fprintf(stderr, "rtcpp peer: candidate refused: %s\n",
                     added.error().to_string().c_str());
      }
    });
  } else if (std::holds_alternative<ByeLine>(msg)) {
    // get_stats' callback runs on the loop after what was queued before: finish there.
    pc_->get_stats([this](RTCStatsReport) {
      finish(error_.empty() && (!options_.expect_echo || !channels_.empty()), error_);
    });
  }
}

void Peer::add_candidate(const RTCIceCandidateInit& init) {
  auto added = pc_->add_ice_candidate(init).get();  // on the loop: completes at once
  if (!added)
    std::fprintf(stderr, "rtcpp peer: candidate refused: %s\n", added.error().to_string().c_str());
}

void Peer::on_remote_applied(const std::string& type) {
  remote_applied_ = true;
  if (type == "offer") {
    started_ = Clock::now();  // the answerer counts from the description being applied
    std::set<const RTCRtpTransceiver*> taken;
    for (const auto& outgoing : outgoing_) {
      // Send on the first section of the clip's kind the offer made (it receives; now it
      // sends too).
      for (const auto& t : pc_->get_transceivers()) {
        if (t->receiver()->track()->kind() != outgoing->kind || taken.count(t.get()) != 0) continue;
        taken.insert(t.get());
        const bool receive = t->direction() == RTCRtpTransceiverDirection::kRecvOnly ||
                             t->direction() == RTCRtpTransceiverDirection::kSendRecv;
        if (auto set = t->set_direction(receive ? RTCRtpTransceiverDirection::kSendRecv
                                                : RTCRtpTransceiverDirection::kSendOnly);
            !set)
          continue;
        prefer_clip_codec(*t, *outgoing);
        // On the loop thread: the chained operation completes at once.
        if (auto replaced =
                t->sender()
                    ->replace_track(MediaStreamTrack::create(outgoing->kind, outgoing->option))
                    .get();
            !replaced) {
          finish(false, outgoing->option + ": " + replaced.error().to_string());
          return;
        }
        start_sending(*outgoing, t->sender());
        break;
      }
      if (!outgoing->started()) {
        finish(false,
               outgoing->option + ": the offer has no " + outgoing->kind + " section to send on");
        return;
      }
    }
    auto set = pc_->set_local_description().get();
    if (!set) {
      finish(false, set.error().to_string());
      return;
    }
    emit_description(*pc_->local_description());
  }
  for (const auto& c : remote_candidates_held_) add_candidate(c);
  remote_candidates_held_.clear();
}

void Peer::emit_description(const RTCSessionDescriptionInit& d) {
  emit({{"type", std::string(to_string(d.type))}, {"sdp", d.sdp}});
  description_sent_ = true;
  // Candidates gathered while the description was being written follow it.
  for (const auto& c : local_candidates_held_) emit_candidate(c);
  local_candidates_held_.clear();
}

void Peer::open_channels() {
  for (int i = 0; i < options_.channels; ++i) {
    RTCDataChannelInit init;
    init.ordered = !options_.unordered;
    init.max_retransmits = options_.max_retransmits;
    init.max_packet_life_time = options_.max_packet_life_time;
    init.protocol = options_.protocol;
    if (options_.negotiated) {
      init.negotiated = true;
      init.id = static_cast<std::uint16_t>(*options_.negotiated + 2 * i);
    }
    const std::string label =
        options_.channels == 1 ? options_.label : options_.label + "-" + std::to_string(i);
    auto channel = pc_->create_data_channel(label, init);
    if (!channel) {
      finish(false, channel.error().to_string());
      return;
    }
    attach(*channel);
  }
}

void Peer::attach(const std::shared_ptr<RTCDataChannel>& channel) {
  channels_.push_back(channel);
  RTCDataChannel* raw = channel.get();
  channel->set_buffered_amount_low_threshold(256 * 1024);
  // Events fire on the loop thread while this thread sets handlers: on_open goes last, so that
  // the others are in place however soon the channel opens.
  channel->on_buffered_amount_low([this, channel] { pump(channel); });
  channel->on_message([this, raw](const RTCMessageEvent& m) { on_message(*raw, m); });
  channel->on_close([this, raw] { on_channel_closed(*raw); });
  // W3C 6.2.3: a channel the peer opened fires open right after datachannel, so on_open
  // covers both kinds.
  channel->on_open([this, channel] {
    if (!connected_at_) connected_at_ = Clock::now();
    emit({{"type", "open"},
          {"label", channel->label()},
          {"id", channel->id().value_or(0)},
          {"protocol", channel->protocol()}});
    pump(channel);
  });
}

void Peer::on_message(RTCDataChannel& channel, const RTCMessageEvent& m) {
  const auto now = Clock::now();
  if (!first_byte_) first_byte_ = now;
  last_byte_ = now;
  if (options_.expect_echo) {
    // Echoed data must come back byte-equal and in order, per channel.
    std::size_t& at = echo_offset_[&channel];
    if (at + m.data.size() > file_.size() ||
        !std::equal(m.data.begin(), m.data.end(), file_.data() + at)) {
      error_ = "echo mismatch on channel " + channel.label();
    }
    at += m.data.size();
  }
  bytes_received_ += m.data.size();
  ++messages_received_;
  hash_.update(BytesView(m.data.data(), m.data.size()));
  if (recv_out_.is_open())
    recv_out_.write(reinterpret_cast<const char*>(m.data.data()),
                    static_cast<std::streamsize>(m.data.size()));
  if (options_.echo) {
    auto sent =
        m.binary ? channel.send(std::span<const std::uint8_t>(m.data)) : channel.send(m.text());
    if (sent) bytes_sent_ += m.data.size();
  }
  // The sender closes once its data came back.
  for (const auto& c : channels_) {
    if (c.get() == &channel) pump(c);
  }
}

void Peer::pump(const std::shared_ptr<RTCDataChannel>& channel) {
  if (finished_ || options_.send_file.empty() || close_requested_.count(channel.get()) != 0 ||
      channel->ready_state() != RTCDataChannelState::kOpen)
    return;
  // Backpressure as a browser application does it: stay under about 1 MiB buffered and go
  // on at bufferedamountlow.
  constexpr std::size_t kHighWater = 1024 * 1024;
  std::size_t& offset = sent_offset_[channel.get()];
  while (offset < file_.size() && channel->buffered_amount() < kHighWater) {
    const std::string_view rest(reinterpret_cast<const char*>(file_.data() + offset),
                                file_.size() - offset);
    // A text message holds whole characters: cut at the last character boundary within the
    // chunk size, or after the one character that is longer than it.
    const std::size_t n = options_.text ? utf8_prefix_length(rest, options_.chunk)
                                        : std::min(options_.chunk, rest.size());
    const std::span<const std::uint8_t> piece(file_.data() + offset, n);
    auto sent =
        options_.text
            ? channel->send(std::string_view(reinterpret_cast<const char*>(piece.data()), n))
            : channel->send(piece);
    if (!sent) {
      finish(false, sent.error().to_string());
      return;
    }
    if (!first_byte_) first_byte_ = Clock::now();
    offset += n;
    bytes_sent_ += n;
  }
  if (offset < file_.size()) return;
  if (options_.expect_echo && echo_offset_[channel.get()] < file_.size()) return;
  // The end-of-transfer mark: closing resets the stream after the data queued before it
  // (RFC 8831 6.7); the channel is closed once the peer has everything and reset its side.
  close_requested_.insert(channel.get());
  channel->close();
}

void Peer::on_channel_closed(RTCDataChannel& channel) {
  closed_.insert(&channel);
  if (!options_.send_file.empty() && close_requested_.count(&channel) == 0) {
    finish(false, "channel " + channel.label() + " closed by the peer mid-transfer");
    return;
  }
  if (closed_.size() < channels_.size()) return;
  // Every channel closed: a sender says bye as well, for peers that wait for it.
  if (!options_.send_file.empty()) {
    last_byte_ = Clock::now();
    emit({{"type", "bye"}});
  }
  finish(error_.empty(), error_);
}

void Peer::add_media_transceivers() {
  const bool record = !options_.record_dir.empty();
  for (const char* kind : {"video", "audio"}) {
    Outgoing* outgoing = nullptr;
    for (const auto& o : outgoing_) {
      if (o->kind == kind) outgoing = o.get();
    }
    if (!outgoing && !record) continue;
    const auto direction = outgoing && record ? RTCRtpTransceiverDirection::kSendRecv
                           : outgoing         ? RTCRtpTransceiverDirection::kSendOnly
                                              : RTCRtpTransceiverDirection::kRecvOnly;
    RTCRtpTransceiverInit init{direction, {}};
    auto transceiver =
        outgoing ? pc_->add_transceiver(MediaStreamTrack::create(kind, outgoing->option), init)
                 : pc_->add_transceiver(kind, init);
    if (!transceiver) {
      finish(false, transceiver.error().to_string());
      return;
    }
    if (outgoing) {
      prefer_clip_codec(**transceiver, *outgoing);
      start_sending(*outgoing, (*transceiver)->sender());
    }
  }
}

void Peer::prefer_clip_codec(RTCRtpTransceiver& transceiver, const Outgoing& outgoing) {
  // The file's codec is the one to negotiate (W3C setCodecPreferences), with RTX for video.
  std::vector<RTCRtpCodec> codecs;
  if (outgoing.kind == "video") {
    codecs = {{"video/" + outgoing.codec, 90000, std::nullopt, std::nullopt},
              {"video/rtx", 90000, std::nullopt, std::nullopt}};
  } else {
    // Opus is always signalled with two channels (RFC 7587 7); G.711 with one.
    const std::optional<std::uint16_t> channels =
        outgoing.clock_rate == 48000 ? std::optional<std::uint16_t>(2) : std::nullopt;
    codecs = {{"audio/" + outgoing.codec, outgoing.clock_rate, channels, std::nullopt}};
  }
  auto set = transceiver.set_codec_preferences(std::move(codecs));
  if (!set) finish(false, outgoing.option + ": " + set.error().to_string());
}

void Peer::start_sending(Outgoing& outgoing, const std::shared_ptr<RTCRtpSender>& sender) {
  const auto duration =
      std::chrono::milliseconds(static_cast<std::int64_t>(options_.duration * 1000));
  auto done = [this, &outgoing](std::uint64_t frames, std::uint64_t bytes,
                                const std::string& error) {
    // On the sender's thread: the rest happens on the loop, after what is queued there.
    pc_->get_stats([this, &outgoing, frames, bytes, error](RTCStatsReport) {
      on_sending_done(outgoing, frames, bytes, error);
    });
  };
  if (outgoing.raw) {
    outgoing.encoder = std::make_unique<RawSender>(*outgoing.raw, sender, duration, done);
  } else {
    outgoing.sender = std::make_unique<ClipSender>(*outgoing.clip, sender, duration, done);
  }
}

void Peer::on_sending_done(Outgoing& outgoing, std::uint64_t frames, std::uint64_t bytes,
                           const std::string& error) {
  outgoing.done = true;
  frames_sent_ += frames;
  bytes_sent_ += bytes;
  last_byte_ = Clock::now();
  if (!error.empty()) {
    finish(false, outgoing.option + ": " + error);
    return;
  }
  for (const auto& o : outgoing_) {
    if (!o->done) return;
  }
  emit({{"type", "bye"}});
  finish(error_.empty(), error_);
}

void Peer::on_track(const RTCTrackEvent& e) {
  auto receiver = e.receiver;
  auto transceiver = e.transceiver;
  // DTMF from the peer is logged (stderr: the contract has no event for it), a line per tone
  // at its end.
  receiver->on_dtmf_tone([transceiver](const RTCDTMFToneReceivedEvent& tone) {
    if (!tone.ended) return;
    std::fprintf(stderr, "rtcpp peer: DTMF tone %s (event %u) for %.0f ms on mid %s\n",
                 tone.tone.empty() ? "?" : tone.tone.c_str(), unsigned{tone.event},
                 tone.duration_ms, transceiver->mid().value_or("").c_str());
  });
  // Handlers are called through copies: the recorder lives in a holder they share.
  auto holder = std::make_shared<std::shared_ptr<TrackRecorder>>();
  // --record also decodes (the receiver's raw-frame API), from the first frame on.
  std::shared_ptr<DecodedRecorder> decoded;
  if (!options_.record_dir.empty()) {
    decoded = std::make_shared<DecodedRecorder>(options_.record_dir + "/" +
                                                transceiver->mid().value_or(""));
    if (receiver->track()->kind() == "video") {
      receiver->on_video_frame(
          [decoded](const VideoFrame& picture) { decoded->on_video(picture); });
    } else {
      receiver->on_audio_frame([decoded](const AudioFrame& audio) { decoded->on_audio(audio); });
    }
  }
  // The codec is known once the negotiation completes, at the latest with the first frame.
  receiver->on_encoded_frame(
      [this, receiver, transceiver, holder, decoded](const RTCEncodedFrame& frame) {
        if (finished_) return;
        auto& recorder = *holder;
        if (!recorder) {
          recorder = std::make_shared<TrackRecorder>(
              receiver->track()->kind(), transceiver->mid().value_or(""),
              receiver->codec().value_or(""), options_.record_dir);
          recorders_.push_back(recorder);
          if (decoded) decoded_[recorder.get()] = decoded;
          if (!connected_at_) connected_at_ = Clock::now();
          emit({{"type", "track"},
                {"kind", recorder->kind()},
                {"mid", recorder->mid()},
                {"codec", recorder->codec()}});
        }
        const auto now = Clock::now();
        if (!first_byte_) first_byte_ = now;
        last_byte_ = now;
        bytes_received_ += frame.data.size();
        recorder->on_frame(frame);
        if (!recorder->error().empty() && error_.empty()) error_ = recorder->error();
        if (decoded && !decoded->error().empty() && error_.empty()) error_ = decoded->error();
      });
}

void Peer::finish(bool ok, std::string error) {
  if (finished_) return;
  finished_ = true;
  for (const auto& outgoing : outgoing_) {
    if (outgoing->sender) outgoing->sender->stop();
    if (outgoing->encoder) outgoing->encoder->stop();
  }
  json tracks = json::array();
  for (const auto& r : recorders_) {
    r->close();
    if (!r->error().empty() && error.empty()) {
      error = r->error();
      ok = false;
    }
    json track{{"kind", r->kind()},
               {"mid", r->mid()},
               {"codec", r->codec()},
               {"frames", r->frames()},
               {"bytes", r->bytes()}};
    // rtcpp extension: what --record decoded.
    if (auto decoded = decoded_.find(r.get()); decoded != decoded_.end()) {
      decoded->second->close();
      track["framesDecoded"] = decoded->second->frames();
      if (auto latencies = decoded->second->latencies_ms(); !latencies.empty()) {
        std::sort(latencies.begin(), latencies.end());
        const auto at = [&](double q) {
          return latencies[static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1))];
        };
        track["latencyP50Ms"] = at(0.5);
        track["latencyP95Ms"] = at(0.95);
      }
    }
    tracks.push_back(std::move(track));
  }
  const bool result_ok = ok && connected_at_.has_value();
  if (ok && !connected_at_ && error.empty()) error = "no data channel opened and no media";
  const auto ms = [](Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  // The final state: closed, or failed; a connection that failed has said so already.
  if (const std::string final_state = result_ok ? "closed" : "failed"; final_state != state_said_)
    emit({{"type", "state"}, {"connectionState", final_state}});
  emit({{"type", "result"},
        {"ok", result_ok},
        {"role", options_.offer ? "offer" : "answer"},
        {"bytesSent", bytes_sent_},
        {"bytesReceived", bytes_received_},
        {"messagesReceived", messages_received_},
        {"sha256", hash_.hex()},
        {"connectMs", connected_at_ ? json(ms(*connected_at_ - started_)) : json(nullptr)},
        {"transferMs",
         first_byte_ && last_byte_ ? json(ms(*last_byte_ - *first_byte_)) : json(nullptr)},
        {"error", error.empty() ? json(nullptr) : json(error)},
        {"tracks", tracks}});
  drop_handlers();
  result_.set_value(result_ok);
}

// After the result there is nothing left to do: no more events (emit() drops any line too).
void Peer::drop_handlers() {
  pc_->on_connection_state_change(nullptr);
  pc_->on_ice_candidate(nullptr);
  pc_->on_data_channel(nullptr);
  pc_->on_track(nullptr);
  for (const auto& channel : channels_) {
    channel->on_open(nullptr);
    channel->on_message(nullptr);
    channel->on_buffered_amount_low(nullptr);
    channel->on_close(nullptr);
  }
}

}  // namespace

CLI::App* add_peer_command(CLI::App& app, PeerOptions& o) {
  auto* peer = app.add_subcommand(
      "peer",
      "A scriptable endpoint: JSON-lines signaling on stdin/stdout, events and one result "
      "line on stdout (the peer contract, docs/peer-contract.md)");
  peer->add_flag("--offer", o.offer, "create the offer (default: wait for one and answer)");
  peer->add_option("--channel", o.label, "label of the data channel the offerer creates")
      ->capture_default_str();
  peer->add_flag("--unordered", o.unordered, "the channel is unordered");
  auto* retransmits = peer->add_option("--max-retransmits", o.max_retransmits,
                                       "partial reliability: at most N retransmissions")
                          ->check(CLI::Range(0, 65535));
  peer->add_option("--max-packet-life-time", o.max_packet_life_time,
                   "partial reliability: give up after MS milliseconds")
      ->check(CLI::Range(0, 65535))
      ->excludes(retransmits);
  peer->add_option("--negotiated", o.negotiated,
                   "a pre-negotiated channel with this stream id (both sides pass it)")
      ->check(CLI::Range(0, 65534));
  peer->add_option("--protocol", o.protocol, "the channel's subprotocol");
  peer->add_option("--channels", o.channels, "open N channels, each carrying the transfer")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  peer->add_option("--send", o.send_file, "once open, send FILE, then close the channel");
  peer->add_option("--chunk", o.chunk, "message size for --send, in bytes")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256 * 1024}))
      ->capture_default_str();
  peer->add_flag("--text", o.text, "send text messages (FILE must be UTF-8)");
  peer->add_option("--recv", o.recv_file, "append what is received to FILE ('-' allowed)");
  peer->add_flag("--echo", o.echo, "send every message back on its channel");
  peer->add_flag("--expect-echo", o.expect_echo,
                 "with --send: check that every message comes back, in order");
  peer->add_option("--ice-server", o.ice_servers,
                   "stun:host:port, turn:user:pass@host:port?transport=udp|tcp, turns:... "
                   "(repeatable)");
  peer->add_flag("--relay-only", o.relay_only, "iceTransportPolicy relay");
  peer->add_option("--timeout", o.timeout, "give up after S seconds")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  peer->add_option_function<std::string>(
      "--video",
      [&o](const std::string& source) {
        if (source == "testsrc" ||
            (source.size() > 4 && (source.ends_with(".ivf") || source.ends_with(".y4m"))) ||
            (source.size() > 5 && source.ends_with(".h264"))) {
          o.video = source;
        } else {
          o.unsupported =
              "--video " + source + ": testsrc, a raw .y4m file, or an encoded .ivf or .h264 file";
        }
      },
      "send a video track in real time: testsrc (a generated pattern) or a raw .y4m, encoded "
      "with --video-codec; or an encoded file sent as it is: .ivf (VP8, VP9, AV1) or .h264 "
      "(Annex B, 30 frames a second)");
  peer->add_option_function<std::string>(
      "--audio",
      [&o](const std::string& source) {
        if (source == "testsrc" ||
            (source.size() > 4 && (source.ends_with(".ogg") || source.ends_with(".wav")))) {
          o.audio = source;
        } else {
          o.unsupported =
              "--audio " + source + ": testsrc, a raw .wav file or an encoded .ogg file";
        }
      },
      "send an audio track in real time: testsrc (a 440 Hz tone) or a raw .wav, encoded with "
      "--audio-codec; or an encoded .ogg (Ogg Opus) file sent as it is");
  peer->add_option("--video-codec", o.video_codec,
                   "rtcpp extension: the codec testsrc and .y4m are encoded with: VP8, VP9, H264, "
                   "AV1")
      ->capture_default_str();
  peer->add_option("--audio-codec", o.audio_codec,
                   "rtcpp extension: the codec testsrc and .wav are encoded with: opus, PCMU, PCMA")
      ->capture_default_str();
  peer->add_option_function<std::string>(
      "--video-size",
      [&o](const std::string& size) {
        int w = 0;
        int h = 0;
        char x = 0;
        std::istringstream in(size);
        if (!(in >> w >> x >> h) || x != 'x' || !in.eof() || w < 64 || h < 48 || w > 7680 ||
            h > 4320) {
          o.unsupported = "--video-size " + size + ": WIDTHxHEIGHT from 64x48 to 7680x4320";
          return;
        }
        o.video_width = w;
        o.video_height = h;
      },
      "rtcpp extension: the testsrc picture size, WIDTHxHEIGHT (default 640x480)");
  peer->add_option("--video-fps", o.video_fps, "rtcpp extension: the testsrc frame rate")
      ->check(CLI::Range(1.0, 240.0))
      ->capture_default_str();
  peer->add_option("--video-bitrate", o.video_bitrate,
                   "rtcpp extension: the target bitrate of encoded video, bits per second")
      ->check(CLI::Range(50'000u, 50'000'000u))
      ->capture_default_str();
  peer->add_option("--record", o.record_dir,
                   "write each received track to DIR as received: <mid>.ivf (VP8, VP9, AV1), "
                   "<mid>.h264 (H.264, Annex B) or <mid>.ogg (Opus); and decoded: <mid>.y4m "
                   "(video) or <mid>.wav (audio)");
  peer->add_option("--duration", o.duration, "seconds of media to send")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  return peer;
}

int run_peer(const PeerOptions& options) {
  PeerOptions o = options;
  // Before any thread exists, so that all of them inherit it: a stop signal is never
  // delivered (its default action would end the process without a result line), only
  // taken by the thread that waits for it.
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // The stdin reader thread may still be blocked in a read, and the signal thread in its
  // wait; leave without unwinding, the peer never destroyed, so that neither touches a
  // destroyed object (everything worth keeping is flushed already).
  auto* peer = new Peer(std::move(o));
  const int rc = peer->run();
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(rc);
}

}  // namespace rtcpp::tools
