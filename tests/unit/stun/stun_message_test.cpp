#include "stun/stun_message.hpp"

#include <gtest/gtest.h>

#include "base/byte_reader.hpp"
#include "base/hex.hpp"
#include "stun/stun_auth.hpp"

namespace rtcpp::stun {
namespace {

// RFC 5769 test vectors, byte for byte.
const std::uint8_t kSampleRequest[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

const std::uint8_t kSampleIpv4Response[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

const std::uint8_t kSampleIpv6Response[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};

const std::uint8_t kSampleLongTermRequest[] = {
    0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
    0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88,
    0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00,
    0x15, 0x00, 0x1c, 0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
    0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73,
    0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72,
    0x67, 0x00, 0x00, 0x08, 0x00, 0x14, 0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02,
    0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66};

constexpr std::string_view kShortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt";
constexpr TransactionId kVectorId = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                     0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

Buffer key(std::string_view password) {
  return *short_term_key(password);
}

TEST(StunVectors, SampleRequestParsesAndVerifies) {
  auto msg = StunMessage::parse(kSampleRequest);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->message_class(), StunClass::kRequest);
  EXPECT_EQ(msg->method(), method::kBinding);
  EXPECT_EQ(msg->transaction_id(), kVectorId);
  EXPECT_EQ(msg->software(), "STUN test client");
  EXPECT_EQ(msg->username(), "evtj:h6vY");
  EXPECT_EQ(msg->priority(), 0x6e0001ffu);
  EXPECT_EQ(msg->ice_controlled(), 0x932ff9b151263b36ull);
  EXPECT_FALSE(msg->ice_controlling());
  EXPECT_TRUE(msg->fingerprint_valid());
  EXPECT_EQ(msg->check_integrity(key(kShortTermPassword)), IntegrityCheck::kValid);
  EXPECT_EQ(msg->check_integrity(key("wrong")), IntegrityCheck::kInvalid);
}

TEST(StunVectors, SampleRequestRebuiltByteForByte) {
  auto built = StunMessageBuilder(StunClass::kRequest, method::kBinding, kVectorId)
                   .set_padding_byte(0x20)
                   .add_string(attr::kSoftware, "STUN test client")
                   .add_u32(attr::kPriority, 0x6e0001ff)
                   .add_u64(attr::kIceControlled, 0x932ff9b151263b36ull)
                   .add_string(attr::kUsername, "evtj:h6vY")
                   .add_message_integrity(key(kShortTermPassword))
                   .add_fingerprint();
  EXPECT_EQ(to_hex(built.bytes()), to_hex(kSampleRequest));
}

TEST(StunVectors, SampleIpv4Response) {
  auto msg = StunMessage::parse(kSampleIpv4Response);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->message_class(), StunClass::kSuccessResponse);
  EXPECT_EQ(msg->software(), "test vector");
  auto mapped = msg->xor_mapped_address();
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->to_string(), "192.0.2.1:32853");
  EXPECT_TRUE(msg->fingerprint_valid());
  EXPECT_EQ(msg->check_integrity(key(kShortTermPassword)), IntegrityCheck::kValid);

  auto built = StunMessageBuilder(StunClass::kSuccessResponse, method::kBinding, kVectorId)
                   .set_padding_byte(0x20)
                   .add_string(attr::kSoftware, "test vector")
                   .add_xor_address(attr::kXorMappedAddress, *mapped)
                   .add_message_integrity(key(kShortTermPassword))
                   .add_fingerprint();
  EXPECT_EQ(to_hex(built.bytes()), to_hex(kSampleIpv4Response));
}

TEST(StunVectors, SampleIpv6Response) {
  auto msg = StunMessage::parse(kSampleIpv6Response);
  ASSERT_TRUE(msg);
  auto mapped = msg->xor_mapped_address();
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->to_string(), "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
  EXPECT_TRUE(msg->fingerprint_valid());
  EXPECT_EQ(msg->check_integrity(key(kShortTermPassword)), IntegrityCheck::kValid);

  auto built = StunMessageBuilder(StunClass::kSuccessResponse, method::kBinding, kVectorId)
                   .set_padding_byte(0x20)
                   .add_string(attr::kSoftware, "test vector")
                   .add_xor_address(attr::kXorMappedAddress, *mapped)
                   .add_message_integrity(key(kShortTermPassword))
                   .add_fingerprint();
  EXPECT_EQ(to_hex(built.bytes()), to_hex(kSampleIpv6Response));
}

TEST(StunVectors, SampleLongTermRequest) {
  auto msg = StunMessage::parse(kSampleLongTermRequest);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->username(),
            "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9");
  EXPECT_EQ(msg->nonce(), "f//499k954d6OL34oL9FSTvy64sA");
  EXPECT_EQ(msg->realm(), "example.org");
  EXPECT_FALSE(msg->has_fingerprint());
  // RFC 5769 2.4: the password "The<U+00AD>M<U+00AA>tr<U+2168>" is "TheMatrIX" after SASLprep.
  auto k = long_term_key_md5(*msg->username(), *msg->realm(), "TheMatrIX");
  ASSERT_TRUE(k);
  EXPECT_EQ(msg->check_integrity(*k), IntegrityCheck::kValid);
  auto wrong = long_term_key_md5(*msg->username(), *msg->realm(), "TheMatrix");
  EXPECT_EQ(msg->check_integrity(*wrong), IntegrityCheck::kInvalid);
}

TEST(StunMessage, Sha256IntegrityRoundTripAndTruncation) {
  SeededRandom rng(3);
  const auto id = random_transaction_id(rng);
  const Buffer k = *long_term_key_sha256("user", "realm", "pass");
  auto bytes = StunMessageBuilder(StunClass::kRequest, method::kAllocate, id)
                   .add_string(attr::kUsername, "user")
                   .add_message_integrity(k)
                   .add_message_integrity_sha256(k)
                   .add_fingerprint()
                   .finish();
  Buffer copy = bytes;
  auto msg = StunMessage::parse(copy);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->check_integrity(k), IntegrityCheck::kValid);
  EXPECT_TRUE(msg->fingerprint_valid());
  // Flip one bit of the username: both integrity and fingerprint must fail.
  copy[24] ^= 0x01;
  auto tampered = StunMessage::parse(copy);
  ASSERT_TRUE(tampered);
  EXPECT_EQ(tampered->check_integrity(k), IntegrityCheck::kInvalid);
  EXPECT_FALSE(tampered->fingerprint_valid());
}

TEST(StunMessage, AttributesAfterIntegrityAreIgnored) {
  SeededRandom rng(3);
  const auto id = random_transaction_id(rng);
  const Buffer k = Buffer::from_string("secret");
  auto bytes = StunMessageBuilder(StunClass::kRequest, method::kBinding, id)
                   .add_message_integrity(k)
                   .add_string(attr::kUsername, "injected")
                   .add_fingerprint()
                   .finish();
  Buffer copy = bytes;
  auto msg = StunMessage::parse(copy);
  ASSERT_TRUE(msg);
  EXPECT_FALSE(msg->username());
  EXPECT_TRUE(msg->has_fingerprint());
}

TEST(StunMessage, ErrorCodeAndUnknownAttributes) {
  SeededRandom rng(3);
  const auto id = random_transaction_id(rng);
  auto request_bytes = StunMessageBuilder(StunClass::kRequest, method::kBinding, id)
                           .add_u32(0x7F00, 1)  // comprehension-required, unknown
                           .add_u32(0xC001, 2)  // comprehension-optional
                           .add_u32(attr::kPriority, 3)
                           .finish();
  Buffer request_copy = request_bytes;
  auto request = StunMessage::parse(request_copy);
  ASSERT_TRUE(request);
  const std::uint16_t known[] = {attr::kPriority};
  const auto unknown = request->unknown_comprehension_required(known);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0], 0x7F00);
  const Buffer response_bytes = build_unknown_attribute_response(*request, unknown);
  auto response = StunMessage::parse(response_bytes);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->message_class(), StunClass::kErrorResponse);
  EXPECT_EQ(response->transaction_id(), id);
  auto error = response->error_code();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, 420);
  EXPECT_EQ(error->reason, "Unknown Attribute");
  EXPECT_EQ(response->unknown_attributes(), std::vector<std::uint16_t>{0x7F00});
  EXPECT_TRUE(response->fingerprint_valid());
}

TEST(StunMessage, MessageTypeEncoding) {
  EXPECT_EQ(message_type(StunClass::kRequest, method::kBinding), 0x0001);
  EXPECT_EQ(message_type(StunClass::kSuccessResponse, method::kBinding), 0x0101);
  EXPECT_EQ(message_type(StunClass::kErrorResponse, method::kBinding), 0x0111);
  EXPECT_EQ(message_type(StunClass::kIndication, method::kSend), 0x0016);
  EXPECT_EQ(message_type(StunClass::kErrorResponse, method::kAllocate), 0x0113);
  for (std::uint16_t m = 0; m < 0x1000; m += 0x31) {
    for (int c = 0; c < 4; ++c) {
      Buffer b = StunMessageBuilder(static_cast<StunClass>(c), m, TransactionId{}).finish();
      auto msg = StunMessage::parse(b);
      ASSERT_TRUE(msg);
      EXPECT_EQ(msg->method(), m);
      EXPECT_EQ(msg->message_class(), static_cast<StunClass>(c));
    }
  }
}

TEST(StunMessage, RejectsMalformed) {
  Buffer good(kSampleIpv4Response);
  EXPECT_EQ(StunMessage::parse(BytesView(good).first(19)).error(), StunParseError::kTooShort);
  Buffer bad_cookie = good;
  bad_cookie[5] ^= 0xFF;
  EXPECT_EQ(StunMessage::parse(bad_cookie).error(), StunParseError::kNotStun);
  Buffer top_bits = good;
  top_bits[0] |= 0x80;
  EXPECT_EQ(StunMessage::parse(top_bits).error(), StunParseError::kNotStun);
  Buffer odd_length = good;
  odd_length[3] = 0x3d;
  EXPECT_EQ(StunMessage::parse(odd_length).error(), StunParseError::kBadLength);
  EXPECT_EQ(StunMessage::parse(BytesView(good).first(good.size() - 4)).error(),
            StunParseError::kBadLength);
  Buffer long_attr = good;
  long_attr[23] = 0xFF;  // SOFTWARE length runs past the end
  EXPECT_EQ(StunMessage::parse(long_attr).error(), StunParseError::kTruncatedAttribute);
  // Something after FINGERPRINT.
  Buffer after_fp(good);
  after_fp.append(std::vector<std::uint8_t>{0x80, 0x22, 0x00, 0x00});
  store_be16(after_fp.data() + 2, static_cast<std::uint16_t>(after_fp.size() - kHeaderSize));
  EXPECT_EQ(StunMessage::parse(after_fp).error(), StunParseError::kAttributeAfterFingerprint);
}

TEST(StunMessage, RejectsTooManyAttributes) {
  StunMessageBuilder builder(StunClass::kIndication, method::kBinding, TransactionId{});
  for (std::size_t i = 0; i <= kMaxAttributes; ++i) builder.add_flag(0x8050);
  Buffer bytes = builder.finish();
  EXPECT_EQ(StunMessage::parse(bytes).error(), StunParseError::kTooManyAttributes);
}

TEST(StunMessage, MalformedAttributeValuesAreErrors) {
  auto bytes = StunMessageBuilder(StunClass::kSuccessResponse, method::kBinding, TransactionId{})
                   .add_bytes(attr::kXorMappedAddress, std::vector<std::uint8_t>{0, 1, 0, 0, 1})
                   .add_bytes(attr::kErrorCode, std::vector<std::uint8_t>{0, 0, 7, 0})
                   .add_bytes(attr::kPriority, std::vector<std::uint8_t>{1, 2})
                   .finish();
  Buffer copy = bytes;
  auto msg = StunMessage::parse(copy);
  ASSERT_TRUE(msg);
  EXPECT_FALSE(msg->xor_mapped_address());
  EXPECT_FALSE(msg->error_code());
  EXPECT_FALSE(msg->priority());
  EXPECT_EQ(msg->address_attribute(attr::kMappedAddress).error().type(),
            RTCErrorType::kNotFoundError);
  EXPECT_FALSE(msg->fingerprint_valid());
  EXPECT_EQ(msg->check_integrity(Buffer::from_string("k")), IntegrityCheck::kAbsent);
}

TEST(StunMessage, IsStunDemux) {
  EXPECT_TRUE(is_stun_message(kSampleRequest));
  const std::uint8_t dtls[] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                               0,  0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(is_stun_message(dtls));
  EXPECT_FALSE(is_stun_message(BytesView(kSampleRequest).first(10)));
}

TEST(StunAuth, OpaqueStringPreparation) {
  EXPECT_EQ(*opaque_string("simple"), "simple");
  EXPECT_EQ(*opaque_string("a\xc2\xa0"
                           "b"),
            "a b");  // NO-BREAK SPACE maps to a space
  EXPECT_EQ(*opaque_string("\xe3\x83\x9e"), "\xe3\x83\x9e");
  EXPECT_FALSE(opaque_string(""));
  EXPECT_FALSE(opaque_string("tab\there"));
  EXPECT_FALSE(opaque_string("\xc0\xaf"));      // overlong
  EXPECT_FALSE(opaque_string("\xe3\x83"));      // truncated
  EXPECT_FALSE(opaque_string("\xed\xa0\x80"));  // surrogate
}

}  // namespace
}  // namespace rtcpp::stun

namespace rtcpp::stun {
namespace {

TEST(StunPasswordAlgorithms, NonceSecurityFeatures) {
  // RFC 8489 9.2.1: cookie, then four base64 characters whose first bit is the feature.
  EXPECT_TRUE(nonce_announces_password_algorithms("obMatJos2gAAAnonce"));
  EXPECT_TRUE(nonce_announces_password_algorithms("obMatJos2/AAA"));
  EXPECT_FALSE(nonce_announces_password_algorithms("obMatJos2AAAAnonce"));  // bit clear
  EXPECT_FALSE(nonce_announces_password_algorithms("obMatJos2gAA"));        // too short
  EXPECT_FALSE(nonce_announces_password_algorithms("plain-nonce-gAAA"));
  EXPECT_FALSE(nonce_announces_password_algorithms("obMatJos2*AAA"));  // not base64
}

TEST(StunPasswordAlgorithms, UsernameAnonymityFeature) {
  // Bit 1 of the feature set is 0x10 in the first base64 character ("Q"); bit 0 is 0x20.
  EXPECT_TRUE(nonce_announces_username_anonymity("obMatJos2QAAAnonce"));
  EXPECT_TRUE(nonce_announces_username_anonymity("obMatJos2wAAAnonce"));   // both features
  EXPECT_FALSE(nonce_announces_username_anonymity("obMatJos2gAAAnonce"));  // only algorithms
  EXPECT_FALSE(nonce_announces_username_anonymity("obMatJos2AAACf//499k"));
  EXPECT_FALSE(nonce_announces_username_anonymity("obMatJos2QAA"));  // too short
  EXPECT_FALSE(nonce_announces_username_anonymity("QAAAobMatJos2"));
}

TEST(StunPasswordAlgorithms, UserhashOfTheRfc8489Sample) {
  // RFC 8489 B.1: user U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9, realm "example.org".
  const auto hash = userhash(
      "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9", "example.org");
  ASSERT_TRUE(hash);
  EXPECT_EQ(to_hex(*hash), "4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704");
  EXPECT_FALSE(userhash("", "example.org"));
  EXPECT_FALSE(userhash("user", "realm\x01"));
}

TEST(StunPasswordAlgorithms, FirstKnownAlgorithmInTheServersOrder) {
  const std::uint8_t sha_then_md5[] = {0, 2, 0, 0, 0, 1, 0, 0};
  const std::uint8_t md5_then_sha[] = {0, 1, 0, 0, 0, 2, 0, 0};
  const std::uint8_t unknown_with_params_then_sha[] = {0, 9, 0, 3, 1, 2, 3, 0, 0, 2, 0, 0};
  const std::uint8_t truncated_params[] = {0, 9, 0, 8, 1, 2, 3, 4};
  const std::uint8_t only_unknown[] = {0, 7, 0, 0};
  EXPECT_EQ(first_known_password_algorithm(sha_then_md5), kPasswordAlgorithmSha256);
  EXPECT_EQ(first_known_password_algorithm(md5_then_sha), kPasswordAlgorithmMd5);
  EXPECT_EQ(first_known_password_algorithm(unknown_with_params_then_sha), kPasswordAlgorithmSha256);
  EXPECT_EQ(first_known_password_algorithm(truncated_params), 0);
  EXPECT_EQ(first_known_password_algorithm(only_unknown), 0);
  EXPECT_EQ(first_known_password_algorithm({}), 0);
}

}  // namespace
}  // namespace rtcpp::stun
