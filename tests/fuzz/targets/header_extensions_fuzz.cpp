// Header extension values: every parser on any bytes never crashes, and what parses writes
// back to the same bytes (the fixed-size forms) or to a value that parses again.
#include <cstdint>
#include <cstdlib>

#include "rtp/header_extensions.hpp"

using namespace rtcpp;
using namespace rtcpp::rtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  if (auto mid = parse_mid(input); mid && mid->size() != size) std::abort();
  if (auto rid = parse_rid(input); rid && !is_valid_rid(*rid)) std::abort();
  if (auto t = parse_abs_send_time(input)) {
    const auto back = write_abs_send_time(*t);
    if (!equal_bytes(back, input)) std::abort();
  }
  if (auto seq = parse_transport_sequence_number(input)) {
    const auto back = write_transport_sequence_number(*seq);
    if (!equal_bytes(back, input)) std::abort();
  }
  if (auto level = parse_ssrc_audio_level(input)) {
    if (level->level > kMaxAudioLevel) std::abort();
    if (write_ssrc_audio_level(*level)[0] != input[0]) std::abort();
  }
  const std::size_t csrcs = size == 0 ? 0 : input[0] % 16;
  if (auto levels = parse_csrc_audio_levels(input, csrcs)) {
    if (!equal_bytes(write_csrc_audio_levels(*levels), input)) std::abort();
  }
  return 0;
}
