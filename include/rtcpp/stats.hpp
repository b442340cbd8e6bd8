// rtcpp/stats.hpp: RTCStatsReport (W3C WebRTC 1.0 section 8 and the webrtc-stats
// identifiers): a map from stats id to one stats object of a type such as "peer-connection",
// "transport", "candidate-pair", "local-candidate", "remote-candidate", "certificate" or
// "data-channel", with the members the webrtc-stats document names (camelCase, as in JSON).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

namespace rtcpp {

using RTCStatsValue = std::variant<bool, std::int64_t, std::uint64_t, double, std::string>;

struct RTCStats {
  std::string id;
  std::string type;
  double timestamp = 0;  // milliseconds since the Unix epoch
  std::map<std::string, RTCStatsValue> members;

  // A member's value when it is present and of type T.
  template <typename T>
  std::optional<T> get(const std::string& name) const {
    auto it = members.find(name);
    if (it == members.end()) return std::nullopt;
    if (const T* v = std::get_if<T>(&it->second)) return *v;
    return std::nullopt;
  }
};

class RTCStatsReport {
 public:
  void add(RTCStats stats) { stats_[stats.id] = std::move(stats); }
  const RTCStats* get(const std::string& id) const {
    auto it = stats_.find(id);
    return it == stats_.end() ? nullptr : &it->second;
  }
  std::size_t size() const noexcept { return stats_.size(); }
  auto begin() const { return stats_.begin(); }
  auto end() const { return stats_.end(); }

  // The report as a JSON object keyed by id, each value an object with id, type, timestamp
  // and the members (what JSON.stringify(Object.fromEntries(report)) gives in a browser).
  std::string to_json() const;

 private:
  std::map<std::string, RTCStats> stats_;
};

}  // namespace rtcpp
