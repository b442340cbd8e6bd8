// A DTLS 1.2 endpoint (RFC 6347), sans-IO: datagrams in, datagrams out, time as a value. It is
// the secure channel under SCTP (RFC 8261) and the key source for SRTP (RFC 5764).
//
// OpenSSL runs the handshake; the protected records (epoch 1) are rtcpp's own
// (record_protection.hpp): rtcpp seals what it sends and, once the handshake is done, opens
// what it receives. Every record on the wire carries a sequence number of ours, the ones
// OpenSSL wrote during the handshake included. Once connected, OpenSSL's connection is freed
// and what the handshake gave (the peer's certificate, the SRTP keys, the suite) is kept.
//
// Retransmission is ours, not OpenSSL's: OpenSSL 3.0 times its handshake retransmissions
// with its own clock (gettimeofday), which would make the stack depend on wall time and the
// simulator nondeterministic. We give OpenSSL a timer it never reaches, keep each flight it
// writes, and resend that flight on our own schedule (100 ms, doubling, capped at 3 s). As
// RFC 6347 4.2.4 asks, a flight also goes again at once when the peer shows it was lost: the
// peer sends the flight ours answered again, or (to a client awaiting the server's final
// flight) the server's application data arrives; and the server resends its final flight
// when the client retransmits. A resent flight carries the same messages in new records, so
// that the peer's replay window (RFC 6347 4.1.2.6) lets every copy through.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/bytes.hpp"
#include "base/ring_queue.hpp"
#include "base/time.hpp"
#include "dtls/certificate.hpp"
#include "dtls/record_protection.hpp"
#include "rtcpp/error.hpp"

struct ssl_st;

namespace rtcpp::dtls {

enum class DtlsRole : std::uint8_t { kClient, kServer };

// W3C RTCDtlsTransportState.
enum class DtlsState : std::uint8_t { kNew, kConnecting, kConnected, kClosed, kFailed };
std::string_view to_string(DtlsState state) noexcept;

struct DtlsConfig {
  std::shared_ptr<const Certificate> certificate;
  // The largest datagram DTLS may write (handshake messages are fragmented to fit).
  std::size_t mtu = 1200;
  // Handshake retransmission: first interval, doubling up to the cap.
  Duration initial_retransmit = Duration::millis(100);
  Duration max_retransmit = Duration::seconds(3);
  // The handshake fails if it has not completed this long after start().
  Duration handshake_timeout = Duration::seconds(30);
  // Offer/accept DTLS-SRTP (RFC 5764): AEAD_AES_128_GCM, AEAD_AES_256_GCM,
  // AES_CM_128_HMAC_SHA1_80.
  bool srtp = true;
  // Datagrams that arrive before start() are held, up to this many.
  std::size_t max_early_datagrams = 32;
  // Receives each secret of the handshake as an NSS key log line (what SSLKEYLOGFILE files
  // hold, so that Wireshark can decrypt a capture). The core writes no files itself.
  std::function<void(std::string_view line)> key_log;
  // The cipher suites to offer or accept, as an OpenSSL cipher list; empty for all of
  // rtcpp's (ECDHE with AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305, ECDSA or RSA). Suites
  // outside that set are refused.
  std::string cipher_suites;
};

struct DtlsStateChange {
  DtlsState state;
  std::optional<RTCError> error;  // set on kFailed
};
struct DtlsData {
  Buffer data;
};
using DtlsEvent = std::variant<DtlsStateChange, DtlsData>;

// DTLS-SRTP keying material (RFC 5764 4.2), split per direction.
struct SrtpKeyingMaterial {
  std::string profile;  // "SRTP_AEAD_AES_128_GCM", ...
  std::uint16_t profile_id = 0;
  Buffer client_key;
  Buffer client_salt;
  Buffer server_key;
  Buffer server_salt;
};

class DtlsTransport {
 public:
  static Result<std::unique_ptr<DtlsTransport>> create(DtlsConfig config);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // The fingerprints from the remote description (a=fingerprint). The peer's certificate
  // must match one of them; until they are known the transport does not report connected.
  void set_remote_fingerprints(std::vector<Fingerprint> fingerprints, Timestamp now);
  // Starts the handshake in a role (RFC 8842 a=setup decides it). A client sends its
  // ClientHello at once; datagrams that arrived earlier are processed now.
  void start(DtlsRole role, Timestamp now);
  // A datagram whose first byte is in 20..63 (RFC 7983: DTLS).
  void handle_packet(BytesView datagram, Timestamp now);
  void handle_timeout(Timestamp now);
  // During the handshake: sends the current flight again now and restarts its back-off. For
  // when the path changed: a flight written before ICE had a pair to send it on went nowhere.
  void retransmit_now(Timestamp now);
  // Application data (an SCTP packet). InvalidStateError unless connected.
  Result<> send(BytesView data);
  // Sends close_notify and closes.
  void close();

  std::optional<Buffer> poll_transmit();
  std::optional<DtlsEvent> poll_event();
  std::optional<Timestamp> next_timeout() const;

  DtlsState state() const noexcept { return state_; }
  std::optional<DtlsRole> role() const noexcept { return role_; }
  // The peer's certificate (DER), once the handshake has it.
  std::optional<Buffer> remote_certificate_der() const;
  Result<SrtpKeyingMaterial> srtp_keying_material() const;
  // The negotiated cipher suite's OpenSSL name ("ECDHE-ECDSA-AES128-GCM-SHA256").
  std::string cipher_suite() const;
  // Datagrams discarded for their record framing (see handle_packet), and protected records
  // that did not authenticate.
  std::uint64_t discarded_datagrams() const noexcept { return discarded_; }

  // Used by the OpenSSL glue.
  void on_datagram_written(BytesView datagram);
  std::optional<Buffer> next_incoming();
  void on_alert_received(int code) { last_alert_ = code; }
  void on_key_log_line(const char* line) const {
    if (config_.key_log) config_.key_log(line);
  }
  std::size_t mtu() const noexcept { return config_.mtu; }

 private:
  explicit DtlsTransport(DtlsConfig config);
  Result<> init_openssl();
  void feed(BytesView datagram, Timestamp now);
  void note_peer_flight(BytesView datagram);
  bool peer_final_flight_again(BytesView datagram) const;
  bool peer_missed_our_flight(BytesView datagram) const;
  void send_numbered(BytesView datagram);
  void resend_flight(Timestamp now);
  void drive(Timestamp now);
  void read_application_data();
  void release_openssl();
  Result<SrtpKeyingMaterial> export_srtp_keying_material() const;
  void read_records(BytesView datagram);
  void on_protected_alert(BytesView alert);
  bool ensure_record_keys();
  bool reseal_record(std::uint8_t* record, std::size_t size);
  bool send_record(std::uint8_t type, BytesView plaintext);
  void check_connected(Timestamp now);
  void set_state(DtlsState state, std::optional<RTCError> error = std::nullopt);
  void fail(RTCError error);
  void handle_ssl_error(int ret);
  std::size_t min_protected_record() const;

  DtlsConfig config_;
  ssl_st* ssl_ = nullptr;
  std::optional<DtlsRole> role_;
  DtlsState state_ = DtlsState::kNew;
  std::vector<Fingerprint> remote_fingerprints_;
  bool handshake_done_ = false;
  int last_alert_ = -1;  // the last alert received, or -1
  std::uint64_t discarded_ = 0;

  // Fed to OpenSSL's read BIO during the handshake; after it, held until connected.
  RingQueue<Buffer> incoming_;
  std::deque<Buffer> early_;    // arrived before start()
  RingQueue<Buffer> outgoing_;  // to poll_transmit()
  RingQueue<DtlsEvent> events_;

  // Our retransmission of the last handshake flight.
  std::vector<Buffer> flight_;
  bool collecting_flight_ = false;
  bool flight_started_ = false;
  std::optional<Timestamp> retransmit_at_;
  Duration retransmit_interval_;
  // The peer's highest handshake message_seq when our current flight went out: the flight
  // ours answers ends there. That flight arriving again means ours was lost (below).
  std::optional<std::uint16_t> answered_peer_seq_;
  // The record sequence numbers of our next epoch-0 and epoch-1 records (send_numbered()).
  std::uint64_t next_epoch0_sequence_ = 0;
  std::uint64_t next_epoch1_sequence_ = 0;
  // Epoch 1, ours: the keys from the handshake's secret, and the peer's records seen.
  std::optional<RecordCipher> write_cipher_;
  std::optional<RecordCipher> read_cipher_;
  ReplayWindow replay_;
  // Set when the handshake completes: OpenSSL reads nothing more, the records are ours.
  bool own_records_ = false;
  // What is kept of the handshake once OpenSSL's connection is freed (release_openssl()).
  std::optional<Buffer> remote_der_;
  std::optional<Result<SrtpKeyingMaterial>> srtp_material_;
  std::string cipher_suite_;
  Timestamp flight_sent_at_ = Timestamp::infinite();
  // What tells the peer's final flight sent again (RFC 6347 4.2.4) from a forgery: the
  // fragments of its last epoch-0 handshake message as received. Our final flight goes again
  // for each, a bounded number of times (our own retransmissions repeat a flight byte for byte,
  // so a replay of the peer's flight cannot be told from one and is answered too).
  std::optional<std::uint16_t> peer_last_message_seq_;
  std::vector<Buffer> peer_last_message_;
  int final_flight_resends_ = 0;
  Timestamp handshake_deadline_ = Timestamp::infinite();
};

}  // namespace rtcpp::dtls
