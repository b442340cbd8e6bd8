// Session descriptions from a remote peer: never crash; what parses writes back into text
// that parses to an equal description.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sdp/session_description.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sd = rtcpp::sdp::SessionDescription::parse(text);
  if (!sd) return 0;
  auto again = rtcpp::sdp::SessionDescription::parse(sd->to_string());
  if (!again || !(*again == *sd)) std::abort();
  return 0;
}
