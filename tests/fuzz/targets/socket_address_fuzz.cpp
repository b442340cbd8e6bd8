// IP and socket address parsing: never crash; whatever parses must print and re-parse to the
// same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/net.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto ip = rtcpp::IpAddress::parse(text)) {
    auto again = rtcpp::IpAddress::parse(ip->to_string());
    if (!again || *again != *ip) std::abort();
  }
  if (auto address = rtcpp::SocketAddress::parse(text)) {
    auto again = rtcpp::SocketAddress::parse(address->to_string());
    if (!again || *again != *address) std::abort();
  }
  return 0;
}
