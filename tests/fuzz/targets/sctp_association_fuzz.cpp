// Stateful SCTP fuzzing: an established association receives input-chosen chunks in packets
// that pass the tag and checksum checks, interleaved with time passing and real traffic.
// The association under test has partially reliable data in flight and a stream reset
// pending, so FORWARD-TSN, SACK and RE-CONFIG input reaches the code that handles them. To
// let short inputs hit live sequence numbers, the TSN and request sequence fields of DATA,
// SACK, FORWARD-TSN and RE-CONFIG (and I-DATA and I-FORWARD-TSN) are taken as offsets from the
// real ones. Each input runs twice: against an association that negotiated I-DATA (RFC 8260)
// and against one that uses DATA, so every chunk meets both receive paths.
// Invariants: no crash, bounded memory (buffered data, sent or received, never exceeds the
// configured limits).
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

#include "base/byte_reader.hpp"
#include "sctp/association.hpp"

using namespace rtcpp;
using namespace rtcpp::sctp;

namespace {

struct Tsns {
  std::optional<std::uint32_t> first;
  std::uint32_t last = 0;
  void see(BytesView packet) {
    auto p = parse_packet(packet, ChecksumMode::kSkip);
    if (!p) return;
    for (const auto& c : p->chunks) {
      std::optional<std::uint32_t> tsn;
      if (auto d = DataChunk::parse(c)) tsn = d->tsn;
      if (auto d = IDataChunk::parse(c)) tsn = d->tsn;
      if (!tsn) continue;
      if (!first) first = *tsn;
      last = *tsn;
    }
  }
};

void add_be32(std::uint8_t* p, std::uint32_t v) {
  store_be32(p, load_be32(p) + v);
}

void run(const std::uint8_t* data, std::size_t size, bool interleaving) {
  SeededRandom rng(7);
  SctpConfig config;
  config.interleaving = interleaving;
  config.receive_window = 64 * 1024;
  config.max_message_size = 64 * 1024;
  config.max_send_buffer = 1024 * 1024;
  SctpAssociation a(config, rng);
  SctpAssociation b(config, rng);
  Timestamp now = Timestamp::seconds(1);
  std::uint32_t b_tag = 0;
  Tsns a_tsns;  // what b receives
  Tsns b_tsns;  // what b sends
  auto pump = [&](bool capture) {
    for (int round = 0; round < 50; ++round) {
      bool moved = false;
      while (auto p = a.poll_transmit()) {
        if (capture && p->size() >= 8) b_tag = load_be32(p->data() + 4);
        a_tsns.see(*p);
        b.handle_packet(*p, now);
        moved = true;
      }
      while (auto p = b.poll_transmit()) {
        b_tsns.see(*p);
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
  if (!b.partial_reliability() || !b.stream_reset_supported()) std::abort();
  if (b.interleaving() != interleaving) std::abort();
  (void)a.send(1, 51, as_bytes("seed traffic"));
  (void)b.send(1, 51, as_bytes("seed traffic back"));
  pump(true);
  // Left in flight at b: partially reliable messages (one fragmented) and a stream reset.
  const Buffer big(3000);
  (void)b.send(2, 53, big, {.max_retransmits = 0});
  (void)b.send(3, 53, big, {.unordered = true, .lifetime = Duration::millis(30)});
  (void)b.send(2, 53, as_bytes("after"), {.max_retransmits = 1});
  const std::uint16_t reset[] = {2, 4};
  (void)b.reset_streams(reset);
  while (auto p = b.poll_transmit()) b_tsns.see(*p);  // lost on the way
  const std::uint32_t a_first = a_tsns.first.value_or(0);
  const std::uint32_t b_first = b_tsns.first.value_or(0);

  ByteReader reader(BytesView(data, size));
  while (!reader.empty()) {
    auto type = reader.read_u8();
    auto flags = reader.read_u8();
    auto length = reader.read_u16();
    if (!length) break;
    auto value = reader.read_bytes(std::min<std::size_t>(*length % 2048, reader.remaining()));
    if (!value) break;
    std::vector<std::uint8_t> v(value->begin(), value->end());
    if ((*type == chunk_type::kData || *type == chunk_type::kForwardTsn ||
         *type == chunk_type::kIData || *type == chunk_type::kIForwardTsn) &&
        v.size() >= 4) {
      add_be32(v.data(), a_tsns.last);
    } else if (*type == chunk_type::kSack && v.size() >= 4) {
      add_be32(v.data(), b_first);
    } else if (*type == chunk_type::kReConfig && v.size() >= 8) {
      // First parameter: a reset request (sequence from a's, last TSN from a's TSNs) or a
      // response (to b's request sequence, which starts at b's initial TSN).
      const std::uint16_t param = load_be16(v.data());
      if (param == param_type::kOutgoingSsnResetRequest) {
        add_be32(v.data() + 4, a_first);
        if (v.size() >= 16) add_be32(v.data() + 12, a_tsns.last);
      } else if (param == param_type::kReconfigurationResponse) {
        add_be32(v.data() + 4, b_first);
      }
    }
    Buffer packet;
    PacketBuilder builder(packet, {5000, 5000, *type == chunk_type::kInit ? 0 : b_tag}, 4096);
    builder.add_chunk(*type, *flags, v);
    builder.finish();
    now += Duration::millis(*flags % 64);
    b.handle_packet(packet, now);
    b.handle_timeout(now);
    while (b.poll_transmit()) {
    }
    while (b.poll_event()) {
    }
    if (b.total_buffered() > config.max_send_buffer) std::abort();
    if (b.received_buffered() > config.receive_window + config.max_message_size) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run(data, size, true);
  run(data, size, false);
  return 0;
}
