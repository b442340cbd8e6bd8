#include "dtls/certificate.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace rtcpp::dtls {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(Certificate, GeneratesEcdsaP256WithSha256Fingerprint) {
  auto cert = Certificate::generate();
  ASSERT_TRUE(cert) << cert.error().to_string();
  const auto fps = (*cert)->get_fingerprints();
  ASSERT_EQ(fps.size(), 1u);
  EXPECT_EQ(fps[0].algorithm, "sha-256");
  EXPECT_EQ(fps[0].value.size(), 32u);
  // Valid for 30 days from now (give or take a minute).
  const std::int64_t expected = now_ms() + 30LL * 24 * 3600 * 1000;
  EXPECT_NEAR(static_cast<double>((*cert)->expires_ms()), static_cast<double>(expected), 120000.0);
  // Two certificates never share a key.
  auto other = Certificate::generate();
  EXPECT_NE((*other)->get_fingerprints()[0], fps[0]);
}

TEST(Certificate, PemRoundTripKeepsIdentity) {
  auto cert = Certificate::generate();
  ASSERT_TRUE(cert);
  const std::string pem = (*cert)->to_pem();
  EXPECT_NE(pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(pem.find("PRIVATE KEY"), std::string::npos);
  auto loaded = Certificate::from_pem(pem);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ((*loaded)->get_fingerprints(), (*cert)->get_fingerprints());
  EXPECT_EQ((*loaded)->expires_ms(), (*cert)->expires_ms());
}

TEST(Certificate, RejectsBadPem) {
  EXPECT_EQ(Certificate::from_pem("garbage").error().type(), RTCErrorType::kDataError);
  auto a = Certificate::generate();
  auto b = Certificate::generate();
  // A certificate with someone else's key.
  const std::string a_pem = (*a)->to_pem();
  const std::string b_pem = (*b)->to_pem();
  const std::string mixed = a_pem.substr(0, a_pem.find("-----BEGIN PRIVATE KEY")) +
                            b_pem.substr(b_pem.find("-----BEGIN PRIVATE KEY"));
  EXPECT_FALSE(Certificate::from_pem(mixed));
}

TEST(Certificate, RsaWithParameters) {
  auto cert = Certificate::generate(KeyAlgorithm::rsa(2048, 65537, "SHA-384"));
  ASSERT_TRUE(cert) << cert.error().to_string();
  EXPECT_GT((*cert)->der().size(), 600u);
  EXPECT_EQ(Certificate::generate(KeyAlgorithm::rsa(512)).error().type(),
            RTCErrorType::kNotSupportedError);
  EXPECT_EQ(Certificate::generate(KeyAlgorithm::rsa(2048, 17)).error().type(),
            RTCErrorType::kNotSupportedError);
  EXPECT_EQ(Certificate::generate(KeyAlgorithm::rsa(2048, 65537, "MD5")).error().type(),
            RTCErrorType::kNotSupportedError);
}

TEST(Certificate, OtherFingerprintAlgorithms) {
  auto cert = Certificate::generate();
  for (auto [name, size] : {std::pair{"sha-1", 20u}, {"sha-384", 48u}, {"sha-512", 64u}}) {
    auto f = (*cert)->fingerprint(name);
    ASSERT_TRUE(f) << name;
    EXPECT_EQ(f->value.size(), size);
  }
  EXPECT_FALSE((*cert)->fingerprint("md5"));
}

TEST(Fingerprint, ParsesSdpValues) {
  auto f = Fingerprint::parse(
      "sha-256 FD:BD:2B:89:12:42:0F:62:5E:85:80:29:B4:04:50:5E:F9:8A:24:47:DA:1B:41:40:A9:05:81:"
      "AA:42:C8:7A:0A");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->algorithm, "sha-256");
  EXPECT_EQ(f->value[0], 0xFD);
  EXPECT_EQ(f->to_sdp(),
            "sha-256 FD:BD:2B:89:12:42:0F:62:5E:85:80:29:B4:04:50:5E:F9:8A:24:47:DA:1B:41:40:A9:"
            "05:81:AA:42:C8:7A:0A");
  EXPECT_TRUE(
      Fingerprint::parse("SHA-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"));
  EXPECT_FALSE(Fingerprint::parse("sha-256 FD:BD"));  // wrong length
  EXPECT_FALSE(Fingerprint::parse("md5 00:11"));      // unsupported hash
  EXPECT_FALSE(Fingerprint::parse("sha-256"));        // no value
  EXPECT_FALSE(
      Fingerprint::parse("sha-1 00-11-22-33-44-55-66-77-88-99-AA-BB-CC-DD-EE-FF-00-11-22-33"));
}

}  // namespace
}  // namespace rtcpp::dtls
