// SCTP throughput: two associations in one process, packets handed straight across (no
// crypto, no loss, no delay), 64 KiB messages on one ordered stream. Bytes/s is payload.
#include <benchmark/benchmark.h>

#include "base/random.hpp"
#include "sctp/association.hpp"

namespace rtcpp::sctp {
namespace {

void BM_SctpBulkTransfer(benchmark::State& state) {
  const std::size_t message_size = static_cast<std::size_t>(state.range(0));
  SeededRandom rng(1);
  SctpAssociation a({}, rng);
  SctpAssociation b({}, rng);
  Timestamp now = Timestamp::seconds(1);
  auto pump = [&] {
    bool moved = true;
    while (moved) {
      moved = false;
      while (auto p = a.poll_transmit()) {
        b.handle_packet(*p, now);
        moved = true;
      }
      while (auto p = b.poll_transmit()) {
        a.handle_packet(*p, now);
        moved = true;
      }
    }
  };
  a.connect(now);
  b.connect(now);
  pump();
  while (b.poll_event()) {
  }
  const Buffer message(message_size);
  std::size_t delivered = 0;
  for (auto _ : state) {
    // Keep 16 messages queued; deliver what the window allows; advance time for delayed SACKs.
    while (a.total_buffered() < 16 * message_size) {
      if (!a.send(0, 53, message)) break;
    }
    pump();
    now += Duration::millis(1);
    a.handle_timeout(now);
    b.handle_timeout(now);
    pump();
    while (auto e = b.poll_event()) {
      if (auto* m = std::get_if<SctpMessage>(&*e)) delivered += m->data.size();
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(delivered));
  state.counters["cwnd"] = static_cast<double>(a.cwnd());
}
BENCHMARK(BM_SctpBulkTransfer)->Arg(65536)->Arg(1024)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace rtcpp::sctp
