// An rtcpp endpoint driven line by line, for interop tests of the public API against a
// browser (api_chromium.mjs). It sends a VP8 clip on every video sender that has a track and
// an Ogg Opus clip on every audio one, counts the frames each receiver delivers, and answers
// one JSON object per command line on stdin:
//   {"op":"add_track","stream":"s"}            a video track in stream s
//   {"op":"add_track","kind":"audio","level":L,"csrcs":[...],"levels":[...]}
//                                              an audio track whose frames carry the audio
//                                              level L and these contributing sources
//   {"op":"offer"}                             -> {"sdp":...} (set as local description)
//   {"op":"answer","sdp":...}                  the peer's answer
//   {"op":"accept_offer","sdp":...}            -> {"sdp":...} (our answer, set)
//   {"op":"set_direction","mid":M,"direction":D}
//   {"op":"stop","mid":M}
//   {"op":"state"}                             -> {"transceivers":[{mid, direction, current,
//                                                  received, sent}], "connection":...}
//   {"op":"sources","mid":M}                   -> {"synchronization":[...],
//                                                  "contributing":[...], "now":unix ms}
// Failures answer {"error":...}. Usage: api_peer <clip.ivf> <clip.ogg>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "media/ivf.hpp"
#include "media/ogg.hpp"
#include "rtcpp/rtcpp.hpp"

namespace {

using json = nlohmann::json;
using namespace rtcpp;
using namespace std::chrono_literals;

// Frames sent one after the other, looped: each `step` apart on the RTP clock and `period`
// apart in time.
struct Clip {
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<bool> key;
  std::uint32_t step = 0;
  std::chrono::milliseconds period{0};
};

std::optional<Clip> load_video(const std::string& path) {
  auto reader = media::IvfFileReader::open(path);
  if (!reader) return std::nullopt;
  Clip clip;
  clip.step = 3000;  // 30 fps on the 90 kHz clock
  clip.period = 33ms;
  Buffer data;
  for (;;) {
    auto next = reader->next_frame(data);
    if (!next || !*next) break;
    clip.frames.emplace_back(data.data(), data.data() + data.size());
    // RFC 6386 9.1: bit 0 of the frame tag is 0 for a key frame.
    clip.key.push_back(data.size() > 0 && (data.data()[0] & 1) == 0);
  }
  if (clip.frames.empty() || !clip.key.front()) return std::nullopt;
  return clip;
}

std::optional<Clip> load_audio(const std::string& path) {
  auto reader = media::OggOpusFileReader::open(path);
  if (!reader) return std::nullopt;
  Clip clip;
  clip.step = 960;  // 20 ms packets at 48 kHz
  clip.period = 20ms;
  Buffer data;
  for (;;) {
    auto next = reader->next_packet(data);
    if (!next || !*next) break;
    if ((*next)->samples != clip.step) return std::nullopt;  // the clip must be 20 ms packets
    clip.frames.emplace_back(data.data(), data.data() + data.size());
    clip.key.push_back(true);
  }
  if (clip.frames.empty()) return std::nullopt;
  return clip;
}

// What audio frames carry besides the clip: W3C audioLevel values and CSRCs.
struct AudioMarks {
  std::optional<double> level;
  std::vector<std::uint32_t> csrcs;
  std::vector<double> levels;
};

std::optional<RTCRtpTransceiverDirection> direction_of(const std::string& name) {
  for (auto d : {RTCRtpTransceiverDirection::kSendRecv, RTCRtpTransceiverDirection::kSendOnly,
                 RTCRtpTransceiverDirection::kRecvOnly, RTCRtpTransceiverDirection::kInactive}) {
    if (to_string(d) == name) return d;
  }
  return std::nullopt;
}

// What the endpoint keeps per transceiver, under the mid it was first seen with (a stopped
// transceiver loses its place in get_transceivers(), not here).
struct Tracked {
  std::shared_ptr<RTCRtpTransceiver> transceiver;
  std::shared_ptr<std::atomic<int>> received = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<int>> sent = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<bool>> key_wanted = std::make_shared<std::atomic<bool>>(true);
  std::size_t position = 0;
  std::uint32_t timestamp = 0;
  std::chrono::steady_clock::time_point due{};
};

class Endpoint {
 public:
  Endpoint(std::shared_ptr<RTCPeerConnection> pc, Clip video, Clip audio)
      : pc_(std::move(pc)), video_(std::move(video)), audio_(std::move(audio)) {
    sender_ = std::thread([this] { send_loop(); });
  }
  ~Endpoint() {
    running_ = false;
    sender_.join();
    pc_->close();
  }

  json handle(const json& command) {
    const std::string op = command.value("op", "");
    if (op == "add_track") {
      const std::string kind = command.value("kind", "video");
      if (kind == "audio") {
        std::lock_guard lock(mutex_);
        if (command.contains("level")) marks_.level = command["level"].get<double>();
        marks_.csrcs = command.value("csrcs", std::vector<std::uint32_t>{});
        marks_.levels = command.value("levels", std::vector<double>{});
      }
      auto added = pc_->add_track(MediaStreamTrack::create(kind), {command.value("stream", "s")});
      if (!added) return error(added.error());
      return {{"ok", true}};
    }
    if (op == "sources") {
      auto* tracked = find(command.value("mid", ""));
      if (tracked == nullptr) return {{"error", "no transceiver with that mid"}};
      auto receiver = tracked->transceiver->receiver();
      const auto listed = [](const auto& sources) {
        json out = json::array();
        for (const auto& source : sources) {
          out.push_back({{"source", source.source},
                         {"timestamp", source.timestamp},
                         {"rtpTimestamp", source.rtp_timestamp},
                         {"audioLevel", source.audio_level ? json(*source.audio_level) : json()}});
        }
        return out;
      };
      const auto now = std::chrono::duration<double, std::milli>(
          std::chrono::system_clock::now().time_since_epoch());
      return {{"synchronization", listed(receiver->get_synchronization_sources())},
              {"contributing", listed(receiver->get_contributing_sources())},
              {"now", now.count()}};
    }
    if (op == "offer") {
      auto offer = pc_->create_offer().get();
      if (!offer) return error(offer.error());
      if (auto set = pc_->set_local_description(*offer).get(); !set) return error(set.error());
      return {{"sdp", local_sdp()}};
    }
    if (op == "answer") {
      auto set = pc_->set_remote_description({RTCSdpType::kAnswer, command.value("sdp", "")}).get();
      if (!set) return error(set.error());
      track_all();
      return {{"ok", true}};
    }
    if (op == "accept_offer") {
      auto set = pc_->set_remote_description({RTCSdpType::kOffer, command.value("sdp", "")}).get();
      if (!set) return error(set.error());
      if (auto local = pc_->set_local_description().get(); !local) return error(local.error());
      track_all();
      return {{"sdp", local_sdp()}};
    }
    if (op == "set_direction" || op == "stop") {
      auto* tracked = find(command.value("mid", ""));
      if (tracked == nullptr) return {{"error", "no transceiver with that mid"}};
      if (op == "stop") {
        auto stopped = tracked->transceiver->stop();
        return stopped ? json{{"ok", true}} : error(stopped.error());
      }
      auto direction = direction_of(command.value("direction", ""));
      if (!direction) return {{"error", "unknown direction"}};
      auto set = tracked->transceiver->set_direction(*direction);
      return set ? json{{"ok", true}} : error(set.error());
    }
    if (op == "state") return state();
    return {{"error", "unknown op " + op}};
  }

 private:
  static json error(const RTCError& e) { return {{"error", e.to_string()}}; }

  std::string local_sdp() {
    // Candidates go in the description (no trickle): wait for gathering the first time.
    for (int i = 0; i < 500 && pc_->ice_gathering_state() != RTCIceGatheringState::kComplete; ++i)
      std::this_thread::sleep_for(10ms);
    track_all();
    auto description = pc_->local_description();
    return description ? description->sdp : "";
  }

  Tracked* find(const std::string& mid) {
    std::lock_guard lock(mutex_);
    auto it = tracked_.find(mid);
    return it == tracked_.end() ? nullptr : &it->second;
  }

  // Takes in the transceivers with a mid that are not tracked yet.
  void track_all() {
    std::lock_guard lock(mutex_);
    for (const auto& t : pc_->get_transceivers()) {
      auto mid = t->mid();
      if (!mid || tracked_.contains(*mid)) continue;
      Tracked tracked;
      tracked.transceiver = t;
      t->receiver()->on_encoded_frame(
          [received = tracked.received](const RTCEncodedFrame&) { ++*received; });
      t->sender()->on_key_frame_request([key_wanted = tracked.key_wanted] { *key_wanted = true; });
      tracked_.emplace(*mid, std::move(tracked));
    }
  }

  json state() {
    json list = json::array();
    std::lock_guard lock(mutex_);
    for (auto& [mid, tracked] : tracked_) {
      auto current = tracked.transceiver->current_direction();
      list.push_back({{"mid", mid},
                      {"direction", to_string(tracked.transceiver->direction())},
                      {"current", current ? json(to_string(*current)) : json(nullptr)},
                      {"received", tracked.received->load()},
                      {"sent", tracked.sent->load()}});
    }
    return {{"transceivers", list},
            {"transceiverCount", pc_->get_transceivers().size()},
            {"connection", to_string(pc_->connection_state())}};
  }

  // Every sender with a track sends its kind's clip in real time; a video sender starts (or
  // restarts after a key-frame request) at the clip's first frame, a key frame.
  void send_loop() {
    while (running_) {
      std::this_thread::sleep_for(5ms);
      const auto now = std::chrono::steady_clock::now();
      std::lock_guard lock(mutex_);
      for (auto& [mid, tracked] : tracked_) {
        auto sender = tracked.transceiver->sender();
        if (!sender || !sender->track()) continue;
        const bool audio = sender->track()->kind() == "audio";
        const Clip& clip = audio ? audio_ : video_;
        if (now < tracked.due) continue;
        tracked.due = std::max(tracked.due + clip.period, now);
        if (tracked.key_wanted->exchange(false)) tracked.position = 0;
        RTCEncodedFrame frame;
        frame.key_frame = clip.key[tracked.position];
        frame.rtp_timestamp = tracked.timestamp;
        frame.data = clip.frames[tracked.position];
        if (audio) {
          frame.audio_level = marks_.level;
          frame.contributing_sources = marks_.csrcs;
          frame.contributing_audio_levels = marks_.levels;
        }
        tracked.timestamp += clip.step;
        if (sender->send_encoded_frame(frame)) {
          ++*tracked.sent;
          tracked.position = (tracked.position + 1) % clip.frames.size();
        } else if (!audio) {
          *tracked.key_wanted = true;  // not sending now: start again from a key frame
        }
      }
    }
  }

  std::shared_ptr<RTCPeerConnection> pc_;
  Clip video_;
  Clip audio_;
  AudioMarks marks_;
  std::mutex mutex_;
  std::map<std::string, Tracked> tracked_;
  std::atomic<bool> running_{true};
  std::thread sender_;
};

}  // namespace

namespace {

int run(const std::string& video_path, const std::string& audio_path) {
  auto video = load_video(video_path);
  if (!video) {
    std::fprintf(stderr, "api_peer: %s is not a VP8 IVF clip starting with a key frame\n",
                 video_path.c_str());
    return 2;
  }
  auto audio = load_audio(audio_path);
  if (!audio) {
    std::fprintf(stderr, "api_peer: %s is not an Ogg Opus clip of 20 ms packets\n",
                 audio_path.c_str());
    return 2;
  }
  RTCConfiguration config;
  config.gather_loopback = true;
  auto pc = RTCPeerConnection::create(std::move(config));
  if (!pc) {
    std::fprintf(stderr, "api_peer: %s\n", pc.error().to_string().c_str());
    return 1;
  }
  Endpoint endpoint(*pc, std::move(*video), std::move(*audio));
  std::string line;
  while (std::getline(std::cin, line)) {
    json reply;
    try {
      reply = endpoint.handle(json::parse(line));
    } catch (const json::exception& e) {
      reply = {{"error", std::string("bad command: ") + e.what()}};
    }
    std::cout << reply.dump() << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: api_peer <clip.ivf> <clip.ogg>\n");
    return 2;
  }
  try {
    return run(argv[1], argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "api_peer: %s\n", e.what());
    return 1;
  }
}
