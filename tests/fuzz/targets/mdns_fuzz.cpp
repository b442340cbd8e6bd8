// mDNS responses from the network: parse_response must return records or an error for any
// input, and every record it returns must carry a .local-sized name and a real address.
#include <cstdint>
#include <cstdlib>

#include "mdns/mdns_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto records = rtcpp::mdns::parse_response(rtcpp::BytesView(data, size));
  if (!records) return 0;
  if (records->size() > rtcpp::mdns::kMaxRecords) std::abort();
  for (const auto& r : *records) {
    if (r.name.size() > 255) std::abort();
  }
  return 0;
}
