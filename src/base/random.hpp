// Random numbers behind one interface: cryptographic (OpenSSL) for production, seeded and
// deterministic for tests and the simulator.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "base/bytes.hpp"

namespace rtcpp {

class Random {
 public:
  virtual ~Random() = default;
  // Fills `out` with random bytes.
  virtual void fill(MutableBytesView out) = 0;
  virtual std::uint64_t next_u64() = 0;

  std::uint32_t next_u32() { return static_cast<std::uint32_t>(next_u64() >> 32); }
  // Uniform in [0, bound); bound must be > 0. Unbiased (rejection sampling).
  std::uint64_t uniform(std::uint64_t bound);
  // Uniform in [low, high], inclusive.
  std::int64_t uniform_range(std::int64_t low, std::int64_t high);
  // Uniform in [0, 1).
  double uniform_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // True with probability p.
  bool bernoulli(double p) { return uniform_double() < p; }
};

// `length` characters from [A-Za-z0-9]: a token every SDP grammar accepts (CNAMEs, msid ids).
std::string random_alphanumeric(Random& rng, std::size_t length);

// OpenSSL's RAND_bytes. Use for ICE credentials, SCTP verification tags and initial TSNs,
// DTLS, cookies: anything an attacker must not predict. Aborts if OpenSSL's generator fails
// (it cannot on a working system, and continuing with predictable values would be worse).
class CryptoRandom final : public Random {
 public:
  void fill(MutableBytesView out) override;
  std::uint64_t next_u64() override;
};

// xoshiro256** seeded through splitmix64: fast, and the same seed gives the same stream on
// every platform. Never for secrets.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed);
  void fill(MutableBytesView out) override;
  std::uint64_t next_u64() override;

 private:
  std::array<std::uint64_t, 4> state_{};
};

}  // namespace rtcpp
