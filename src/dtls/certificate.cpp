#include "dtls/certificate.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cctype>
#include <ctime>

#include "base/hex.hpp"

namespace rtcpp::dtls {
namespace {

const EVP_MD* digest_by_name(std::string_view name) {
  if (name == "sha-1") return EVP_sha1();
  if (name == "sha-224") return EVP_sha224();
  if (name == "sha-256") return EVP_sha256();
  if (name == "sha-384") return EVP_sha384();
  if (name == "sha-512") return EVP_sha512();
  return nullptr;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

EVP_PKEY* generate_key(const KeyAlgorithm& algorithm) {
  if (algorithm.kind == KeyAlgorithm::Kind::kEcdsaP256) {
    return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  }
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  if (ctx == nullptr) return nullptr;
  EVP_PKEY* key = nullptr;
  BIGNUM* e = BN_new();
  bool ok =
      e != nullptr && BN_set_word(e, algorithm.public_exponent) == 1 &&
      EVP_PKEY_keygen_init(ctx) == 1 &&
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, static_cast<int>(algorithm.modulus_length)) == 1 &&
      EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) == 1 && EVP_PKEY_keygen(ctx, &key) == 1;
  BN_free(e);
  EVP_PKEY_CTX_free(ctx);
  if (!ok) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return key;
}

}  // namespace

bool is_supported_fingerprint_algorithm(std::string_view name) noexcept {
  return digest_by_name(lowercase(name)) != nullptr;
}

Result<Fingerprint> Fingerprint::parse(std::string_view sdp_value) {
  const auto space = sdp_value.find(' ');
  if (space == std::string_view::npos) return syntax_error("fingerprint without a hash name");
  Fingerprint f;
  f.algorithm = lowercase(sdp_value.substr(0, space));
  const EVP_MD* md = digest_by_name(f.algorithm);
  if (md == nullptr) return syntax_error("unsupported fingerprint hash: " + f.algorithm);
  auto bytes = from_hex(sdp_value.substr(space + 1), ':', 64);
  if (!bytes) return syntax_error("invalid fingerprint value");
  if (bytes->size() != static_cast<std::size_t>(EVP_MD_get_size(md)))
    return syntax_error("fingerprint length does not match " + f.algorithm);
  f.value = std::move(*bytes);
  return f;
}

std::string Fingerprint::to_sdp() const {
  return algorithm + " " + value_string();
}
std::string Fingerprint::value_string() const {
  return to_hex_separated(value, ':');
}

Result<Fingerprint> fingerprint_of_der(BytesView der, std::string_view algorithm) {
  const std::string name = lowercase(algorithm);
  const EVP_MD* md = digest_by_name(name);
  if (md == nullptr) return not_supported_error("unsupported fingerprint hash: " + name);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(der.data(), der.size(), out, &length, md, nullptr) != 1)
    return operation_error("digest failed");
  return Fingerprint{name, Buffer(BytesView(out, length))};
}

Result<std::shared_ptr<const Certificate>> Certificate::generate(const KeyAlgorithm& algorithm,
                                                                 std::int64_t validity_seconds) {
  const EVP_MD* sign_md = EVP_sha256();
  if (algorithm.kind == KeyAlgorithm::Kind::kRsaPkcs1) {
    // W3C: RSASSA-PKCS1-v1_5 with modulusLength >= 1024 (browsers: up to 16384).
    if (algorithm.modulus_length < 1024 || algorithm.modulus_length > 16384)
      return not_supported_error("RSA modulusLength must be 1024-16384");
    if (algorithm.public_exponent != 65537 && algorithm.public_exponent != 3)
      return not_supported_error("RSA publicExponent must be 65537 or 3");
    if (algorithm.hash == "SHA-384") {
      sign_md = EVP_sha384();
    } else if (algorithm.hash == "SHA-512") {
      sign_md = EVP_sha512();
    } else if (algorithm.hash != "SHA-256") {
      return not_supported_error("unsupported RSA hash: " + algorithm.hash);
    }
  }
  if (validity_seconds <= 0) return type_error("certificate validity must be positive");
  EVP_PKEY* key = generate_key(algorithm);
  if (key == nullptr) return operation_error("key generation failed");
  X509* x509 = X509_new();
  bool ok = x509 != nullptr;
  if (ok) {
    std::uint8_t serial_bytes[8];
    RAND_bytes(serial_bytes, sizeof serial_bytes);
    serial_bytes[0] &= 0x7F;  // keep the serial positive
    BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
    X509_NAME* name = X509_NAME_new();
    ok =
        serial != nullptr && name != nullptr && X509_set_version(x509, 2) == 1 &&
        BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x509)) != nullptr &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("rtcpp"), -1, -1,
                                   0) == 1 &&
        X509_set_subject_name(x509, name) == 1 && X509_set_issuer_name(x509, name) == 1 &&
        X509_gmtime_adj(X509_getm_notBefore(x509), -24 * 3600) != nullptr &&
        X509_gmtime_adj(X509_getm_notAfter(x509), static_cast<long>(validity_seconds)) != nullptr &&
        X509_set_pubkey(x509, key) == 1 && X509_sign(x509, key, sign_md) > 0;
    BN_free(serial);
    X509_NAME_free(name);
  }
  if (!ok) {
    X509_free(x509);
    EVP_PKEY_free(key);
    return operation_error("certificate generation failed");
  }
  return std::shared_ptr<const Certificate>(new Certificate(x509, key));
}

Result<std::shared_ptr<const Certificate>> Certificate::from_pem(std::string_view pem) {
  if (pem.size() > 1 << 20) return data_error("PEM too large");
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return operation_error("BIO allocation failed");
  X509* x509 = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  EVP_PKEY* key =
      x509 != nullptr ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (x509 == nullptr || key == nullptr || X509_check_private_key(x509, key) != 1) {
    X509_free(x509);
    EVP_PKEY_free(key);
    return data_error("PEM does not hold a certificate and its matching private key");
  }
  return std::shared_ptr<const Certificate>(new Certificate(x509, key));
}

Certificate::~Certificate() {
  X509_free(x509_);
  EVP_PKEY_free(key_);
}

std::string Certificate::to_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  PEM_write_bio_X509(bio, x509_);
  PEM_write_bio_PrivateKey(bio, key_, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  return out;
}

std::int64_t Certificate::expires_ms() const {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x509_), &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

Buffer Certificate::der() const {
  unsigned char* out = nullptr;
  const int length = i2d_X509(x509_, &out);
  if (length <= 0) return {};
  Buffer der(BytesView(out, static_cast<std::size_t>(length)));
  OPENSSL_free(out);
  return der;
}

Result<Fingerprint> Certificate::fingerprint(std::string_view algorithm) const {
  return fingerprint_of_der(der(), algorithm);
}

std::vector<Fingerprint> Certificate::get_fingerprints() const {
  auto f = fingerprint("sha-256");
  if (!f) return {};
  return {*f};
}

}  // namespace rtcpp::dtls
