#include "dtls/dtls_transport.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "dtls/record_framing.hpp"

namespace rtcpp::dtls {
namespace {

constexpr const char* kCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kSrtpProfiles =
    "SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_80";
// The most datagrams held for OpenSSL before the application reads them.
constexpr std::size_t kMaxIncoming = 256;
constexpr int kMaxFinalFlightResends = 10;

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

// --- The datagram BIO: each write is one datagram out, each read one datagram in. -------

int bio_write(BIO* bio, const char* data, int length) {
  auto* transport = static_cast<DtlsTransport*>(BIO_get_data(bio));
  if (transport == nullptr || length < 0) return -1;
  transport->on_datagram_written(
      BytesView(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(length)));
  return length;
}

int bio_read(BIO* bio, char* out, int size) {
  auto* transport = static_cast<DtlsTransport*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (transport == nullptr || size <= 0) return -1;
  auto datagram = transport->next_incoming();
  if (!datagram) {
    BIO_set_retry_read(bio);
    return -1;
  }
  // A datagram larger than OpenSSL's buffer is truncated, as a socket would; DTLS drops it.
  const std::size_t n = std::min(datagram->size(), static_cast<std::size_t>(size));
  std::memcpy(out, datagram->data(), n);
  return static_cast<int>(n);
}

long bio_ctrl(BIO* bio, int cmd, long num, void* /*ptr*/) {
  auto* transport = static_cast<DtlsTransport*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
      return transport != nullptr ? static_cast<long>(transport->mtu()) : 1200;
    case BIO_CTRL_DGRAM_SET_MTU:
      return num;
    default:
      // Nothing pending either way, no MTU overhead, and nothing else supported.
      return 0;
  }
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* datagram_bio_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rtcpp-datagram");
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    return m;
  }();
  return method;
}

// OpenSSL's own retransmission timer is set so far out that it never fires (see header).
unsigned int never_timer(SSL* /*ssl*/, unsigned int /*previous_us*/) {
  return 3600u * 1000000u;
}

int accept_any_certificate(int /*preverify*/, X509_STORE_CTX* /*ctx*/) {
  // Self-signed certificates are the norm; the fingerprint from SDP is the check.
  return 1;
}

int g_transport_index = -1;
std::once_flag g_index_once;

void key_log_callback(const SSL* ssl, const char* line) {
  const auto* transport =
      static_cast<const DtlsTransport*>(SSL_get_ex_data(ssl, g_transport_index));
  if (transport != nullptr) transport->on_key_log_line(line);
}

void info_callback(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_READ_ALERT) == 0) return;
  auto* transport = static_cast<DtlsTransport*>(SSL_get_ex_data(ssl, g_transport_index));
  if (transport != nullptr) transport->on_alert_received(ret & 0xFF);
}

}  // namespace

std::string_view to_string(DtlsState state) noexcept {
  switch (state) {
    case DtlsState::kNew:
      return "new";
    case DtlsState::kConnecting:
      return "connecting";
    case DtlsState::kConnected:
      return "connected";
    case DtlsState::kClosed:
      return "closed";
    case DtlsState::kFailed:
      return "failed";
  }
  return "?";
}

Result<std::unique_ptr<DtlsTransport>> DtlsTransport::create(DtlsConfig config) {
  if (!config.certificate) return invalid_access_error("DTLS needs a certificate");
  if (config.mtu < 256 || config.mtu > 65507) return range_error("DTLS MTU must be 256-65507");
  std::unique_ptr<DtlsTransport> transport(new DtlsTransport(std::move(config)));
  auto ok = transport->init_openssl();
  if (!ok) return std::move(ok).error();
  return transport;
}

DtlsTransport::DtlsTransport(DtlsConfig config)
    : config_(std::move(config)), retransmit_interval_(config_.initial_retransmit) {}

DtlsTransport::~DtlsTransport() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

namespace {

// One SSL_CTX for every transport of the process; what differs between connections (the
// certificate and key, SRTP) is set on each SSL. OpenSSL 3 makes a context slowly (it fetches
// its algorithms from the providers each time): a context per connection cost about a tenth
// of a connection's setup, and memory besides.
Result<SSL_CTX*> shared_context() {
  static std::once_flag once;
  static SSL_CTX* context = nullptr;
  static std::string error;
  std::call_once(once, [] {
    SSL_CTX* ctx = SSL_CTX_new(DTLS_method());
    if (ctx == nullptr) {
      error = "SSL_CTX_new: " + openssl_error();
      return;
    }
    SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       accept_any_certificate);
    // Each transport decides whether it logs keys (DtlsConfig::key_log).
    SSL_CTX_set_keylog_callback(ctx, key_log_callback);
    SSL_CTX_set_info_callback(ctx, info_callback);
    if (SSL_CTX_set_cipher_list(ctx, kCipherList) != 1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
      error = "cipher configuration: " + openssl_error();
      SSL_CTX_free(ctx);
      return;
    }
    context = ctx;
  });
  if (context == nullptr) return operation_error(error);
  return context;
}

}  // namespace

Result<> DtlsTransport::init_openssl() {
  std::call_once(g_index_once, [] {
    g_transport_index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  });
  auto context = shared_context();
  if (!context) return std::move(context).error();
  ssl_ = SSL_new(*context);
  if (ssl_ == nullptr) return operation_error("SSL_new: " + openssl_error());
  // OpenSSL's use_srtp setter returns 0 on success.
  if (config_.srtp && SSL_set_tlsext_use_srtp(ssl_, kSrtpProfiles) != 0)
    return operation_error("SRTP profiles: " + openssl_error());
  if (SSL_use_certificate(ssl_, config_.certificate->x509()) != 1 ||
      SSL_use_PrivateKey(ssl_, config_.certificate->key()) != 1)
    return operation_error("certificate: " + openssl_error());
  BIO* bio = BIO_new(datagram_bio_method());
  if (bio == nullptr) return operation_error("BIO_new: " + openssl_error());
  BIO_set_data(bio, this);
  // Read and write through the same datagram BIO; SSL_set_bio takes our one reference.
  SSL_set_bio(ssl_, bio, bio);
  SSL_set_ex_data(ssl_, g_transport_index, this);
  if (!config_.cipher_suites.empty()) {
    if (SSL_set_cipher_list(ssl_, config_.cipher_suites.c_str()) != 1)
      return invalid_access_error("DTLS cipher suites: OpenSSL accepts none of \"" +
                                  config_.cipher_suites + "\"");
    // The record layer is ours, and knows the AEADs of kCipherList only.
    const STACK_OF(SSL_CIPHER)* ciphers = SSL_get_ciphers(ssl_);
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
      const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
      const int nid = SSL_CIPHER_get_cipher_nid(cipher);
      const int kx = SSL_CIPHER_get_kx_nid(cipher);
      if (kx == NID_kx_any) continue;  // a TLS 1.3 suite, never used by DTLS 1.2
      if (kx != NID_kx_ecdhe ||
          (nid != NID_aes_128_gcm && nid != NID_aes_256_gcm && nid != NID_chacha20_poly1305))
        return invalid_access_error(std::string("DTLS cipher suite ") +
                                    SSL_CIPHER_get_name(cipher) +
                                    " is not supported (ECDHE with AES-GCM or ChaCha20-Poly1305)");
    }
  }
  SSL_set_mtu(ssl_, static_cast<long>(config_.mtu));
  DTLS_set_timer_cb(ssl_, never_timer);
  return {};
}

void DtlsTransport::set_remote_fingerprints(std::vector<Fingerprint> fingerprints, Timestamp now) {
  remote_fingerprints_ = std::move(fingerprints);
  check_connected(now);
}

void DtlsTransport::start(DtlsRole role, Timestamp now) {
  if (role_ || state_ != DtlsState::kNew) return;
  role_ = role;
  if (role == DtlsRole::kClient) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
  }
  handshake_deadline_ = now + config_.handshake_timeout;
  set_state(DtlsState::kConnecting);
  if (role == DtlsRole::kClient) drive(now);
  // A ClientHello (or anything else) that came before we knew our role is processed now
  // instead of waiting for the peer to retransmit it.
  while (!early_.empty()) {
    Buffer d = std::move(early_.front());
    early_.pop_front();
    feed(d, now);
  }
}

void DtlsTransport::handle_packet(BytesView datagram, Timestamp now) {
  if (state_ == DtlsState::kClosed || state_ == DtlsState::kFailed || datagram.empty()) return;
  // RFC 6347 4.1.2.7 has an invalid record discarded; OpenSSL instead takes some (a protected
  // record shorter than the cipher's nonce and tag, or the bytes after a bad header read as the
  // next record) for a fatal error that ends the connection, so that one forged datagram from
  // anywhere could close it. Such datagrams never reach OpenSSL, nor our record reader.
  if (!well_framed(datagram, min_protected_record())) {
    ++discarded_;
    return;
  }
  if (!role_) {
    if (early_.size() < config_.max_early_datagrams) early_.emplace_back(datagram);
    return;
  }
  feed(datagram, now);
}

void DtlsTransport::feed(BytesView datagram, Timestamp now) {
  if (handshake_done_) {
    const bool again = role_ == DtlsRole::kServer && peer_final_flight_again(datagram);
    if (state_ == DtlsState::kConnected) {
      read_records(datagram);
    } else if (incoming_.size() < kMaxIncoming) {
      incoming_.push_slot().assign(datagram);  // opened once the fingerprint is checked
    }
    // RFC 6347 4.2.4: the peer sending its final flight again means our final flight was
    // lost: send it again, once for each (OpenSSL does not). Any other record of the
    // handshake's types gets nothing: anyone can forge those.
    if (again && final_flight_resends_ < kMaxFinalFlightResends) {
      ++final_flight_resends_;
      resend_flight(now);
    }
    return;
  }
  if (incoming_.size() >= kMaxIncoming) return;  // the application is not reading: drop
  incoming_.push_slot().assign(datagram);
  {
    // RFC 6347 4.2.4: a peer in WAITING that reads a retransmission of the flight it answered
    // sends its own flight again at once instead of at its next timer: under loss each side's
    // timer then recovers the exchange, not only the one that waits. Spaced by half the first
    // interval, so that a flight in several datagrams draws one resend, not one per datagram.
    // Our resends never draw one from the peer (they repeat a flight newer than the one the
    // peer answered), so two stacks cannot echo each other's flights.
    if (!flight_.empty() && peer_missed_our_flight(datagram) &&
        now - flight_sent_at_ >= config_.initial_retransmit / 2) {
      resend_flight(now);
    }
    note_peer_flight(datagram);
    drive(now);
  }
}

void DtlsTransport::drive(Timestamp now) {
  collecting_flight_ = true;
  flight_started_ = false;
  const int ret = SSL_do_handshake(ssl_);
  collecting_flight_ = false;
  if (flight_started_) {
    // A new flight went out: (re)start our retransmission timer.
    retransmit_interval_ = config_.initial_retransmit;
    retransmit_at_ = now + retransmit_interval_;
    answered_peer_seq_ = peer_last_message_seq_;
    flight_sent_at_ = now;
  }
  if (ret == 1) {
    handshake_done_ = true;
    own_records_ = true;
    if (!ensure_record_keys()) {
      fail(operation_error("DTLS: no record keys from the handshake")
               .with_detail(RTCErrorDetailType::kDtlsFailure));
      return;
    }
    // The client sent the last flight it will send; the server keeps its final flight for
    // the peer's retransmissions but needs no timer.
    retransmit_at_.reset();
    check_connected(now);
    return;
  }
  handle_ssl_error(ret);
}

void DtlsTransport::handle_ssl_error(int ret) {
  const int error = SSL_get_error(ssl_, ret);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
  if (error == SSL_ERROR_ZERO_RETURN) {
    set_state(DtlsState::kClosed);
    return;
  }
  RTCError e =
      operation_error("DTLS: " + openssl_error()).with_detail(RTCErrorDetailType::kDtlsFailure);
  if (last_alert_ >= 0) e.received_alert = static_cast<std::uint32_t>(last_alert_);
  fail(std::move(e));
}

void DtlsTransport::check_connected(Timestamp /*now*/) {
  if (!handshake_done_ || state_ != DtlsState::kConnecting || remote_fingerprints_.empty()) return;
  auto der = remote_certificate_der();
  if (!der) {
    fail(operation_error("DTLS peer sent no certificate")
             .with_detail(RTCErrorDetailType::kFingerprintFailure));
    return;
  }
  for (const auto& expected : remote_fingerprints_) {
    auto actual = fingerprint_of_der(*der, expected.algorithm);
    if (actual && actual->value == expected.value) {
      remote_der_ = std::move(der);
      set_state(DtlsState::kConnected);
      read_application_data();  // records that arrived while we were verifying
      release_openssl();
      return;
    }
  }
  fail(operation_error(
           "the peer's DTLS certificate matches no fingerprint of the remote description")
           .with_detail(RTCErrorDetailType::kFingerprintFailure));
}

// Once connected: first the records OpenSSL read along with the handshake's last messages
// (it reads no more datagrams), then those held since the handshake completed.
void DtlsTransport::read_application_data() {
  std::uint8_t buf[16384 + 512];
  while (ssl_ != nullptr && state_ == DtlsState::kConnected) {
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n <= 0) {
      handle_ssl_error(n);
      break;
    }
    events_.push_back(DtlsData{Buffer(BytesView(buf, static_cast<std::size_t>(n)))});
  }
  while (state_ == DtlsState::kConnected && !incoming_.empty()) {
    const Buffer datagram = std::move(incoming_.front());
    incoming_.pop_front();
    read_records(datagram.view());
  }
}

void DtlsTransport::fail(RTCError error) {
  if (state_ == DtlsState::kFailed || state_ == DtlsState::kClosed) return;
  retransmit_at_.reset();
  set_state(DtlsState::kFailed, std::move(error));
}

void DtlsTransport::set_state(DtlsState state, std::optional<RTCError> error) {
  if (state_ == state) return;
  state_ = state;
  events_.push_back(DtlsStateChange{state, std::move(error)});
}

std::optional<Buffer> DtlsTransport::next_incoming() {
  if (own_records_ || incoming_.empty()) return std::nullopt;
  Buffer d = std::move(incoming_.front());
  incoming_.pop_front();
  return d;
}

std::optional<Buffer> DtlsTransport::poll_transmit() {
  if (outgoing_.empty()) return std::nullopt;
  Buffer d = std::move(outgoing_.front());
  outgoing_.pop_front();
  return d;
}

std::optional<DtlsEvent> DtlsTransport::poll_event() {
  if (events_.empty()) return std::nullopt;
  DtlsEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::optional<Timestamp> DtlsTransport::next_timeout() const {
  if (state_ != DtlsState::kConnecting) return std::nullopt;
  std::optional<Timestamp> t;
  if (!handshake_done_) t = handshake_deadline_;
  if (retransmit_at_ && (!t || *retransmit_at_ < *t)) t = retransmit_at_;
  return t;
}

// Connected, the handshake's results are kept and OpenSSL's connection freed: its buffers
// and handshake state were most of an idle connection's memory. The records are ours, and so
// is the final flight sent again for a peer that did not get it.
void DtlsTransport::release_openssl() {
  if (ssl_ == nullptr || state_ != DtlsState::kConnected) return;
  cipher_suite_ = cipher_suite();
  if (config_.srtp) srtp_material_ = export_srtp_keying_material();
  SSL_free(ssl_);
  ssl_ = nullptr;
}

std::optional<Buffer> DtlsTransport::remote_certificate_der() const {
  if (remote_der_) return remote_der_;
  if (ssl_ == nullptr) return std::nullopt;
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr) return std::nullopt;
  unsigned char* out = nullptr;
  const int length = i2d_X509(peer, &out);
  if (length <= 0) return std::nullopt;
  Buffer der(BytesView(out, static_cast<std::size_t>(length)));
  OPENSSL_free(out);
  return der;
}

Result<SrtpKeyingMaterial> DtlsTransport::srtp_keying_material() const {
  if (srtp_material_) return *srtp_material_;
  if (!handshake_done_) return invalid_state_error("DTLS handshake not complete");
  if (ssl_ == nullptr) return not_supported_error("no DTLS-SRTP profile was negotiated");
  return export_srtp_keying_material();
}

Result<SrtpKeyingMaterial> DtlsTransport::export_srtp_keying_material() const {
  const SRTP_PROTECTION_PROFILE* profile = SSL_get_selected_srtp_profile(ssl_);
  if (profile == nullptr) return not_supported_error("no DTLS-SRTP profile was negotiated");
  std::size_t key_length = 16;
  std::size_t salt_length = 14;
  switch (profile->id) {
    case SRTP_AES128_CM_SHA1_80:
      break;
    case SRTP_AEAD_AES_128_GCM:
      salt_length = 12;
      break;
    case SRTP_AEAD_AES_256_GCM:
      key_length = 32;
      salt_length = 12;
      break;
    default:
      return not_supported_error(std::string("unexpected SRTP profile ") + profile->name);
  }
  // RFC 5764 4.2: client key, server key, client salt, server salt.
  Buffer material(2 * (key_length + salt_length));
  static constexpr char kLabel[] = "EXTRACTOR-dtls_srtp";
  if (SSL_export_keying_material(ssl_, material.data(), material.size(), kLabel, sizeof kLabel - 1,
                                 nullptr, 0, 0) != 1)
    return operation_error("keying material export failed: " + openssl_error());
  SrtpKeyingMaterial out;
  out.profile = profile->name;
  out.profile_id = static_cast<std::uint16_t>(profile->id);
  const BytesView all = material.view();
  out.client_key = Buffer(all.subspan(0, key_length));
  out.server_key = Buffer(all.subspan(key_length, key_length));
  out.client_salt = Buffer(all.subspan(2 * key_length, salt_length));
  out.server_salt = Buffer(all.subspan(2 * key_length + salt_length, salt_length));
  return out;
}

std::size_t DtlsTransport::min_protected_record() const {
  // RFC 5288 3: AES-GCM records carry an 8-byte explicit nonce and a 16-byte tag; RFC 7905
  // 2: ChaCha20-Poly1305 records only the tag. Before the suite is known, the smaller.
  if (read_cipher_) return read_cipher_->overhead();
  if (ssl_ == nullptr) return 16;
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
  if (cipher == nullptr || SSL_CIPHER_get_cipher_nid(cipher) == NID_chacha20_poly1305) return 16;
  return 24;
}

std::string DtlsTransport::cipher_suite() const {
  if (ssl_ == nullptr) return cipher_suite_;
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
  return cipher != nullptr ? SSL_CIPHER_get_name(cipher) : "";
}

}  // namespace rtcpp::dtls
