#include "rtp/payload_format.hpp"

namespace rtcpp::rtp {

std::string_view to_string(PayloadError error) noexcept {
  switch (error) {
    case PayloadError::kEmpty:
      return "empty payload or frame";
    case PayloadError::kTruncated:
      return "truncated payload";
    case PayloadError::kMalformed:
      return "malformed payload";
    case PayloadError::kUnsupported:
      return "unsupported payload form";
    case PayloadError::kTooLarge:
      return "frame too large";
    case PayloadError::kBrokenFrame:
      return "fragments do not join up";
    case PayloadError::kNoRoom:
      return "no room for data in a payload";
    case PayloadError::kNoFrame:
      return "no frame in progress";
  }
  return "unknown payload error";
}

}  // namespace rtcpp::rtp
