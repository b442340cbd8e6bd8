// SCTP throughput: two associations in one process, packets handed straight across (no
// crypto, no loss, no delay), messages on ordered streams. Bytes/s is payload.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "allocation_counter.hpp"
#include "base/random.hpp"
#include "sctp/association.hpp"

namespace rtcpp::sctp {
namespace {

// Keeps 16 messages queued (spread over `streams` streams) and delivers what the window
// allows, advancing time 1 ms per iteration for delayed SACKs. With `reuse_buffers` packets
// are taken with poll_transmit(Buffer&) and delivered messages' buffers given back, as an
// allocation-free caller does; otherwise with the allocating poll_transmit().
void run_bulk(benchmark::State& state, std::size_t message_size, const SctpConfig& config,
              int streams, bool reuse_buffers = true) {
  SeededRandom rng(1);
  SctpAssociation a(config, rng);
  SctpAssociation b(config, rng);
  Timestamp now = Timestamp::seconds(1);
  Buffer packet;
  auto pump = [&] {
    bool moved = true;
    while (moved) {
      moved = false;
      if (reuse_buffers) {
        while (a.poll_transmit(packet)) {
          b.handle_packet(packet, now);
          moved = true;
        }
        while (b.poll_transmit(packet)) {
          a.handle_packet(packet, now);
          moved = true;
        }
        continue;
      }
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
  std::uint16_t next_stream = 0;
  const std::uint64_t packets_before = a.packets_sent() + b.packets_sent();
  const std::uint64_t allocations_before = bench::heap_allocations();
  for (auto _ : state) {
    while (a.total_buffered() < 16 * message_size) {
      if (!a.send(next_stream, 53, message)) break;
      next_stream = static_cast<std::uint16_t>((next_stream + 1) % streams);
    }
    pump();
    now += Duration::millis(1);
    a.handle_timeout(now);
    b.handle_timeout(now);
    pump();
    while (auto e = b.poll_event()) {
      if (auto* m = std::get_if<SctpMessage>(&*e)) {
        delivered += m->data.size();
        if (reuse_buffers) b.recycle_buffer(std::move(m->data));
      }
    }
  }
  const auto packets = static_cast<double>(a.packets_sent() + b.packets_sent() - packets_before);
  const auto allocations = static_cast<double>(bench::heap_allocations() - allocations_before);
  state.counters["allocs_per_packet"] = packets > 0 ? allocations / packets : 0;
  state.SetBytesProcessed(static_cast<std::int64_t>(delivered));
  state.counters["cwnd"] = static_cast<double>(a.cwnd());
}

// The defaults: I-DATA and zero checksums, one stream.
void BM_SctpBulkTransfer(benchmark::State& state) {
  run_bulk(state, static_cast<std::size_t>(state.range(0)), {}, 1);
}
BENCHMARK(BM_SctpBulkTransfer)->Arg(65536)->Arg(1024)->Unit(benchmark::kMicrosecond);

// The same through the allocating API: poll_transmit() returning a new buffer per packet,
// delivered buffers dropped.
void BM_SctpBulkTransferAllocatingApi(benchmark::State& state) {
  run_bulk(state, static_cast<std::size_t>(state.range(0)), {}, 1, false);
}
BENCHMARK(BM_SctpBulkTransferAllocatingApi)->Arg(65536)->Arg(1024)->Unit(benchmark::kMicrosecond);

// DATA or I-DATA (RFC 8260), CRC32c or zero checksums (RFC 9653), one stream or several
// (with I-DATA their messages interleave fragment by fragment).
void BM_SctpBulkTransferMode(benchmark::State& state) {
  SctpConfig config;
  config.interleaving = state.range(1) != 0;
  config.zero_checksum = state.range(2) != 0;
  run_bulk(state, static_cast<std::size_t>(state.range(0)), config,
           static_cast<int>(state.range(3)));
}
BENCHMARK(BM_SctpBulkTransferMode)
    ->ArgNames({"size", "idata", "zero_csum", "streams"})
    ->Args({65536, 0, 0, 1})
    ->Args({65536, 1, 0, 1})
    ->Args({65536, 1, 1, 1})
    ->Args({65536, 1, 1, 4})
    ->Args({1024, 0, 0, 1})
    ->Args({1024, 1, 0, 1})
    ->Args({1024, 1, 1, 1})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace rtcpp::sctp
