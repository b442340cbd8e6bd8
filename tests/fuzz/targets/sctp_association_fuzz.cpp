// Stateful SCTP fuzzing: an established association receives input-chosen chunks in packets
// that pass the tag and checksum checks, interleaved with time passing and real traffic.
// Invariants: no crash, bounded memory (buffered data never exceeds the configured limits).
#include <cstdint>
#include <cstdlib>

#include "base/byte_reader.hpp"
#include "sctp/association.hpp"

using namespace rtcpp;
using namespace rtcpp::sctp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  SeededRandom rng(7);
  SctpConfig config;
  config.receive_window = 64 * 1024;
  config.max_message_size = 64 * 1024;
  SctpAssociation a(config, rng);
  SctpAssociation b(config, rng);
  Timestamp now = Timestamp::seconds(1);
  std::uint32_t b_tag = 0;
  auto pump = [&](bool capture) {
    for (int round = 0; round < 50; ++round) {
      bool moved = false;
      while (auto p = a.poll_transmit()) {
        if (capture && p->size() >= 8) b_tag = load_be32(p->data() + 4);
        b.handle_packet(*p, now);
        moved = true;
      }
      while (auto p = b.poll_transmit()) {
        a.handle_packet(*p, now);
        moved = true;
      }
      if (!moved) break;
    }
  };
  a.connect(now);
  b.connect(now);
  pump(true);
  if (a.state() != SctpAssociation::State::kEstablished) std::abort();
  (void)a.send(1, 51, as_bytes("seed traffic"));
  pump(true);

  ByteReader reader(BytesView(data, size));
  while (!reader.empty()) {
    auto type = reader.read_u8();
    auto flags = reader.read_u8();
    auto length = reader.read_u16();
    if (!length) break;
    auto value = reader.read_bytes(std::min<std::size_t>(*length % 2048, reader.remaining()));
    if (!value) break;
    Buffer packet;
    PacketBuilder builder(packet, {5000, 5000, *type == chunk_type::kInit ? 0 : b_tag}, 4096);
    builder.add_chunk(*type, *flags, *value);
    builder.finish();
    now += Duration::millis(*flags % 64);
    b.handle_packet(packet, now);
    b.handle_timeout(now);
    while (b.poll_transmit()) {
    }
    while (b.poll_event()) {
    }
    if (b.total_buffered() > config.max_send_buffer) std::abort();
  }
  return 0;
}
