#include "base/random.hpp"

#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>

namespace rtcpp {

std::uint64_t Random::uniform(std::uint64_t bound) {
  if (bound <= 1) return 0;
  // Reject the top partial range so every residue is equally likely.
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                              (std::numeric_limits<std::uint64_t>::max() % bound);
  std::uint64_t x = next_u64();
  while (x >= limit) x = next_u64();
  return x % bound;
}

std::int64_t Random::uniform_range(std::int64_t low, std::int64_t high) {
  if (high <= low) return low;
  const auto span = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low) + 1;
  if (span == 0) return static_cast<std::int64_t>(next_u64());  // the full 64-bit range
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + uniform(span));
}

std::string random_alphanumeric(Random& rng, std::size_t length) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) out.push_back(kAlphabet[rng.uniform(kAlphabet.size())]);
  return out;
}

namespace {

void draw(std::uint8_t* out, std::size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    std::fputs("rtcpp: OpenSSL RAND_bytes failed; refusing to continue without randomness\n",
               stderr);
    std::abort();
  }
}

// Small draws (STUN transaction ids, timer jitter: several per connection every few seconds)
// come from a per-thread block of OpenSSL's output, refilled when used up: each RAND_bytes call
// costs a getpid() system call (OpenSSL's fork check). A fork empties every block, so a child
// never repeats its parent's bytes.
std::atomic<std::uint64_t> fork_generation{0};

struct RandomBlock {
  static constexpr std::size_t kSize = 256;
  std::array<std::uint8_t, kSize> bytes{};
  std::size_t used = kSize;
  std::uint64_t generation = 0;
};

void take_from_block(std::uint8_t* out, std::size_t size) {
  static const int registered = pthread_atfork(nullptr, nullptr, [] { ++fork_generation; });
  (void)registered;
  thread_local RandomBlock block;
  const std::uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (block.generation != generation) {
    block.generation = generation;
    block.used = RandomBlock::kSize;
  }
  while (size > 0) {
    if (block.used == RandomBlock::kSize) {
      draw(block.bytes.data(), RandomBlock::kSize);
      block.used = 0;
    }
    const std::size_t n = std::min(size, RandomBlock::kSize - block.used);
    std::memcpy(out, block.bytes.data() + block.used, n);
    // Bytes handed out are not kept.
    std::memset(block.bytes.data() + block.used, 0, n);
    block.used += n;
    out += n;
    size -= n;
  }
}

}  // namespace

void CryptoRandom::fill(MutableBytesView out) {
  if (out.empty()) return;
  if (out.size() <= 64) {
    take_from_block(out.data(), out.size());
  } else {
    draw(out.data(), out.size());
  }
}

std::uint64_t CryptoRandom::next_u64() {
  std::uint8_t bytes[8];
  fill(bytes);
  std::uint64_t v;
  std::memcpy(&v, bytes, sizeof v);
  return v;
}

namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

SeededRandom::SeededRandom(std::uint64_t seed) {
  for (auto& word : state_) word = splitmix64(seed);
}

std::uint64_t SeededRandom::next_u64() {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

void SeededRandom::fill(MutableBytesView out) {
  std::size_t i = 0;
  while (i < out.size()) {
    // Little-endian byte order explicitly, so the stream is the same on every platform.
    std::uint64_t v = next_u64();
    for (int b = 0; b < 8 && i < out.size(); ++b, ++i) {
      out[i] = static_cast<std::uint8_t>(v);
      v >>= 8;
    }
  }
}

}  // namespace rtcpp
