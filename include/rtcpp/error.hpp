// rtcpp/error.hpp: RTCError and Result<T>, the error values every rtcpp call returns.
//
// Errors are values, never exceptions escaping the library. Their kinds are the DOMException
// names that the W3C WebRTC specification throws or rejects with, plus RTCError's
// `errorDetail`, so that code written against the browser API maps one to one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace rtcpp {

// The DOMException / WebIDL error names the WebRTC specifications use.
enum class RTCErrorType : std::uint8_t {
  kInvalidStateError,
  kInvalidAccessError,
  kInvalidModificationError,
  kInvalidCharacterError,
  kOperationError,
  kSyntaxError,
  kTypeError,
  kRangeError,
  kNotSupportedError,
  kNotFoundError,
  kNotReadableError,
  kDataError,
  kNetworkError,
  kAbortError,
  kOverconstrainedError,
};

// RTCErrorDetailType (W3C WebRTC 1.0, section 11.2.1); kNone when the error is not an
// RTCError but a plain DOMException.
enum class RTCErrorDetailType : std::uint8_t {
  kNone,
  kDataChannelFailure,
  kDtlsFailure,
  kFingerprintFailure,
  kSctpFailure,
  kSdpSyntaxError,
  kHardwareEncoderNotAvailable,
  kHardwareEncoderError,
};

// The WebIDL name of an error type, such as "InvalidStateError".
std::string_view to_string(RTCErrorType type) noexcept;
// The W3C enum string of an error detail, such as "dtls-failure"; "" for kNone.
std::string_view to_string(RTCErrorDetailType detail) noexcept;

// An error: its kind, a human-readable message, and the optional RTCError fields.
class RTCError {
 public:
  RTCError(RTCErrorType type, std::string message) : type_(type), message_(std::move(message)) {}

  RTCErrorType type() const noexcept { return type_; }
  // The DOMException name, e.g. "OperationError".
  std::string_view name() const noexcept { return rtcpp::to_string(type_); }
  const std::string& message() const noexcept { return message_; }

  RTCErrorDetailType error_detail() const noexcept { return detail_; }
  RTCError& with_detail(RTCErrorDetailType detail) & noexcept {
    detail_ = detail;
    return *this;
  }
  RTCError&& with_detail(RTCErrorDetailType detail) && noexcept {
    detail_ = detail;
    return std::move(*this);
  }

  // RTCError attributes, present only for the detail types that define them.
  std::optional<std::int32_t> sdp_line_number;
  std::optional<std::int32_t> sctp_cause_code;
  std::optional<std::uint32_t> received_alert;
  std::optional<std::uint32_t> sent_alert;
  std::optional<std::int32_t> http_request_status_code;

  // "Name: message" (and the detail when present), for logs.
  std::string to_string() const;

 private:
  RTCErrorType type_;
  RTCErrorDetailType detail_ = RTCErrorDetailType::kNone;
  std::string message_;
};

// Convenience constructors for the common kinds.
inline RTCError invalid_state_error(std::string msg) {
  return {RTCErrorType::kInvalidStateError, std::move(msg)};
}
inline RTCError invalid_access_error(std::string msg) {
  return {RTCErrorType::kInvalidAccessError, std::move(msg)};
}
inline RTCError invalid_modification_error(std::string msg) {
  return {RTCErrorType::kInvalidModificationError, std::move(msg)};
}
inline RTCError operation_error(std::string msg) {
  return {RTCErrorType::kOperationError, std::move(msg)};
}
inline RTCError syntax_error(std::string msg) {
  return {RTCErrorType::kSyntaxError, std::move(msg)};
}
inline RTCError type_error(std::string msg) {
  return {RTCErrorType::kTypeError, std::move(msg)};
}
inline RTCError range_error(std::string msg) {
  return {RTCErrorType::kRangeError, std::move(msg)};
}
inline RTCError not_supported_error(std::string msg) {
  return {RTCErrorType::kNotSupportedError, std::move(msg)};
}
inline RTCError not_found_error(std::string msg) {
  return {RTCErrorType::kNotFoundError, std::move(msg)};
}
inline RTCError data_error(std::string msg) {
  return {RTCErrorType::kDataError, std::move(msg)};
}

// Expected<T, E>: a value or an error. C++20 has no std::expected, so this is the small
// subset rtcpp needs. Accessing the wrong alternative is a programming error and aborts
// through std::get's checks; code checks has_value() (or operator bool) first.
template <typename E>
class Unexpected {
 public:
  explicit Unexpected(E error) : error_(std::move(error)) {}
  E& error() & noexcept { return error_; }
  E&& error() && noexcept { return std::move(error_); }

 private:
  E error_;
};

template <typename E>
Unexpected(E) -> Unexpected<E>;

template <typename T, typename E>
class [[nodiscard]] Expected {
 public:
  using value_type = T;
  using error_type = E;

  template <typename U = T,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, Expected> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, E>>>
  Expected(U&& value) : storage_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  Expected(const E& error) : storage_(std::in_place_index<1>, error) {}              // NOLINT
  Expected(E&& error) : storage_(std::in_place_index<1>, std::move(error)) {}        // NOLINT
  template <typename G>
  Expected(Unexpected<G> error)  // NOLINT
      : storage_(std::in_place_index<1>, std::move(error).error()) {}

  bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(storage_); }
  const T& value() const& { return std::get<0>(storage_); }
  T&& value() && { return std::get<0>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

  E& error() & { return std::get<1>(storage_); }
  const E& error() const& { return std::get<1>(storage_); }
  E&& error() && { return std::get<1>(std::move(storage_)); }

 private:
  std::variant<T, E> storage_;
};

// Expected<void, E>: success or an error.
template <typename E>
class [[nodiscard]] Expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Expected() = default;
  Expected(const E& error) : error_(error) {}        // NOLINT
  Expected(E&& error) : error_(std::move(error)) {}  // NOLINT
  template <typename G>
  Expected(Unexpected<G> error) : error_(std::move(error).error()) {}  // NOLINT

  bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  E& error() & { return *error_; }
  const E& error() const& { return *error_; }
  E&& error() && { return std::move(*error_); }

 private:
  std::optional<E> error_;
};

// Result<T>: what every fallible rtcpp API returns.
template <typename T = void>
using Result = Expected<T, RTCError>;

}  // namespace rtcpp
