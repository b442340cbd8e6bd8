// The local addresses to gather host candidates on.
#pragma once

#include <vector>

#include "base/net.hpp"

namespace rtcpp::runtime {

// IPv4 and IPv6 addresses of the interfaces that are up, IPv6 first, without link-local
// ones. Loopback is
// included when include_loopback is set, and always when it is the only address (a test
// namespace), so that a connection can form wherever it runs.
std::vector<IpAddress> local_addresses(bool include_loopback);

}  // namespace rtcpp::runtime
