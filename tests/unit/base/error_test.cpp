#include "rtcpp/error.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace rtcpp {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return range_error("must be positive");
  return v;
}

Result<> check_state(bool open) {
  if (!open) return invalid_state_error("channel is not open");
  return {};
}

TEST(RTCError, NamesFollowWebIdl) {
  EXPECT_EQ(to_string(RTCErrorType::kInvalidStateError), "InvalidStateError");
  EXPECT_EQ(to_string(RTCErrorType::kInvalidAccessError), "InvalidAccessError");
  EXPECT_EQ(to_string(RTCErrorType::kInvalidModificationError), "InvalidModificationError");
  EXPECT_EQ(to_string(RTCErrorType::kOperationError), "OperationError");
  EXPECT_EQ(to_string(RTCErrorType::kSyntaxError), "SyntaxError");
  EXPECT_EQ(to_string(RTCErrorType::kTypeError), "TypeError");
  EXPECT_EQ(to_string(RTCErrorType::kRangeError), "RangeError");
  EXPECT_EQ(to_string(RTCErrorType::kNotSupportedError), "NotSupportedError");
  EXPECT_EQ(to_string(RTCErrorType::kDataError), "DataError");
}

TEST(RTCError, DetailsFollowW3cEnum) {
  EXPECT_EQ(to_string(RTCErrorDetailType::kDtlsFailure), "dtls-failure");
  EXPECT_EQ(to_string(RTCErrorDetailType::kFingerprintFailure), "fingerprint-failure");
  EXPECT_EQ(to_string(RTCErrorDetailType::kSctpFailure), "sctp-failure");
  EXPECT_EQ(to_string(RTCErrorDetailType::kSdpSyntaxError), "sdp-syntax-error");
  EXPECT_EQ(to_string(RTCErrorDetailType::kDataChannelFailure), "data-channel-failure");
  EXPECT_EQ(to_string(RTCErrorDetailType::kNone), "");
}

TEST(RTCError, CarriesDetailAndOptionalFields) {
  RTCError e = operation_error("bad line").with_detail(RTCErrorDetailType::kSdpSyntaxError);
  e.sdp_line_number = 7;
  EXPECT_EQ(e.type(), RTCErrorType::kOperationError);
  EXPECT_EQ(e.error_detail(), RTCErrorDetailType::kSdpSyntaxError);
  EXPECT_EQ(*e.sdp_line_number, 7);
  EXPECT_FALSE(e.sctp_cause_code.has_value());
  EXPECT_EQ(e.to_string(), "OperationError (sdp-syntax-error): bad line");
}

TEST(Result, HoldsValueOrError) {
  auto ok = parse_positive(5);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 5);
  EXPECT_EQ(ok.value_or(0), 5);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().type(), RTCErrorType::kRangeError);
  EXPECT_EQ(bad.error().message(), "must be positive");
  EXPECT_EQ(bad.value_or(42), 42);
}

TEST(Result, VoidForm) {
  EXPECT_TRUE(check_state(true));
  auto r = check_state(false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().name(), "InvalidStateError");
}

TEST(Result, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  ASSERT_TRUE(r);
  auto p = std::move(r).value();
  EXPECT_EQ(*p, 3);
  Result<std::unique_ptr<int>> e = Unexpected(type_error("nope"));
  EXPECT_FALSE(e);
  EXPECT_EQ(e.error().type(), RTCErrorType::kTypeError);
}

TEST(Result, StringValueIsNotConfusedWithError) {
  Result<std::string> r = std::string("text");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 4u);
}

}  // namespace
}  // namespace rtcpp
