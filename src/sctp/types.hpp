// Strong types for the SCTP numbers that are easily confused at an interface: stream ids,
// stream sequence numbers (DATA), message identifiers (I-DATA) and TSNs.
#pragma once

#include <compare>
#include <cstdint>

namespace rtcpp::sctp {

// A value that converts to and from its representation only explicitly. Equality only:
// SSNs and MIDs wrap (RFC 1982 order, base/serial.hpp), so `<` would mislead.
template <typename Tag, typename T>
class StrongValue {
 public:
  using Value = T;
  constexpr StrongValue() noexcept = default;
  constexpr explicit StrongValue(T value) noexcept : value_(value) {}
  constexpr T value() const noexcept { return value_; }
  friend constexpr bool operator==(StrongValue, StrongValue) noexcept = default;

 private:
  T value_{};
};

using StreamId = StrongValue<struct StreamIdTag, std::uint16_t>;
using Ssn = StrongValue<struct SsnTag, std::uint16_t>;  // RFC 9260 3.3.1
using Mid = StrongValue<struct MidTag, std::uint32_t>;  // RFC 8260 2.1

// A TSN unwrapped into 64 bits (the wire's 32 bits extended against a reference point), so
// that it orders plainly: the association keeps the space far from zero.
class Tsn {
 public:
  constexpr Tsn() noexcept = default;
  constexpr explicit Tsn(std::uint64_t value) noexcept : value_(value) {}
  constexpr std::uint64_t value() const noexcept { return value_; }
  constexpr std::uint32_t wire() const noexcept { return static_cast<std::uint32_t>(value_); }
  constexpr Tsn next() const noexcept { return Tsn(value_ + 1); }
  constexpr Tsn prev() const noexcept { return Tsn(value_ - 1); }
  friend constexpr auto operator<=>(Tsn, Tsn) noexcept = default;

 private:
  std::uint64_t value_ = 0;
};

}  // namespace rtcpp::sctp
