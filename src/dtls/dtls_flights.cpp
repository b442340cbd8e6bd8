// The handshake's flights: what rtcpp sends again, when, and under which record numbers.
// OpenSSL writes each flight once (its own timer never fires); rtcpp keeps it and decides.
#include <algorithm>

#include "dtls/dtls_transport.hpp"
#include "dtls/record_framing.hpp"

namespace rtcpp::dtls {
namespace {

// Bound on what a peer (or a forger) can make us keep.
constexpr std::size_t kMaxRememberedFragments = 16;

}  // namespace

// During the handshake: remembers the fragments of the peer's latest epoch-0 handshake message
// (the highest message_seq; for WebRTC the client's signed CertificateVerify).
void DtlsTransport::note_peer_flight(BytesView datagram) {
  for_each_record(datagram, [&](const RecordView& r) {
    if (r.epoch != 0 || r.type != kContentHandshake || r.body.size() < kHandshakeHeaderSize) return;
    const auto message_seq = static_cast<std::uint16_t>((r.body[4] << 8) | r.body[5]);
    if (peer_last_message_seq_ && message_seq < *peer_last_message_seq_) return;
    if (!peer_last_message_seq_ || message_seq > *peer_last_message_seq_) {
      peer_last_message_seq_ = message_seq;
      peer_last_message_.clear();
    }
    const bool known = std::any_of(peer_last_message_.begin(), peer_last_message_.end(),
                                   [&](const Buffer& b) { return equal_bytes(b.view(), r.body); });
    if (!known && peer_last_message_.size() < kMaxRememberedFragments)
      peer_last_message_.emplace_back(r.body);
  });
}

// During the handshake: whether the datagram shows that the peer did not get our current
// flight: it carries an epoch-0 handshake record of the flight ours answered, or it carries
// application data, which the peer sends only after the handshake completed on its side, so
// its final flight (which ours awaits) was lost.
bool DtlsTransport::peer_missed_our_flight(BytesView datagram) const {
  if (!answered_peer_seq_) return false;
  bool again = false;
  for_each_record(datagram, [&](const RecordView& r) {
    if (r.epoch > 0 && r.type == kContentApplicationData) again = true;
    if (r.epoch != 0 || r.type != kContentHandshake || r.body.size() < kHandshakeHeaderSize) return;
    const auto message_seq = static_cast<std::uint16_t>((r.body[4] << 8) | r.body[5]);
    again = again || message_seq <= *answered_peer_seq_;
  });
  return again;
}

// After the handshake: whether the datagram carries a fragment of the peer's last handshake
// message as it came in the handshake, i.e. the peer's final flight sent again. Forged records
// do not match it: the message is signed over the whole handshake.
bool DtlsTransport::peer_final_flight_again(BytesView datagram) const {
  bool again = false;
  for_each_record(datagram, [&](const RecordView& r) {
    if (r.epoch != 0 || r.type != kContentHandshake) return;
    again = again || std::any_of(peer_last_message_.begin(), peer_last_message_.end(),
                                 [&](const Buffer& b) { return equal_bytes(b.view(), r.body); });
  });
  return again;
}

void DtlsTransport::handle_timeout(Timestamp now) {
  if (state_ != DtlsState::kConnecting) return;
  if (!handshake_done_ && now >= handshake_deadline_) {
    fail(operation_error("DTLS handshake timed out").with_detail(RTCErrorDetailType::kDtlsFailure));
    return;
  }
  if (retransmit_at_ && now >= *retransmit_at_) {
    resend_flight(now);
    retransmit_interval_ = std::min(retransmit_interval_ * 2, config_.max_retransmit);
    retransmit_at_ = now + retransmit_interval_;
  }
}

void DtlsTransport::retransmit_now(Timestamp now) {
  if (state_ != DtlsState::kConnecting || handshake_done_ || flight_.empty()) return;
  resend_flight(now);
  retransmit_interval_ = config_.initial_retransmit;
  retransmit_at_ = now + retransmit_interval_;
}

// RFC 6347 4.1.2.6: the peer drops a record whose sequence number it has seen, and a flight we
// send again repeats records OpenSSL wrote once. Every record goes out under a number of ours:
// epoch-0 records (they carry no MAC) are renumbered, protected ones (the Finished) opened
// and sealed again. Each copy of a flight is then new to the peer: one that got part of the
// flight before still reads the rest, and BoringSSL, which sends its final flight again only
// on a client Finished it has not seen, answers our copies.
void DtlsTransport::send_numbered(BytesView datagram) {
  Buffer& out = outgoing_.push_slot();
  out.assign(datagram);
  bool sealed = true;
  for_each_record(out.view(), [&](const RecordView& r) {
    std::uint8_t* record = out.data() + r.offset;
    if (r.epoch == 0) {
      write_record_sequence(record, next_epoch0_sequence_++);
    } else if (sealed) {
      sealed = reseal_record(record, r.record.size());
    }
  });
  if (sealed) return;
  // Our keys do not open what OpenSSL sealed: nothing we send could be read.
  outgoing_.pop_back();
  fail(operation_error("DTLS: rtcpp's record keys do not match OpenSSL's")
           .with_detail(RTCErrorDetailType::kDtlsFailure));
}

void DtlsTransport::resend_flight(Timestamp now) {
  for (const auto& d : flight_) send_numbered(d.view());
  flight_sent_at_ = now;
}

void DtlsTransport::on_datagram_written(BytesView datagram) {
  send_numbered(datagram);
  if (!collecting_flight_) return;
  if (!flight_started_) {
    flight_.clear();
    flight_started_ = true;
  }
  flight_.emplace_back(datagram);
}

}  // namespace rtcpp::dtls
