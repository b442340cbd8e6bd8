// Base-layer benchmarks: the primitives every packet goes through.
#include <benchmark/benchmark.h>

#include <vector>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"
#include "base/crc32c.hpp"
#include "base/random.hpp"

namespace rtcpp {
namespace {

std::vector<std::uint8_t> random_bytes(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  SeededRandom(1).fill(v);
  return v;
}

void BM_Crc32cHardware(benchmark::State& state) {
  const auto data = random_bytes(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crc32c_extend_hardware(0, data));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Crc32cHardware)->Arg(64)->Arg(1200)->Arg(65536);

void BM_Crc32cTable(benchmark::State& state) {
  const auto data = random_bytes(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crc32c_extend_table(0, data));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Crc32cTable)->Arg(64)->Arg(1200)->Arg(65536);

// A chunk-header walk like SCTP's: type, flags, length, then skip the padded value.
void BM_ByteReaderTlvWalk(benchmark::State& state) {
  Buffer packet;
  ByteWriter w(packet);
  for (int i = 0; i < 64; ++i) {
    w.write_u8(0);
    w.write_u8(3);
    w.write_u16(20);
    w.write_zeros(16);
  }
  for (auto _ : state) {
    ByteReader r(packet);
    std::uint32_t sum = 0;
    while (!r.empty()) {
      sum += *r.read_u8();
      r.skip(1).has_value();
      const auto length = *r.read_u16();
      if (!r.skip(length - 4u)) break;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(packet.size()));
}
BENCHMARK(BM_ByteReaderTlvWalk);

void BM_ByteWriterFixed(benchmark::State& state) {
  std::uint8_t out[1200];
  for (auto _ : state) {
    ByteWriter w(out);
    for (int i = 0; i < 100; ++i) {
      w.write_u32(static_cast<std::uint32_t>(i));
      w.write_u16(7);
      w.write_u48(9);
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * 1200);
}
BENCHMARK(BM_ByteWriterFixed);

void BM_SeededRandom(benchmark::State& state) {
  SeededRandom r(3);
  for (auto _ : state) benchmark::DoNotOptimize(r.next_u64());
}
BENCHMARK(BM_SeededRandom);

}  // namespace
}  // namespace rtcpp
