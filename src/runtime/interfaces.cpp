#include "runtime/interfaces.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace rtcpp::runtime {

std::vector<IpAddress> local_addresses(bool include_loopback) {
  std::vector<IpAddress> found;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0) continue;
      std::optional<IpAddress> ip;
      if (i->ifa_addr->sa_family == AF_INET) {
        ip = IpAddress::v4(
            ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr));
      } else if (i->ifa_addr->sa_family == AF_INET6) {
        std::array<std::uint8_t, 16> bytes{};
        std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr,
                    bytes.size());
        ip = IpAddress::v6(bytes);
      }
      // Link-local addresses need a scope to be usable; browsers leave them out too.
      if (!ip || ip->is_link_local()) continue;
      if (std::find(found.begin(), found.end(), *ip) == found.end()) found.push_back(*ip);
    }
    freeifaddrs(list);
  }
  std::vector<IpAddress> out;
  for (const auto& ip : found) {
    if (!ip.is_loopback() || include_loopback) out.push_back(ip);
  }
  if (out.empty()) {
    for (const auto& ip : found) out.push_back(ip);
  }
  if (out.empty()) out.push_back(IpAddress::v4(0x7f000001));
  // IPv6 first (RFC 8421 prefers it): candidates go out, and are checked, in this order.
  std::stable_partition(out.begin(), out.end(), [](const IpAddress& ip) { return ip.is_v6(); });
  return out;
}

}  // namespace rtcpp::runtime
