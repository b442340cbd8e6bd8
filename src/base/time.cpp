#include "base/time.hpp"

#include <cstdio>

namespace rtcpp {

std::string Duration::to_string() const {
  if (is_infinite()) return "inf";
  char buf[48];
  const std::int64_t magnitude = us_ < 0 ? -us_ : us_;
  if (magnitude < 1000) {
    std::snprintf(buf, sizeof buf, "%lldus", static_cast<long long>(us_));
  } else if (magnitude < 1000000) {
    std::snprintf(buf, sizeof buf, "%gms", static_cast<double>(us_) / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%gs", static_cast<double>(us_) / 1e6);
  }
  return buf;
}

}  // namespace rtcpp
