#include "rtcpp/version.hpp"

namespace rtcpp {

std::string_view version() noexcept {
  return RTCPP_VERSION_STRING;
}

}  // namespace rtcpp
