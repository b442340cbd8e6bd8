#include "rtcpp/certificate.hpp"

#include <algorithm>
#include <cctype>

#include "dtls/certificate.hpp"

namespace rtcpp {

Result<std::shared_ptr<const RTCCertificate>> RTCCertificate::generate(
    const RTCCertificateKeygenAlgorithm& algorithm) {
  // W3C 4.9: browsers accept expirations up to a year; negative or zero is a TypeError.
  constexpr std::int64_t kYearMs = 365LL * 24 * 3600 * 1000;
  if (algorithm.expires_ms <= 0) return type_error("expires must be positive");
  const std::int64_t seconds =
      std::max<std::int64_t>(1, std::min(algorithm.expires_ms, kYearMs) / 1000);
  dtls::KeyAlgorithm key;
  if (algorithm.name == "ECDSA") {
    if (algorithm.named_curve != "P-256") return not_supported_error("ECDSA supports P-256 only");
    key = dtls::KeyAlgorithm::ecdsa_p256();
  } else if (algorithm.name == "RSASSA-PKCS1-v1_5") {
    if (algorithm.public_exponent.empty() || algorithm.public_exponent.size() > 4)
      return not_supported_error("unsupported RSA public exponent");
    std::uint32_t exponent = 0;
    for (auto b : algorithm.public_exponent) exponent = (exponent << 8) | b;
    key = dtls::KeyAlgorithm::rsa(algorithm.modulus_length, exponent, algorithm.hash);
  } else {
    return not_supported_error("unsupported key algorithm: " + algorithm.name);
  }
  auto cert = dtls::Certificate::generate(key, seconds);
  if (!cert) return std::move(cert).error();
  return std::shared_ptr<const RTCCertificate>(new RTCCertificate(std::move(*cert)));
}

Result<std::shared_ptr<const RTCCertificate>> RTCCertificate::from_pem(std::string_view pem) {
  auto cert = dtls::Certificate::from_pem(pem);
  if (!cert) return std::move(cert).error();
  return std::shared_ptr<const RTCCertificate>(new RTCCertificate(std::move(*cert)));
}

std::int64_t RTCCertificate::expires() const {
  return impl_->expires_ms();
}

std::vector<RTCDtlsFingerprint> RTCCertificate::get_fingerprints() const {
  std::vector<RTCDtlsFingerprint> out;
  for (const auto& f : impl_->get_fingerprints()) {
    // W3C 4.9.2: lowercase hex (SDP writes the same digest in uppercase, RFC 8122 5).
    std::string value = f.value_string();
    std::transform(value.begin(), value.end(), value.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.push_back({f.algorithm, std::move(value)});
  }
  return out;
}

std::string RTCCertificate::to_pem() const {
  return impl_->to_pem();
}

}  // namespace rtcpp
