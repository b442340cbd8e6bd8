// rtcpp/certificate.hpp: RTCCertificate (W3C WebRTC 1.0, section 4.9).
//
// A DTLS identity: a key pair and a self-signed certificate. Generate one with
// RTCCertificate::generate (RTCPeerConnection.generateCertificate in the browser), share it
// between connections, and save it with to_pem / from_pem where a browser would keep it in
// IndexedDB.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rtcpp/error.hpp"

namespace rtcpp {

namespace dtls {
class Certificate;
}

// W3C RTCDtlsFingerprint: a hash function name as in SDP ("sha-256") and the digest as
// colon-separated lowercase hex.
struct RTCDtlsFingerprint {
  std::string algorithm;
  std::string value;
  friend bool operator==(const RTCDtlsFingerprint&, const RTCDtlsFingerprint&) = default;
};

// The keygen algorithm of generateCertificate (a WebCrypto AlgorithmIdentifier plus
// RTCCertificateExpiration).
struct RTCCertificateKeygenAlgorithm {
  // "ECDSA" (with named_curve "P-256") or "RSASSA-PKCS1-v1_5".
  std::string name = "ECDSA";
  std::string named_curve = "P-256";
  std::uint32_t modulus_length = 2048;
  // Big-endian bytes, as WebCrypto's Uint8Array: {1, 0, 1} is 65537.
  std::vector<std::uint8_t> public_exponent = {1, 0, 1};
  std::string hash = "SHA-256";
  // Validity in milliseconds from now; browsers cap it at a year and default to 30 days.
  std::int64_t expires_ms = 30LL * 24 * 3600 * 1000;
};

class RTCCertificate {
 public:
  // NotSupportedError for an algorithm the W3C list does not allow, TypeError for a bad
  // expiration, OperationError if key generation fails.
  static Result<std::shared_ptr<const RTCCertificate>> generate(
      const RTCCertificateKeygenAlgorithm& algorithm = {});
  // Loads what to_pem wrote; DataError if it is not a certificate with its private key.
  static Result<std::shared_ptr<const RTCCertificate>> from_pem(std::string_view pem);

  // Milliseconds since the Unix epoch after which the certificate is no longer valid.
  std::int64_t expires() const;
  // The sha-256 fingerprint, as the local description's a=fingerprint carries it.
  std::vector<RTCDtlsFingerprint> get_fingerprints() const;
  // The certificate and its private key in PEM. Keep it secret.
  std::string to_pem() const;

  // The implementation, for the library's own use.
  const std::shared_ptr<const dtls::Certificate>& impl() const noexcept { return impl_; }

 private:
  explicit RTCCertificate(std::shared_ptr<const dtls::Certificate> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const dtls::Certificate> impl_;
};

}  // namespace rtcpp
