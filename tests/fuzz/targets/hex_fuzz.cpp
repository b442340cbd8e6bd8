// Hex decoding (as used for SDP fingerprints): never crash, respect the size limit, and
// round-trip whatever decodes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/hex.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (char separator : {'\0', ':'}) {
    auto bytes = rtcpp::from_hex(text, separator, 64);
    if (!bytes) continue;
    if (bytes->size() > 64) std::abort();
    const auto encoded =
        separator == '\0' ? rtcpp::to_hex(*bytes) : rtcpp::to_hex_separated(*bytes, separator);
    auto again = rtcpp::from_hex(encoded, separator, 64);
    if (!again || !(*again == *bytes)) std::abort();
  }
  return 0;
}
