#include "runtime/interfaces.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>

namespace rtcpp::runtime {

std::vector<IpAddress> local_addresses(bool include_loopback) {
  std::vector<IpAddress> found;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
      if ((i->ifa_flags & IFF_UP) == 0) continue;
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      const IpAddress ip = IpAddress::v4(ntohl(sin->sin_addr.s_addr));
      if (ip.is_link_local()) continue;
      if (std::find(found.begin(), found.end(), ip) == found.end()) found.push_back(ip);
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
  return out;
}

}  // namespace rtcpp::runtime
