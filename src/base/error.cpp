#include "rtcpp/error.hpp"

namespace rtcpp {

std::string_view to_string(RTCErrorType type) noexcept {
  switch (type) {
    case RTCErrorType::kInvalidStateError:
      return "InvalidStateError";
    case RTCErrorType::kInvalidAccessError:
      return "InvalidAccessError";
    case RTCErrorType::kInvalidModificationError:
      return "InvalidModificationError";
    case RTCErrorType::kInvalidCharacterError:
      return "InvalidCharacterError";
    case RTCErrorType::kOperationError:
      return "OperationError";
    case RTCErrorType::kSyntaxError:
      return "SyntaxError";
    case RTCErrorType::kTypeError:
      return "TypeError";
    case RTCErrorType::kRangeError:
      return "RangeError";
    case RTCErrorType::kNotSupportedError:
      return "NotSupportedError";
    case RTCErrorType::kNotFoundError:
      return "NotFoundError";
    case RTCErrorType::kNotReadableError:
      return "NotReadableError";
    case RTCErrorType::kDataError:
      return "DataError";
    case RTCErrorType::kNetworkError:
      return "NetworkError";
    case RTCErrorType::kAbortError:
      return "AbortError";
    case RTCErrorType::kOverconstrainedError:
      return "OverconstrainedError";
  }
  return "UnknownError";
}

std::string_view to_string(RTCErrorDetailType detail) noexcept {
  switch (detail) {
    case RTCErrorDetailType::kNone:
      return "";
    case RTCErrorDetailType::kDataChannelFailure:
      return "data-channel-failure";
    case RTCErrorDetailType::kDtlsFailure:
      return "dtls-failure";
    case RTCErrorDetailType::kFingerprintFailure:
      return "fingerprint-failure";
    case RTCErrorDetailType::kSctpFailure:
      return "sctp-failure";
    case RTCErrorDetailType::kSdpSyntaxError:
      return "sdp-syntax-error";
    case RTCErrorDetailType::kHardwareEncoderNotAvailable:
      return "hardware-encoder-not-available";
    case RTCErrorDetailType::kHardwareEncoderError:
      return "hardware-encoder-error";
  }
  return "";
}

std::string RTCError::to_string() const {
  std::string out(name());
  if (detail_ != RTCErrorDetailType::kNone) {
    out += " (";
    out += rtcpp::to_string(detail_);
    out += ")";
  }
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace rtcpp
