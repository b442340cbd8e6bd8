// SctpAssociation: the state machine (RFC 9260 4) and the routing of received chunks to the
// units that keep each concern's state (docs/architecture.md); what it sends is in
// association_transmit.cpp.
#include "sctp/association.hpp"

#include <algorithm>
#include <cstring>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"

namespace rtcpp::sctp {
namespace {

// ABORT/SHUTDOWN COMPLETE T bit: the tag is the receiver's own (RFC 9260 3.3.7).
constexpr std::uint8_t kFlagT = 0x01;

}  // namespace

SctpAssociation::SctpAssociation(SctpConfig config, Random& rng)
    : config_(config),
      rng_(&rng),
      local_tag_(0),
      cc_(config.mtu, config.max_burst),
      rto_({config.rto_initial, config.rto_min, config.rto_max, config.peer_ack_delay}),
      reassembly_(config.receive_window, config.max_message_size),
      heartbeat_(config.heartbeat_interval) {
  // RFC 9260 5.1: a random non-zero tag and a random initial TSN.
  do {
    local_tag_ = rng_->next_u32();
  } while (local_tag_ == 0);
  start_tsns(rng_->next_u32());
  rng_->fill(handshake_.secret());
  send_queue_.start(config_.streams);
}

void SctpAssociation::start_tsns(std::uint32_t initial_tsn) {
  rtx_.start(initial_tsn);
  resetter_.start_outgoing(initial_tsn);
}

// --- Handshake ---------------------------------------------------------------------------

void SctpAssociation::connect(Timestamp now) {
  last_now_ = now;
  if (state_ != State::kClosed) return;
  state_ = State::kCookieWait;
  send_init(now);
}

void SctpAssociation::send_init(Timestamp now) {
  Buffer packet = init_packet(chunk_type::kInit, our_init(local_tag_, rtx_.next_tsn().wire()), {},
                              {config_.local_port, config_.remote_port, 0}, config_.mtu);
  handshake_.start_t1(packet, now, config_.rto_initial);
  outgoing_.push_back(std::move(packet));
  ++packets_sent_;
}

InitParameters SctpAssociation::our_init(std::uint32_t tag, std::uint32_t initial_tsn) const {
  InitParameters ours{tag, config_.receive_window, config_.streams, initial_tsn, 0};
  if (config_.partial_reliability) ours.extensions |= extension::kForwardTsn;
  if (config_.stream_reset) ours.extensions |= extension::kReconfig;
  if (config_.interleaving) ours.extensions |= extension::kIData;
  if (config_.zero_checksum) ours.extensions |= extension::kZeroChecksum;
  return ours;
}

void SctpAssociation::handle_init(const ChunkView& chunk, const CommonHeader& header,
                                  Timestamp now) {
  if (header.verification_tag != 0) return;  // RFC 9260 8.5.1: INIT travels with tag 0
  auto init = InitChunk::parse(chunk);
  if (!init) return;
  // RFC 9260 9.2: in SHUTDOWN-ACK-SENT the INIT is dropped (T2 resends the SHUTDOWN ACK).
  if (state_ == State::kShutdownAckSent) return;
  CookieContents contents;
  contents.peer = *init;
  contents.extensions = advertised_extensions(*init);
  if (state_ >= State::kEstablished) {
    // RFC 9260 5.2.2: the peer may have restarted. The INIT ACK carries a new tag and initial
    // TSN, and the cookie the tags in use (tie-tags) so that its COOKIE ECHO can prove it;
    // nothing here changes until then.
    do {
      contents.our_tag = rng_->next_u32();
    } while (contents.our_tag == 0 || contents.our_tag == local_tag_);
    contents.our_initial_tsn = rng_->next_u32();
    contents.local_tie_tag = local_tag_;
    contents.peer_tie_tag = peer_tag_;
  } else {
    // RFC 9260 5.2.1: in COOKIE-WAIT or COOKIE-ECHOED we answer with our own original
    // parameters (same tag, same initial TSN), which is what we always use.
    contents.our_tag = local_tag_;
    contents.our_initial_tsn = rtx_.next_tsn().wire();
  }
  const Buffer cookie = handshake_.make_cookie(contents, now);
  InitParameters ack = our_init(contents.our_tag, contents.our_initial_tsn);
  // RFC 9653 5.1 lets an INIT ACK announce zero checksums whatever the INIT said, but it is
  // the one parameter here that an older peer may not know, and some (pion/sctp 1.8) reject
  // the whole INIT ACK for it instead of skipping it (RFC 9260 3.2.1). It buys nothing with
  // a peer that did not offer it: it goes back only to a peer that announced it.
  if ((contents.extensions & extension::kZeroChecksum) == 0)
    ack.extensions &= static_cast<std::uint8_t>(~extension::kZeroChecksum);
  outgoing_.push_back(init_packet(chunk_type::kInitAck, ack, cookie,
                                  {config_.local_port, config_.remote_port, init->initiate_tag},
                                  config_.mtu));
  ++packets_sent_;
}

void SctpAssociation::handle_init_ack(const ChunkView& chunk, Timestamp now) {
  if (state_ != State::kCookieWait) return;
  auto ack = InitChunk::parse(chunk);
  if (!ack) return;
  const Parameter* cookie = ack->find(param_type::kStateCookie);
  if (cookie == nullptr || cookie->value.empty() || cookie->value.size() > 4096) {
    fail("INIT ACK without a usable state cookie");
    return;
  }
  peer_tag_ = ack->initiate_tag;
  peer_initial_tsn_ = ack->initial_tsn;
  peer_rwnd_ = ack->a_rwnd;
  peer_inbound_streams_ = ack->inbound_streams;
  peer_outbound_streams_ = ack->outbound_streams;
  apply_peer_extensions(advertised_extensions(*ack));
  Buffer packet;
  PacketBuilder b(packet, {config_.local_port, config_.remote_port, peer_tag_}, config_.mtu);
  b.add_chunk(chunk_type::kCookieEcho, 0, cookie->value);
  b.finish();  // RFC 9653 5.2: so does one with a COOKIE ECHO
  handshake_.start_t1(packet, now, rto_.rto());
  outgoing_.push_back(std::move(packet));
  ++packets_sent_;
  state_ = State::kCookieEchoed;
}

void SctpAssociation::handle_cookie_echo(const ChunkView& chunk, std::uint32_t verification_tag,
                                         Timestamp now) {
  auto cookie = handshake_.open_cookie(chunk.value, now);
  // Forged, stale or not ours: silently discarded (RFC 9260 5.1.5); the packet must carry the
  // tag our INIT ACK gave (8.5.1).
  if (!cookie || verification_tag != cookie->our_tag) return;
  switch (classify_cookie_echo(*cookie, {local_tag_, peer_tag_}, state_ >= State::kEstablished,
                               state_ == State::kEstablished, state_ == State::kCookieEchoed)) {
    case CookieEchoAction::kAckAgain:
      send_control(chunk_type::kCookieAck, 0, {}, peer_tag_);
      flush(now);
      break;
    case CookieEchoAction::kRestart:
      restart(*cookie, now);
      break;
    case CookieEchoAction::kAccept:
      accept_cookie(*cookie, now, std::nullopt);
      break;
    case CookieEchoAction::kDiscard:
      break;
  }
}

void SctpAssociation::accept_cookie(const CookieContents& cookie, Timestamp now,
                                    std::optional<std::size_t> restart_dropped) {
  peer_tag_ = cookie.peer.initiate_tag;
  peer_initial_tsn_ = cookie.peer.initial_tsn;
  peer_rwnd_ = cookie.peer.a_rwnd;
  peer_inbound_streams_ = cookie.peer.inbound_streams;
  peer_outbound_streams_ = cookie.peer.outbound_streams;
  apply_peer_extensions(cookie.extensions);
  send_control(chunk_type::kCookieAck, 0, {}, peer_tag_);
  established(now, restart_dropped);
}

void SctpAssociation::restart(const CookieContents& cookie, Timestamp now) {
  // RFC 9260 5.2.4 action A: the peer lost its state and started again; ours starts over
  // from the cookie as if it were new. Messages it never acknowledged are dropped (it cannot
  // place them in the new sequence); what was received is still given to the user.
  const std::size_t dropped = send_queue_.queued_messages() + rtx_.unacknowledged_messages();
  SctpAssociation fresh(config_, *rng_);
  fresh.handshake_ = handshake_;  // the cookie secret (its T1 is stopped once established)
  fresh.local_tag_ = cookie.our_tag;
  fresh.start_tsns(cookie.our_initial_tsn);
  fresh.events_ = std::move(events_);
  fresh.received_ = std::move(received_);  // handle_packet is still reading its chunk list
  fresh.last_now_ = last_now_;
  fresh.retransmissions_ = retransmissions_;
  fresh.packets_sent_ = packets_sent_;
  fresh.rtx_.set_counters(rtx_.abandoned_messages(), rtx_.forward_tsns_sent());
  fresh.expired_unsent_ = expired_unsent_;
  fresh.reconfig_requests_sent_ = reconfig_requests_sent_;
  fresh.heartbeat_.set_sent(heartbeat_.sent());
  *this = std::move(fresh);
  accept_cookie(cookie, now, dropped);
}

void SctpAssociation::apply_peer_extensions(std::uint8_t ext) {
  peer_forward_tsn_ = (ext & extension::kForwardTsn) != 0;
  peer_reconfig_ = (ext & extension::kReconfig) != 0;
  peer_idata_ = (ext & extension::kIData) != 0;
  peer_iforward_ = (ext & extension::kIForwardTsn) != 0;
  peer_zero_checksum_ = (ext & extension::kZeroChecksum) != 0;
  send_queue_.set_interleaved(interleaving());
  rtx_.set_extensions(partial_reliability(), interleaving());
}

void SctpAssociation::established(Timestamp now, std::optional<std::size_t> restart_dropped) {
  state_ = State::kEstablished;
  handshake_.stop_t1();
  tracker_.start(peer_initial_tsn_);
  reassembly_.start(std::min<std::size_t>(config_.streams, peer_outbound_streams_));
  resetter_.start_incoming(peer_initial_tsn_);
  cc_.start(peer_rwnd_);
  if (restart_dropped) {
    events_.push_back(SctpRestarted{*restart_dropped});
  } else {
    events_.push_back(SctpConnected{});
  }
  arm_heartbeat(now);
  flush(now);
}

// --- Incoming ----------------------------------------------------------------------------

void SctpAssociation::handle_packet(BytesView bytes, Timestamp now) {
  last_now_ = std::max(last_now_, now);
  if (state_ == State::kClosed && !accepts_init_) return;
  // RFC 9653 5.3: having announced zero checksums (in every INIT and INIT ACK we send), we
  // accept them besides a correct CRC32c; without that, a wrong CRC32c drops the packet.
  if (parse_packet(bytes, config_.zero_checksum ? ChecksumMode::kAcceptZero : ChecksumMode::kVerify,
                   received_))
    return;
  const PacketView* packet = &received_;
  if (packet->chunks.empty()) return;
  // RFC 9653 5.2: a packet with an INIT carries a correct CRC32c in any case (its sender may
  // not know yet whether we accept zero).
  if (packet->checksum == 0 && packet->chunks.front().type == chunk_type::kInit &&
      !parse_packet(bytes, ChecksumMode::kVerify))
    return;
  if (packet->header.destination_port != config_.local_port ||
      packet->header.source_port != config_.remote_port)
    return;
  const ChunkView& first = packet->chunks.front();
  // RFC 9260 8.5: the verification tag must be ours, except for INIT (0) and for ABORT or
  // SHUTDOWN COMPLETE with the T bit (the peer's tag).
  // A COOKIE ECHO's tag is checked against its cookie (5.2.4): after a restart it is new.
  const bool tag_ok =
      first.type == chunk_type::kInit || first.type == chunk_type::kCookieEcho ||
      packet->header.verification_tag == local_tag_ ||
      ((first.type == chunk_type::kAbort || first.type == chunk_type::kShutdownComplete) &&
       (first.flags & kFlagT) && packet->header.verification_tag == peer_tag_);
  if (!tag_ok) return;
  bool had_data = false;
  // By index: a restart (handle_cookie_echo) replaces the association's state, received_
  // included, while this loop runs.
  for (std::size_t index = 0; index < packet->chunks.size(); ++index) {
    const ChunkView chunk = packet->chunks[index];
    switch (chunk.type) {
      case chunk_type::kInit:
        // RFC 9260 6.10: INIT must be alone in its packet.
        if (packet->chunks.size() == 1) handle_init(chunk, packet->header, now);
        break;
      case chunk_type::kInitAck:
        handle_init_ack(chunk, now);
        break;
      case chunk_type::kCookieEcho:
        handle_cookie_echo(chunk, packet->header.verification_tag, now);
        // What is bundled after it belongs to the association the cookie was for: it goes on
        // only if that is this one now.
        if (packet->header.verification_tag != local_tag_) return;
        break;
      case chunk_type::kCookieAck:
        if (state_ == State::kCookieEchoed) established(now);
        break;
      case chunk_type::kData:
      case chunk_type::kIData:
        if (state_ == State::kEstablished || state_ == State::kShutdownPending ||
            state_ == State::kShutdownSent) {
          if (chunk.type == chunk_type::kData) {
            handle_data(chunk, now);
          } else {
            handle_idata(chunk);
          }
          had_data = true;
        }
        break;
      case chunk_type::kSack:
        if (state_ >= State::kEstablished) handle_sack(chunk, now);
        break;
      case chunk_type::kHeartbeat:
        // RFC 9260 8.3: echo the heartbeat information back.
        if (state_ >= State::kEstablished)
          send_control(chunk_type::kHeartbeatAck, 0, chunk.value, peer_tag_);
        break;
      case chunk_type::kHeartbeatAck:
        if (state_ >= State::kEstablished) handle_heartbeat_ack(chunk, now);
        break;
      case chunk_type::kAbort: {
        state_ = State::kClosed;
        accepts_init_ = false;
        events_.push_back(SctpClosed{operation_error("the peer aborted the SCTP association")
                                         .with_detail(RTCErrorDetailType::kSctpFailure)});
        return;
      }
      case chunk_type::kShutdown:
        handle_shutdown(chunk, now);
        break;
      case chunk_type::kShutdownAck:
        if (state_ == State::kShutdownSent || state_ == State::kShutdownAckSent) {
          send_control(chunk_type::kShutdownComplete, 0, {}, peer_tag_);
          state_ = State::kClosed;
          accepts_init_ = false;
          t2_shutdown_.stop();
          events_.push_back(SctpClosed{});
        }
        break;
      case chunk_type::kShutdownComplete:
        if (state_ == State::kShutdownAckSent) {
          state_ = State::kClosed;
          accepts_init_ = false;
          t2_shutdown_.stop();
          events_.push_back(SctpClosed{});
        }
        break;
      case chunk_type::kError:
        break;
      case chunk_type::kForwardTsn:
      case chunk_type::kIForwardTsn:
        // RFC 3758 3.6 and RFC 8260 2.3.1; without the negotiation it is an unknown chunk
        // (skipped). With I-DATA only I-FORWARD-TSN fits, without it only FORWARD-TSN.
        if (partial_reliability() &&
            (state_ == State::kEstablished || state_ == State::kShutdownPending ||
             state_ == State::kShutdownSent)) {
          if ((chunk.type == chunk_type::kIForwardTsn) != interleaving()) {
            abort_with(error_cause::kProtocolViolation,
                       interleaving() ? "FORWARD-TSN chunk received when I-DATA was negotiated"
                                      : "I-FORWARD-TSN chunk received when DATA was negotiated");
            return;
          }
          if (chunk.type == chunk_type::kForwardTsn) {
            handle_forward_tsn(chunk);
          } else {
            handle_iforward_tsn(chunk);
          }
          had_data = true;
        }
        break;
      case chunk_type::kReConfig:
        if (stream_reset_supported() && state_ >= State::kEstablished) handle_reconfig(chunk, now);
        break;
      default:
        // RFC 9260 3.2: the top two bits of an unknown chunk type say what to do; we skip
        // unknown chunks and stop at the ones that ask us to (bit 0x80 clear).
        if ((chunk.type & 0x80) == 0) {
          chunk_index_done_ = true;
        }
        break;
    }
    if (chunk_index_done_) {
      chunk_index_done_ = false;
      break;
    }
    if (state_ == State::kClosed && chunk.type != chunk_type::kInit) break;
  }
  check_deferred_reset();
  if (had_data) tracker_.on_packet_with_data(now, config_.delayed_ack);
  check_shutdown_progress(now);
  flush(now);
}

void SctpAssociation::handle_data(const ChunkView& chunk, Timestamp /*now*/) {
  if (interleaving()) {
    // RFC 8260 2.2.1: once I-DATA is negotiated, a DATA chunk is a protocol violation.
    abort_with(error_cause::kProtocolViolation, "DATA chunk received when I-DATA was negotiated");
    return;
  }
  auto data = DataChunk::parse(chunk);
  if (!data) {
    abort("malformed DATA chunk");
    return;
  }
  // RFC 9260 6.2 (the I bit, RFC 7053): the sender asks for its SACK without delay.
  if (data->immediate) tracker_.request_immediate_sack();
  const auto tsn = receive_tsn(data->tsn, data->stream_id, data->payload.size());
  if (!tsn) return;
  if (const auto violation = reassembly_.add_data(*tsn, *data, events_))
    abort_with(violation->cause, violation->reason);
}
std::optional<Tsn> SctpAssociation::receive_tsn(std::uint32_t wire_tsn, std::uint16_t stream_id,
                                                std::size_t size) {
  const Tsn tsn = tracker_.unwrap(wire_tsn);
  // Duplicates (RFC 9260 6.2): report them and acknowledge at once.
  if (tracker_.is_duplicate(tsn)) {
    tracker_.report_duplicate(wire_tsn);
    return std::nullopt;
  }
  if (!reassembly_.valid_stream(stream_id)) {
    // RFC 9260 6.5: an invalid stream id; we acknowledge the TSN but drop the data.
    tracker_.mark_received(tsn);
    return std::nullopt;
  }
  switch (reassembly_.admit(tsn == tracker_.cumulative().next(), size)) {
    case ReassemblyQueue::Admission::kAccept:
      break;
    case ReassemblyQueue::Admission::kDrop:
      return std::nullopt;
    case ReassemblyQueue::Admission::kOverrun:
      abort_with(error_cause::kOutOfResource, "SCTP peer overran the receive window");
      return std::nullopt;
  }
  tracker_.mark_received(tsn);
  if (tsn != tracker_.cumulative() || tracker_.has_gaps()) tracker_.request_immediate_sack();
  return tsn;
}

void SctpAssociation::handle_idata(const ChunkView& chunk) {
  if (!interleaving()) {
    // RFC 8260 2.2.1: I-DATA without the negotiation is a protocol violation.
    abort_with(error_cause::kProtocolViolation, "I-DATA chunk received when DATA was negotiated");
    return;
  }
  auto data = IDataChunk::parse(chunk);
  if (!data) {
    abort_with(error_cause::kProtocolViolation, "malformed I-DATA chunk");
    return;
  }
  if (data->immediate) tracker_.request_immediate_sack();  // RFC 9260 6.2, RFC 8260 2.1
  if (auto violation = reassembly_.check_idata(*data)) {
    abort_with(violation->cause, violation->reason);
    return;
  }
  if (!receive_tsn(data->tsn, data->stream_id, data->payload.size())) return;
  if (const auto violation = reassembly_.add_idata(*data, events_))
    abort_with(violation->cause, violation->reason);
}

void SctpAssociation::handle_sack(const ChunkView& chunk, Timestamp now) {
  auto sack = SackChunk::parse(chunk);
  if (!sack) return;
  const auto acked = rtx_.on_sack(*sack, now, loss_delay(), send_queue_);
  if (!acked.valid) return;
  if (acked.rtt) rto_.observe_rtt(*acked.rtt);
  if (acked.cumulative_advanced) {
    rto_.restore();
    probes_unanswered_ = 0;
  }
  if (acked.fast_retransmit) cc_.on_fast_retransmit(rtx_.next_tsn().prev());
  cc_.on_sack(rtx_.cumulative_acked(), acked.cumulative_advanced, acked.bytes_acked);
  cc_.refill_burst();
  // RFC 9260 6.2.1: the peer's window minus what is still in flight.
  const std::size_t flight = rtx_.flight_size();
  peer_rwnd_ = sack->a_rwnd > flight ? static_cast<std::uint32_t>(sack->a_rwnd - flight) : 0;
  // RFC 9260 8.3: any acknowledgement shows the peer alive, including one that only covers
  // abandoned chunks (after a FORWARD-TSN).
  if (acked.bytes_acked > 0 || acked.cumulative_advanced) error_count_ = 0;
  if (rtx_.empty()) {
    t3_rtx_.stop();
  } else if (acked.cumulative_advanced) {
    t3_rtx_.start(now, rto_.rto());
  }
  if (auto deadline = rtx_.loss_deadline()) {
    loss_timer_.start_at(*deadline);
  } else {
    loss_timer_.stop();
  }
  arm_probe(now);
  // RFC 3758 3.5 C1-C3: the Advanced.Peer.Ack.Point moves over abandoned chunks; while it is
  // ahead of what this SACK acknowledges, the peer still needs a FORWARD-TSN.
  if (partial_reliability()) rtx_.update_forward_tsn();
}

void SctpAssociation::handle_shutdown(const ChunkView& chunk, Timestamp now) {
  if (chunk.value.size() != 4 || state_ < State::kEstablished) return;
  // SHUTDOWN carries a cumulative TSN ack: treat it as a SACK without gaps.
  std::uint8_t sack_value[12];
  std::memcpy(sack_value, chunk.value.data(), 4);
  store_be32(sack_value + 4, peer_rwnd_ + static_cast<std::uint32_t>(rtx_.flight_size()));
  store_be16(sack_value + 8, 0);
  store_be16(sack_value + 10, 0);
  handle_sack({chunk_type::kSack, 0, BytesView(sack_value, 12)}, now);
  if (state_ == State::kEstablished || state_ == State::kShutdownPending)
    state_ = State::kShutdownReceived;
}

void SctpAssociation::check_shutdown_progress(Timestamp now) {
  const bool drained = send_queue_.empty() && rtx_.empty();
  if (state_ == State::kShutdownPending && drained) {
    std::uint8_t cum[4];
    store_be32(cum, tracker_.cumulative().wire());
    send_control(chunk_type::kShutdown, 0, BytesView(cum, 4), peer_tag_);
    state_ = State::kShutdownSent;
    t2_shutdown_.start(now, rto_.rto());
  } else if (state_ == State::kShutdownReceived && drained) {
    send_control(chunk_type::kShutdownAck, 0, {}, peer_tag_);
    state_ = State::kShutdownAckSent;
    t2_shutdown_.start(now, rto_.rto());
  }
}

void SctpAssociation::shutdown(Timestamp now) {
  if (state_ == State::kEstablished) {
    state_ = State::kShutdownPending;
    check_shutdown_progress(now);
    flush(now);
  } else if (state_ < State::kEstablished) {
    abort("closed before the association was established");
  }
}

void SctpAssociation::abort(std::string_view reason) {
  abort_with(0, reason);
}

void SctpAssociation::abort_with(std::uint16_t cause, std::string_view reason) {
  if (state_ == State::kClosed) return;
  if (peer_tag_ != 0) {
    // RFC 9260 3.3.7: the ABORT carries the error cause, a Protocol Violation with the
    // reason as its additional information (3.3.10.13).
    Buffer causes;
    if (cause == error_cause::kProtocolViolation) {
      append_parameter(causes, cause, as_bytes(reason));
    } else if (cause != 0) {
      append_parameter(causes, cause, {});
    }
    send_control(chunk_type::kAbort, 0, causes, peer_tag_);
  }
  state_ = State::kClosed;
  accepts_init_ = false;
  handshake_.stop_t1();
  t2_shutdown_.stop();
  t3_rtx_.stop();
  resetter_.stop();
  events_.push_back(SctpClosed{
      operation_error(std::string(reason)).with_detail(RTCErrorDetailType::kSctpFailure)});
}

void SctpAssociation::fail(std::string reason) {
  abort(reason);
}

// --- Partial reliability, receiving (RFC 3758 3.6) ---------------------------------------

void SctpAssociation::handle_forward_tsn(const ChunkView& chunk) {
  auto f = ForwardTsnChunk::parse(chunk, false);
  if (!f) return;
  tracker_.request_immediate_sack();  // acknowledged at once, in or out of date
  const Tsn new_cumulative = tracker_.unwrap(f->new_cumulative_tsn);
  if (new_cumulative <= tracker_.cumulative()) return;  // out of date: only the SACK
  reassembly_.skip_data(new_cumulative, f->skipped, events_);
  tracker_.advance_cumulative(new_cumulative);
}

void SctpAssociation::handle_iforward_tsn(const ChunkView& chunk) {
  auto f = ForwardTsnChunk::parse(chunk, true);
  if (!f) return;
  tracker_.request_immediate_sack();  // acknowledged at once, in or out of date
  const Tsn new_cumulative = tracker_.unwrap(f->new_cumulative_tsn);
  if (new_cumulative <= tracker_.cumulative()) return;  // out of date: only the SACK
  reassembly_.skip_idata(f->skipped, events_);
  tracker_.advance_cumulative(new_cumulative);
}

// --- Stream reset (RFC 6525) -------------------------------------------------------------

void SctpAssociation::handle_reconfig(const ChunkView& chunk, Timestamp now) {
  Buffer responses;
  resetter_.handle_reconfig(
      chunk.value, responses,
      [&](const OutgoingResetRequest& request) { return handle_reset_request(request); },
      [&](const ReconfigResponse& response) { handle_reset_response(response, now); });
  if (!responses.empty()) send_control(chunk_type::kReConfig, 0, responses, peer_tag_);
}

ReconfigResponse::Result SctpAssociation::handle_reset_request(
    const OutgoingResetRequest& request) {
  const bool streams_valid =
      std::all_of(request.streams.begin(), request.streams.end(),
                  [&](std::uint16_t s) { return reassembly_.valid_stream(s); });
  const auto decision = resetter_.on_request(
      request, streams_valid, tracker_.unwrap(request.sender_last_tsn), tracker_.cumulative());
  if (decision.perform_now) reset_incoming(request.streams);
  return decision.result;
}

void SctpAssociation::check_deferred_reset() {
  if (auto streams = resetter_.take_due_incoming(tracker_.cumulative())) reset_incoming(*streams);
}

void SctpAssociation::reset_incoming(const std::vector<std::uint16_t>& streams) {
  reassembly_.reset_streams(streams, events_);
}

void SctpAssociation::recycle_buffer(Buffer buffer) {
  reassembly_.recycle_buffer(std::move(buffer));
}

void SctpAssociation::handle_reset_response(const ReconfigResponse& response, Timestamp now) {
  auto outcome = resetter_.on_response(response, now, rto_.rto());
  switch (outcome.kind) {
    case StreamResetter::Outcome::kNone:
      return;
    case StreamResetter::Outcome::kPerformed:
      error_count_ = 0;
      for (const std::uint16_t s : outcome.streams) {
        send_queue_.reset_sequences(StreamId(s));
        rtx_.stream_reset(StreamId(s), outcome.last_tsn);
      }
      events_.push_back(SctpStreamsReset{std::move(outcome.streams), false});
      return;
    case StreamResetter::Outcome::kFailed:
      events_.push_back(SctpStreamResetFailed{std::move(outcome.streams)});
      return;
  }
}

// --- Heartbeats (RFC 9260 8.3) -------------------------------------------------------------

void SctpAssociation::arm_heartbeat(Timestamp now) {
  if (!heartbeat_.enabled() || state_ != State::kEstablished) {
    heartbeat_.stop();
    return;
  }
  heartbeat_.arm(now, rto_.rto(), rtx_.next_tsn(), *rng_);
}

void SctpAssociation::on_heartbeat_timer(Timestamp now) {
  heartbeat_.stop();
  if (state_ != State::kEstablished) return;
  if (heartbeat_.take_unanswered()) {
    // Unanswered within the period: one more error, and the RTO backs off as on T3 expiry.
    if (++error_count_ > config_.max_retransmissions) {
      fail("SCTP peer stopped answering heartbeats");
      return;
    }
    rto_.back_off();
  }
  if (heartbeat_.path_idle(rtx_.next_tsn())) {
    const auto info = heartbeat_.make_heartbeat(now, *rng_);
    send_control(chunk_type::kHeartbeat, 0, info, peer_tag_);
  }
  arm_heartbeat(now);
}

void SctpAssociation::handle_heartbeat_ack(const ChunkView& chunk, Timestamp now) {
  // RFC 9260 8.3: the ACK clears the error count and gives an RTT measurement.
  if (const auto rtt = heartbeat_.on_ack(chunk.value, now)) {
    error_count_ = 0;
    rto_.observe_rtt(*rtt);
  }
}

// --- Time --------------------------------------------------------------------------------

void SctpAssociation::handle_timeout(Timestamp now) {
  last_now_ = std::max(last_now_, now);
  if (handshake_.t1().expired(now)) {
    // RFC 9260 5.1.6 T1-init / T1-cookie: retransmit with back-off, give up after a while.
    const Buffer* packet = handshake_.on_t1_expiry(now, config_.max_init_retransmits,
                                                   config_.rto_initial, config_.init_rto_max);
    if (packet == nullptr) {
      fail("SCTP association setup timed out");
      return;
    }
    outgoing_.push_back(*packet);
    ++packets_sent_;
  }
  if (t3_rtx_.expired(now)) {
    // RFC 9260 6.3.3: T3-rtx expiry.
    if (++error_count_ > config_.max_retransmissions) {
      fail("SCTP peer stopped acknowledging");
      return;
    }
    ++t3_expiries_;
    rto_.back_off();
    cc_.on_t3_expiry();
    rtx_.on_t3_expiry(now, send_queue_);
    // RFC 3758 3.5 A5: the FORWARD-TSN is retransmitted on T3 expiry as well.
    if (partial_reliability()) rtx_.update_forward_tsn();
    t3_rtx_.start(now, rto_.rto());
    cc_.refill_burst();
    flush(now);
  }
  if (loss_timer_.expired(now)) {
    loss_timer_.stop();
    if (rtx_.detect_losses(now, loss_delay(), 0, send_queue_)) on_loss_detected(now);
    if (auto deadline = rtx_.loss_deadline()) loss_timer_.start_at(*deadline);
  }
  if (probe_timer_.expired(now)) {
    probe_timer_.stop();
    // RFC 8985 7.3: the flight's tail went unanswered for the probe timeout; sending its last
    // chunk again, with the I bit, makes the peer report what it holds at once (lost DATA or
    // lost SACKs alike), where T3-rtx would wait out its longer timeout and then collapse
    // the window.
    if (state_ >= State::kEstablished && rtx_.mark_probe()) {
      ++probes_unanswered_;
      probe_immediate_ = true;
      ++tail_loss_probes_;
      cc_.allow_probe();
      flush(now);
    }
  }
  if (tracker_.delayed_sack_timer().expired(now)) {
    tracker_.schedule_sack();
    flush(now);
  }
  if (heartbeat_.timer().expired(now)) {
    on_heartbeat_timer(now);
    if (state_ == State::kClosed) return;
  }
  if (resetter_.timer().expired(now) && (state_ == State::kClosed || !resetter_.outstanding())) {
    resetter_.stop();
  }
  if (resetter_.timer().expired(now)) {
    // RFC 6525 5.1.1: the request is retransmitted on its own timer, backed off, and counts
    // against Association.Max.Retrans.
    if (++error_count_ > config_.max_retransmissions) {
      fail("SCTP peer stopped answering a stream reset");
      return;
    }
    send_reset_request();
  }
  if (t2_shutdown_.expired(now)) {
    if (++error_count_ > config_.max_retransmissions) {
      fail("SCTP shutdown timed out");
      return;
    }
    if (state_ == State::kShutdownSent) {
      std::uint8_t cum[4];
      store_be32(cum, tracker_.cumulative().wire());
      send_control(chunk_type::kShutdown, 0, BytesView(cum, 4), peer_tag_);
    } else if (state_ == State::kShutdownAckSent) {
      send_control(chunk_type::kShutdownAck, 0, {}, peer_tag_);
    }
    t2_shutdown_.start(now, rto_.rto());
  }
}

std::optional<Timestamp> SctpAssociation::next_timeout() const {
  return earliest_deadline(handshake_.t1(), t2_shutdown_, t3_rtx_, loss_timer_, probe_timer_,
                           tracker_.delayed_sack_timer(), resetter_.timer(), heartbeat_.timer());
}

Duration SctpAssociation::loss_delay() const noexcept {
  const auto srtt = rto_.srtt();
  if (!srtt) return Duration::infinite();
  // RFC 8985 6.2.1: a quarter of the round trip for reordering; at least a millisecond, for
  // timer granularity on a loopback-fast path.
  return *srtt + std::max(*srtt / 4, Duration::millis(1));
}

void SctpAssociation::arm_probe(Timestamp now) {
  const auto srtt = rto_.srtt();
  if (rtx_.empty() || !srtt) {
    probe_timer_.stop();
    return;
  }
  // RFC 8985 7.2: PTO = 2 SRTT; the floor covers timer granularity. The peer's delayed SACK
  // is not added: the flight's last DATA carries the I bit (RFC 7053). A probe can be lost
  // too: further ones follow at doubling intervals until T3-rtx is due, each a single packet
  // where T3-rtx would collapse the window.
  const Duration pto = Timer::backed_off(std::max(*srtt * 2, Duration::millis(10)),
                                         probes_unanswered_, Duration::infinite());
  if (const auto t3 = t3_rtx_.deadline(); t3 && *t3 <= now + pto) {
    probe_timer_.stop();
    return;
  }
  probe_timer_.start(now, pto);
}

void SctpAssociation::on_loss_detected(Timestamp now) {
  cc_.on_fast_retransmit(rtx_.next_tsn().prev());
  flush(now);
}

std::optional<SctpEvent> SctpAssociation::poll_event() {
  if (events_.empty()) return std::nullopt;
  SctpEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace rtcpp::sctp
