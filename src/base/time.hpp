// Timestamp and Duration: microsecond time values.
//
// Protocol code never reads a clock: the caller passes `now` in. The runtime reads the
// monotonic clock; the simulator supplies virtual time. Both are plain int64 microseconds.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace rtcpp {

class Duration {
 public:
  constexpr Duration() noexcept = default;
  static constexpr Duration micros(std::int64_t us) noexcept { return Duration(us); }
  static constexpr Duration millis(std::int64_t ms) noexcept { return Duration(ms * 1000); }
  static constexpr Duration seconds(std::int64_t s) noexcept { return Duration(s * 1000000); }
  static constexpr Duration seconds_f(double s) noexcept {
    return Duration(static_cast<std::int64_t>(s * 1e6));
  }
  static constexpr Duration zero() noexcept { return Duration(0); }
  static constexpr Duration infinite() noexcept {
    return Duration(std::numeric_limits<std::int64_t>::max());
  }

  constexpr std::int64_t us() const noexcept { return us_; }
  constexpr std::int64_t ms() const noexcept { return us_ / 1000; }
  constexpr double seconds_f() const noexcept { return static_cast<double>(us_) / 1e6; }
  constexpr double ms_f() const noexcept { return static_cast<double>(us_) / 1e3; }
  constexpr bool is_infinite() const noexcept { return *this == infinite(); }

  constexpr auto operator<=>(const Duration&) const noexcept = default;
  constexpr Duration operator+(Duration o) const noexcept { return Duration(us_ + o.us_); }
  constexpr Duration operator-(Duration o) const noexcept { return Duration(us_ - o.us_); }
  constexpr Duration operator-() const noexcept { return Duration(-us_); }
  constexpr Duration operator*(std::int64_t k) const noexcept { return Duration(us_ * k); }
  constexpr Duration operator/(std::int64_t k) const noexcept { return Duration(us_ / k); }
  constexpr Duration& operator+=(Duration o) noexcept { return us_ += o.us_, *this; }
  constexpr Duration& operator-=(Duration o) noexcept { return us_ -= o.us_, *this; }

  // "1.5ms", "2s", "250us", for logs.
  std::string to_string() const;

 private:
  constexpr explicit Duration(std::int64_t us) noexcept : us_(us) {}
  std::int64_t us_ = 0;
};

// A point on a monotonic timeline, in microseconds since an arbitrary origin.
class Timestamp {
 public:
  constexpr Timestamp() noexcept = default;
  static constexpr Timestamp micros(std::int64_t us) noexcept { return Timestamp(us); }
  static constexpr Timestamp millis(std::int64_t ms) noexcept { return Timestamp(ms * 1000); }
  static constexpr Timestamp seconds(std::int64_t s) noexcept { return Timestamp(s * 1000000); }
  static constexpr Timestamp zero() noexcept { return Timestamp(0); }
  // Later than every real time: "no deadline".
  static constexpr Timestamp infinite() noexcept {
    return Timestamp(std::numeric_limits<std::int64_t>::max());
  }

  constexpr std::int64_t us() const noexcept { return us_; }
  constexpr std::int64_t ms() const noexcept { return us_ / 1000; }
  constexpr bool is_infinite() const noexcept { return *this == infinite(); }

  constexpr auto operator<=>(const Timestamp&) const noexcept = default;
  constexpr Timestamp operator+(Duration d) const noexcept {
    return is_infinite() || d.is_infinite() ? infinite() : Timestamp(us_ + d.us());
  }
  constexpr Timestamp operator-(Duration d) const noexcept { return Timestamp(us_ - d.us()); }
  constexpr Duration operator-(Timestamp o) const noexcept { return Duration::micros(us_ - o.us_); }
  constexpr Timestamp& operator+=(Duration d) noexcept { return *this = *this + d; }

 private:
  constexpr explicit Timestamp(std::int64_t us) noexcept : us_(us) {}
  std::int64_t us_ = 0;
};

}  // namespace rtcpp
