// DTLS 1.2 record framing (RFC 6347 4.1): walking the records of a datagram, and the checks
// a datagram passes before any of its records is read. One walker serves the handshake's
// flight tracking, the protected-record reader, renumbering on send, the fuzz targets and the
// tests.
#pragma once
#include <cstddef>
#include <cstdint>

#include "base/bytes.hpp"
#include "dtls/record_protection.hpp"

namespace rtcpp::dtls {

// RFC 6347 content types.
inline constexpr std::uint8_t kContentChangeCipherSpec = 20;
inline constexpr std::uint8_t kContentAlert = 21;
inline constexpr std::uint8_t kContentHandshake = 22;
inline constexpr std::uint8_t kContentApplicationData = 23;

// RFC 6347 4.2.2: the handshake message header (type, length, message_seq, fragment offset and
// length).
inline constexpr std::size_t kHandshakeHeaderSize = 12;

// One record of a datagram, as framed on the wire.
struct RecordView {
  std::uint8_t type = 0;
  std::uint16_t epoch = 0;
  std::uint64_t sequence = 0;  // 48 bits
  std::size_t offset = 0;      // of the record's header within the datagram
  BytesView record;            // header and body
  BytesView body;
};

// Calls f(const RecordView&) for each whole record of the datagram, in order. Stops at the
// first record whose length runs past the datagram's end (well_framed() refuses those).
template <typename F>
void for_each_record(BytesView datagram, F&& f) {
  std::size_t at = 0;
  while (datagram.size() - at >= kDtlsRecordHeaderSize) {
    const std::uint8_t* r = datagram.data() + at;
    const std::size_t length = (std::size_t{r[11]} << 8) | r[12];
    if (length > datagram.size() - at - kDtlsRecordHeaderSize) return;
    RecordView view;
    view.type = r[0];
    view.epoch = static_cast<std::uint16_t>((r[3] << 8) | r[4]);
    for (int i = 5; i < 11; ++i) view.sequence = (view.sequence << 8) | r[i];
    view.offset = at;
    view.record = datagram.subspan(at, kDtlsRecordHeaderSize + length);
    view.body = datagram.subspan(at + kDtlsRecordHeaderSize, length);
    at += kDtlsRecordHeaderSize + length;
    f(view);
  }
}

// Whether every record of the datagram is framed as DTLS 1.0 or 1.2 sends it (a known content
// type, version, a length within the datagram, nothing left over), and each protected one
// (epoch 1 and later) is at least `min_protected` long.
bool well_framed(BytesView datagram, std::size_t min_protected) noexcept;

// Writes a 48-bit sequence number into the record header at `record`.
void write_record_sequence(std::uint8_t* record, std::uint64_t sequence) noexcept;

}  // namespace rtcpp::dtls
