#include "dtls/record_framing.hpp"

namespace rtcpp::dtls {

bool well_framed(BytesView datagram, std::size_t min_protected) noexcept {
  std::size_t at = 0;
  while (at < datagram.size()) {
    if (datagram.size() - at < kDtlsRecordHeaderSize) return false;
    const std::uint8_t* r = datagram.data() + at;
    if (r[0] < kContentChangeCipherSpec || r[0] > 25) return false;  // 24, 25: RFC 6520, 9146
    if (r[1] != 0xfe || (r[2] != 0xff && r[2] != 0xfd)) return false;
    const std::size_t epoch = (std::size_t{r[3]} << 8) | r[4];
    const std::size_t length = (std::size_t{r[11]} << 8) | r[12];
    if (length > datagram.size() - at - kDtlsRecordHeaderSize) return false;
    if (epoch > 0 && length < min_protected) return false;
    at += kDtlsRecordHeaderSize + length;
  }
  return true;
}

void write_record_sequence(std::uint8_t* record, std::uint64_t sequence) noexcept {
  for (int i = 0; i < 6; ++i) record[5 + i] = static_cast<std::uint8_t>(sequence >> (8 * (5 - i)));
}

}  // namespace rtcpp::dtls
