// The records after the handshake, which rtcpp protects itself (record_protection.hpp):
// the epoch-1 keys taken from OpenSSL's handshake, the peer's records opened and checked for
// replays, ours sealed and numbered, and the alerts between them.
#include <openssl/ssl.h>

#include <string>

#include "dtls/dtls_transport.hpp"
#include "dtls/record_framing.hpp"

namespace rtcpp::dtls {
namespace {

// RFC 5246 7.2: alert levels, and the close_notify description.
constexpr std::uint8_t kAlertLevelWarning = 1;
constexpr std::uint8_t kAlertLevelFatal = 2;
constexpr std::uint8_t kAlertCloseNotify = 0;

}  // namespace

// After the handshake, each epoch-1 record: checked against the replay window, opened, then
// handed on by its type. Records of other epochs are dropped (RFC 6347 4.1: epoch 0 can only
// be the handshake's, sent again; there is no renegotiation).
void DtlsTransport::read_records(BytesView datagram) {
  for_each_record(datagram, [&](const RecordView& r) {
    if (state_ != DtlsState::kConnected || r.epoch != 1) return;
    if (!replay_.fresh(r.sequence) || r.body.size() < read_cipher_->overhead()) return;
    Buffer plaintext(r.body.size() - read_cipher_->overhead());
    if (!read_cipher_->open(r.record, plaintext.data())) {
      ++discarded_;
      return;
    }
    replay_.mark(r.sequence);
    if (r.type == kContentApplicationData) {
      if (!plaintext.empty()) events_.push_back(DtlsData{std::move(plaintext)});
    } else if (r.type == kContentAlert) {
      on_protected_alert(plaintext.view());
    }
    // A handshake record is the peer's Finished sent again along with its final flight, which
    // its epoch-0 records already told (feed()).
  });
}

// RFC 5246 7.2: close_notify closes; a fatal alert fails the transport; warnings are ignored.
void DtlsTransport::on_protected_alert(BytesView alert) {
  if (alert.size() != 2) return;
  if (alert[1] == kAlertCloseNotify) {
    set_state(DtlsState::kClosed);
    return;
  }
  if (alert[0] != kAlertLevelFatal) return;
  last_alert_ = alert[1];
  RTCError e = operation_error("DTLS: the peer sent fatal alert " + std::to_string(alert[1]))
                   .with_detail(RTCErrorDetailType::kDtlsFailure);
  e.received_alert = alert[1];
  fail(std::move(e));
}

// The epoch-1 ciphers, from the secret and randoms OpenSSL negotiated: possible once the
// handshake has its master secret, i.e. by the time OpenSSL writes its Finished.
bool DtlsTransport::ensure_record_keys() {
  if (write_cipher_) return true;
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
  if (cipher == nullptr) cipher = SSL_get_pending_cipher(ssl_);
  const SSL_SESSION* session = SSL_get_session(ssl_);
  if (cipher == nullptr || session == nullptr) return false;
  RecordAead aead = RecordAead::kAes128Gcm;
  switch (SSL_CIPHER_get_cipher_nid(cipher)) {
    case NID_aes_128_gcm:
      break;
    case NID_aes_256_gcm:
      aead = RecordAead::kAes256Gcm;
      break;
    case NID_chacha20_poly1305:
      aead = RecordAead::kChaCha20Poly1305;
      break;
    default:
      return false;
  }
  const EVP_MD* prf = SSL_CIPHER_get_handshake_digest(cipher);
  std::uint8_t master[SSL_MAX_MASTER_KEY_LENGTH];
  const std::size_t master_size = SSL_SESSION_get_master_key(session, master, sizeof master);
  std::uint8_t client_random[32];
  std::uint8_t server_random[32];
  if (prf == nullptr || master_size == 0 ||
      SSL_get_client_random(ssl_, client_random, sizeof client_random) != 32 ||
      SSL_get_server_random(ssl_, server_random, sizeof server_random) != 32)
    return false;
  auto keys = derive_epoch_keys(aead, EVP_MD_get0_name(prf), BytesView(master, master_size),
                                BytesView(client_random, 32), BytesView(server_random, 32));
  OPENSSL_cleanse(master, sizeof master);
  if (!keys) return false;
  const bool client = role_ == DtlsRole::kClient;
  auto write = RecordCipher::create(aead, client ? keys->client_write_key : keys->server_write_key,
                                    client ? keys->client_write_iv : keys->server_write_iv);
  auto read = RecordCipher::create(aead, client ? keys->server_write_key : keys->client_write_key,
                                   client ? keys->server_write_iv : keys->client_write_iv);
  if (!write || !read) return false;
  write_cipher_ = std::move(*write);
  read_cipher_ = std::move(*read);
  return true;
}

// A protected record OpenSSL wrote, sealed again under our next epoch-1 number, in place: it
// is opened where it lies and sealed over itself (the size does not change).
bool DtlsTransport::reseal_record(std::uint8_t* record, std::size_t size) {
  if (!ensure_record_keys() || size < kDtlsRecordHeaderSize + write_cipher_->overhead())
    return false;
  std::uint8_t* plaintext = record + write_cipher_->plaintext_offset();
  if (!write_cipher_->open(BytesView(record, size), plaintext)) return false;
  if (next_epoch1_sequence_ > kMaxRecordSequence) return false;
  const BytesView opened(plaintext, size - kDtlsRecordHeaderSize - write_cipher_->overhead());
  return write_cipher_->seal(record[0], 1, next_epoch1_sequence_++, opened, record);
}

bool DtlsTransport::send_record(std::uint8_t type, BytesView plaintext) {
  if (!write_cipher_ || next_epoch1_sequence_ > kMaxRecordSequence) return false;
  Buffer& out = outgoing_.push_slot();
  out.resize(kDtlsRecordHeaderSize + plaintext.size() + write_cipher_->overhead());
  if (write_cipher_->seal(type, 1, next_epoch1_sequence_++, plaintext, out.data())) return true;
  outgoing_.pop_back();
  return false;
}

Result<> DtlsTransport::send(BytesView data) {
  if (state_ != DtlsState::kConnected)
    return invalid_state_error("DTLS transport is not connected");
  if (data.empty()) return {};
  if (data.size() > 16384) return range_error("DTLS record payload larger than 16384 bytes");
  if (!send_record(kContentApplicationData, data)) return operation_error("DTLS write failed");
  return {};
}

void DtlsTransport::close() {
  if (state_ == DtlsState::kClosed || state_ == DtlsState::kFailed) return;
  if (handshake_done_) {
    const std::uint8_t close_notify[] = {kAlertLevelWarning, kAlertCloseNotify};
    send_record(kContentAlert, BytesView(close_notify, sizeof close_notify));
  }
  retransmit_at_.reset();
  set_state(DtlsState::kClosed);
}

}  // namespace rtcpp::dtls
