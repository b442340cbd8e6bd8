// Hostile datagrams into a DTLS server mid-handshake (the record layer, fragment reassembly
// and the handshake state machine), and into the RFC 7983 demux. The input is split into
// datagrams by 2-byte length prefixes.
#include <cstdint>
#include <cstdlib>

#include "base/byte_reader.hpp"
#include "dtls/dtls_transport.hpp"
#include "pc/demux.hpp"

using namespace rtcpp;
using namespace rtcpp::dtls;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto certificate = *Certificate::generate();
  DtlsConfig config;
  config.certificate = certificate;
  auto transport = DtlsTransport::create(config);
  if (!transport) std::abort();
  auto& t = **transport;
  t.set_remote_fingerprints(certificate->get_fingerprints(), Timestamp::zero());
  t.start(DtlsRole::kServer, Timestamp::zero());
  ByteReader reader(BytesView(data, size));
  Timestamp now = Timestamp::zero();
  while (!reader.empty()) {
    auto length = reader.read_u16();
    if (!length) break;
    auto datagram = reader.read_bytes(std::min<std::size_t>(*length, reader.remaining()));
    if (!datagram) break;
    (void)pc::classify_packet(*datagram);
    now += Duration::millis(10);
    t.handle_packet(*datagram, now);
    t.handle_timeout(now);
    while (t.poll_transmit()) {
    }
    while (t.poll_event()) {
    }
  }
  return 0;
}
