#include <gtest/gtest.h>

#include <chrono>

#include "rtcpp/certificate.hpp"

namespace rtcpp {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(RTCCertificate, GenerateDefaultsToEcdsaP256For30Days) {
  auto cert = RTCCertificate::generate();
  ASSERT_TRUE(cert) << cert.error().to_string();
  const auto fps = (*cert)->get_fingerprints();
  ASSERT_EQ(fps.size(), 1u);
  EXPECT_EQ(fps[0].algorithm, "sha-256");
  EXPECT_EQ(fps[0].value.size(), 32u * 3 - 1);  // "ab:cd:..."
  // W3C 4.9.2: lowercase hex.
  EXPECT_EQ(fps[0].value.find_first_of("ABCDEF"), std::string::npos) << fps[0].value;
  EXPECT_NEAR(static_cast<double>((*cert)->expires() - now_ms()), 30.0 * 24 * 3600 * 1000,
              120000.0);
}

TEST(RTCCertificate, RsaAndExpiration) {
  RTCCertificateKeygenAlgorithm rsa;
  rsa.name = "RSASSA-PKCS1-v1_5";
  rsa.modulus_length = 2048;
  rsa.expires_ms = 3600 * 1000;
  auto cert = RTCCertificate::generate(rsa);
  ASSERT_TRUE(cert) << cert.error().to_string();
  EXPECT_NEAR(static_cast<double>((*cert)->expires() - now_ms()), 3600.0 * 1000, 120000.0);
}

TEST(RTCCertificate, W3cErrors) {
  RTCCertificateKeygenAlgorithm a;
  a.name = "Ed25519";
  EXPECT_EQ(RTCCertificate::generate(a).error().type(), RTCErrorType::kNotSupportedError);
  a = {};
  a.named_curve = "P-384";
  EXPECT_EQ(RTCCertificate::generate(a).error().type(), RTCErrorType::kNotSupportedError);
  a = {};
  a.name = "RSASSA-PKCS1-v1_5";
  a.public_exponent = {0x11};
  EXPECT_EQ(RTCCertificate::generate(a).error().type(), RTCErrorType::kNotSupportedError);
  a = {};
  a.expires_ms = -1;
  EXPECT_EQ(RTCCertificate::generate(a).error().type(), RTCErrorType::kTypeError);
  EXPECT_EQ(RTCCertificate::from_pem("nope").error().type(), RTCErrorType::kDataError);
}

TEST(RTCCertificate, PemRoundTrip) {
  auto cert = RTCCertificate::generate();
  auto back = RTCCertificate::from_pem((*cert)->to_pem());
  ASSERT_TRUE(back);
  EXPECT_EQ((*back)->get_fingerprints(), (*cert)->get_fingerprints());
}

}  // namespace
}  // namespace rtcpp
