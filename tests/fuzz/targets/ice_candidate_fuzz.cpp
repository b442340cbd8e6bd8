// ICE candidate lines from a remote peer: never crash; what parses writes back into a line
// that parses to the same candidate.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ice/candidate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto candidate = rtcpp::ice::Candidate::parse(text);
  if (!candidate) return 0;
  (void)candidate->socket_address();
  (void)candidate->is_mdns();
  auto again = rtcpp::ice::Candidate::parse(candidate->to_string());
  if (!again || !(*again == *candidate)) std::abort();
  return 0;
}
