#include "ice/types.hpp"

namespace rtcpp::ice {
namespace {

std::string random_ice_string(Random& rng, std::size_t length) {
  static constexpr char kIceChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) out.push_back(kIceChars[rng.uniform(64)]);
  return out;
}

}  // namespace

std::string_view to_string(IceRole role) noexcept {
  return role == IceRole::kControlling ? "controlling" : "controlled";
}

std::string_view to_string(IceTransportState state) noexcept {
  switch (state) {
    case IceTransportState::kNew:
      return "new";
    case IceTransportState::kChecking:
      return "checking";
    case IceTransportState::kConnected:
      return "connected";
    case IceTransportState::kCompleted:
      return "completed";
    case IceTransportState::kDisconnected:
      return "disconnected";
    case IceTransportState::kFailed:
      return "failed";
    case IceTransportState::kClosed:
      return "closed";
  }
  return "?";
}

std::string_view to_string(IceGatheringState state) noexcept {
  switch (state) {
    case IceGatheringState::kNew:
      return "new";
    case IceGatheringState::kGathering:
      return "gathering";
    case IceGatheringState::kComplete:
      return "complete";
  }
  return "?";
}

IceCredentials IceCredentials::random(Random& rng) {
  return {random_ice_string(rng, 8), random_ice_string(rng, 24)};
}

}  // namespace rtcpp::ice
