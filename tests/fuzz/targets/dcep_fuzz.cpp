// DCEP messages from a remote peer: never crash; an OPEN re-serialises to the same bytes
// (its encoding is canonical apart from the reliability parameter of reliable channels).
#include <cstdint>
#include <cstdlib>

#include "datachannel/dcep.hpp"

using namespace rtcpp;
using namespace rtcpp::datachannel;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto msg = parse_dcep(BytesView(data, size));
  if (!msg) return 0;
  if (auto* open = std::get_if<DataChannelOpen>(&*msg)) {
    auto again = parse_dcep(serialize(*open));
    if (!again) std::abort();
    auto reparsed = std::get<DataChannelOpen>(*again);
    if (open->reliability == Reliability::kReliable)
      reparsed.reliability_parameter = open->reliability_parameter;
    if (!(reparsed == *open)) std::abort();
  }
  return 0;
}
