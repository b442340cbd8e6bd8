// RFC 1982 serial number arithmetic for wrapping counters (RTP sequence numbers, SCTP TSNs
// and stream sequence numbers, DTLS epochs).
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>

namespace rtcpp {

// RFC 1982 section 3.2: i1 < i2 when they differ and the forward distance from i1 to i2 is
// less than half the number space. The comparison is undefined by the RFC when the distance
// is exactly half; like most stacks we then call the numerically larger one greater, so
// that the relation stays antisymmetric.
template <std::unsigned_integral T>
constexpr bool serial_less(T a, T b) noexcept {
  constexpr T half = T(T(1) << (std::numeric_limits<T>::digits - 1));
  const T forward = static_cast<T>(b - a);
  if (forward == half) return a < b;
  return a != b && forward < half;
}

template <std::unsigned_integral T>
constexpr bool serial_less_equal(T a, T b) noexcept {
  return a == b || serial_less(a, b);
}

template <std::unsigned_integral T>
constexpr bool serial_greater(T a, T b) noexcept {
  return serial_less(b, a);
}

// The signed distance from a to b (positive when b is "after" a).
template <std::unsigned_integral T>
constexpr std::int64_t serial_distance(T a, T b) noexcept {
  using Signed = std::make_signed_t<T>;
  return static_cast<Signed>(static_cast<T>(b - a));
}

// A wrapping counter value with serial-number ordering, so `tsn < cum_ack` reads as the
// RFC means it.
template <std::unsigned_integral T>
class SerialNumber {
 public:
  constexpr SerialNumber() noexcept = default;
  constexpr explicit SerialNumber(T value) noexcept : value_(value) {}
  constexpr T value() const noexcept { return value_; }

  friend constexpr bool operator==(SerialNumber a, SerialNumber b) noexcept {
    return a.value_ == b.value_;
  }
  friend constexpr bool operator<(SerialNumber a, SerialNumber b) noexcept {
    return serial_less(a.value_, b.value_);
  }
  friend constexpr bool operator>(SerialNumber a, SerialNumber b) noexcept { return b < a; }
  friend constexpr bool operator<=(SerialNumber a, SerialNumber b) noexcept { return !(b < a); }
  friend constexpr bool operator>=(SerialNumber a, SerialNumber b) noexcept { return !(a < b); }

  constexpr SerialNumber operator+(T n) const noexcept { return SerialNumber(T(value_ + n)); }
  constexpr SerialNumber operator-(T n) const noexcept { return SerialNumber(T(value_ - n)); }
  constexpr SerialNumber& operator++() noexcept { return ++value_, *this; }
  constexpr SerialNumber next() const noexcept { return SerialNumber(T(value_ + 1)); }

 private:
  T value_ = 0;
};

using SerialNumber16 = SerialNumber<std::uint16_t>;
using SerialNumber32 = SerialNumber<std::uint32_t>;

// Extends a wrapping counter to 64 bits: each value is placed at the unwrapped position
// nearest to the previous one, so reordering across a wrap unwraps correctly (the idea
// behind RTP's extended sequence numbers, RFC 3550 appendix A.1).
template <std::unsigned_integral T>
class SerialUnwrapper {
 public:
  constexpr std::int64_t unwrap(T value) noexcept {
    if (!started_) {
      started_ = true;
      last_ = static_cast<std::int64_t>(value);
      return last_;
    }
    const T last_wrapped = static_cast<T>(last_);
    last_ += serial_distance(last_wrapped, value);
    return last_;
  }
  constexpr void reset() noexcept { started_ = false; }

 private:
  bool started_ = false;
  std::int64_t last_ = 0;
};

}  // namespace rtcpp
