#include "sctp/association.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"

namespace rtcpp::sctp {
namespace {

constexpr std::uint8_t kCookieVersion = 3;
constexpr std::size_t kCookieBodySize = 1 + 4 * 7 + 2 * 2 + 1 + 8;
constexpr std::size_t kCookieSize = kCookieBodySize + 32;
constexpr Duration kCookieLifetime = Duration::seconds(60);
// ABORT/SHUTDOWN COMPLETE T bit: the tag is the receiver's own (RFC 9260 3.3.7).
constexpr std::uint8_t kFlagT = 0x01;

// Extension bits kept in the state cookie: what the peer's INIT advertised.
constexpr std::uint8_t kExtForwardTsn = 0x01;
constexpr std::uint8_t kExtReconfig = 0x02;
constexpr std::uint8_t kExtIData = 0x04;
constexpr std::uint8_t kExtIForwardTsn = 0x08;
constexpr std::uint8_t kExtZeroChecksum = 0x10;
// Streams in one Outgoing SSN Reset Request we send (the rest wait for the next request).
constexpr std::size_t kMaxStreamsPerRequest = 256;
// Distinct streams reported in one FORWARD-TSN (4 bytes each) or I-FORWARD-TSN (8 bytes
// each, ordered and unordered apart): it must fit a packet beside a SACK.
constexpr std::size_t kMaxForwardTsnStreams = 128;
constexpr std::size_t kMaxIForwardTsnStreams = 64;
// Idle buffers kept for reuse (message slots, reassembly buffers).
constexpr std::size_t kMaxSpareBuffers = 16;
// Capacity kept in free message slots: about a receive window's worth of messages in flight.
constexpr std::size_t kMaxSpareSlotBytes = 1024 * 1024;

// Keeps a map node taken out with extract() for reuse, a few at most.
template <typename Node>
void keep_spare(std::vector<Node>& spares, Node node) {
  if (spares.size() < kMaxSpareBuffers) spares.push_back(std::move(node));
}

// Storage for the INIT / INIT ACK parameter values add_extension_parameters points to.
struct ExtensionValues {
  std::array<std::uint8_t, 4> chunks{};
  std::array<std::uint8_t, 4> edmid{};
};

void add_extension_parameters(InitChunk& init, const SctpConfig& config, ExtensionValues& v) {
  if (config.partial_reliability)  // RFC 3758 3.3.1
    init.parameters.push_back({param_type::kForwardTsnSupported, {}});
  // RFC 5061 4.2.7 Supported Extensions: the chunk types we understand beyond RFC 9260.
  std::size_t n = 0;
  if (config.partial_reliability) v.chunks[n++] = chunk_type::kForwardTsn;
  if (config.stream_reset) v.chunks[n++] = chunk_type::kReConfig;
  if (config.interleaving) {
    v.chunks[n++] = chunk_type::kIData;  // RFC 8260 2.2.1
    // RFC 8260 2.3.1: partial reliability over I-DATA takes I-FORWARD-TSN.
    if (config.partial_reliability) v.chunks[n++] = chunk_type::kIForwardTsn;
  }
  if (n > 0)
    init.parameters.push_back({param_type::kSupportedExtensions, BytesView(v.chunks.data(), n)});
  if (config.zero_checksum) {  // RFC 9653 5.1
    store_be32(v.edmid.data(), kEdmidSctpOverDtls);
    init.parameters.push_back({param_type::kZeroChecksumAcceptable, v.edmid});
  }
}

std::uint8_t peer_extensions(const InitChunk& init) {
  std::uint8_t ext = 0;
  if (init.find(param_type::kForwardTsnSupported) != nullptr) ext |= kExtForwardTsn;
  if (const Parameter* p = init.find(param_type::kSupportedExtensions)) {
    for (const std::uint8_t type : p->value) {
      if (type == chunk_type::kForwardTsn) ext |= kExtForwardTsn;
      if (type == chunk_type::kReConfig) ext |= kExtReconfig;
      if (type == chunk_type::kIData) ext |= kExtIData;
      if (type == chunk_type::kIForwardTsn) ext |= kExtIForwardTsn;
    }
  }
  // RFC 9653 5.1: only a method we use ourselves counts (ours is DTLS).
  if (const Parameter* p = init.find(param_type::kZeroChecksumAcceptable)) {
    if (parse_zero_checksum_acceptable(*p) == kEdmidSctpOverDtls) ext |= kExtZeroChecksum;
  }
  return ext;
}

void hmac_sha256(const std::array<std::uint8_t, 32>& key, BytesView data, std::uint8_t* out) {
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out,
       &length);
}

}  // namespace

SctpAssociation::SctpAssociation(SctpConfig config, Random& rng)
    : config_(config),
      rng_(&rng),
      local_tag_(0),
      next_tsn_(0),
      cumulative_acked_(0),
      cwnd_(0),
      ssthresh_(0),
      rto_(config.rto_initial) {
  // RFC 9260 5.1: a random non-zero tag and a random initial TSN.
  do {
    local_tag_ = rng_->next_u32();
  } while (local_tag_ == 0);
  start_tsns(rng_->next_u32());
  rng_->fill(cookie_secret_);
  next_ssn_out_.reset(config_.streams);
}

void SctpAssociation::start_tsns(std::uint32_t initial_tsn) {
  // Keep the 64-bit TSN space far from zero so that "before the first TSN" is representable.
  next_tsn_ = (std::uint64_t{1} << 32) + initial_tsn;
  cumulative_acked_ = next_tsn_ - 1;
  // RFC 6525 5.1.1: request sequence numbers start at the initial TSN.
  next_reconfig_sequence_ = initial_tsn;
  advanced_ack_point_ = cumulative_acked_;
}

// --- Handshake ---------------------------------------------------------------------------

void SctpAssociation::connect(Timestamp now) {
  last_now_ = now;
  if (state_ != State::kClosed) return;
  state_ = State::kCookieWait;
  send_init(now);
}

void SctpAssociation::send_init(Timestamp now) {
  InitChunk init;
  init.initiate_tag = local_tag_;
  init.a_rwnd = config_.receive_window;
  init.outbound_streams = config_.streams;
  init.inbound_streams = config_.streams;
  init.initial_tsn = static_cast<std::uint32_t>(next_tsn_);
  ExtensionValues values;
  add_extension_parameters(init, config_, values);
  Buffer packet;
  PacketBuilder b(packet, {config_.local_port, config_.remote_port, 0}, config_.mtu);
  init.write_to(b, chunk_type::kInit);
  b.finish();  // RFC 9653 5.2: a packet with an INIT always carries the CRC32c
  init_packet_ = packet;
  outgoing_.push_back(std::move(packet));
  ++packets_sent_;
  t1_count_ = 0;
  t1_at_ = now + config_.rto_initial;
}

Buffer SctpAssociation::make_cookie(const CookieContents& contents) const {
  const InitChunk& peer = contents.peer;
  Buffer cookie;
  ByteWriter w(cookie);
  w.write_u8(kCookieVersion);
  w.write_u32(peer.initiate_tag);
  w.write_u32(contents.our_tag);
  w.write_u32(peer.initial_tsn);
  w.write_u32(contents.our_initial_tsn);
  w.write_u32(contents.local_tie_tag);
  w.write_u32(contents.peer_tie_tag);
  w.write_u32(peer.a_rwnd);
  w.write_u16(peer.outbound_streams);
  w.write_u16(peer.inbound_streams);
  w.write_u8(contents.extensions);
  w.write_u64(static_cast<std::uint64_t>(cookie_time_.us()));
  std::uint8_t mac[32];
  hmac_sha256(cookie_secret_, cookie.view(), mac);
  w.write_bytes(BytesView(mac, 32));
  return cookie;
}

std::optional<SctpAssociation::CookieContents> SctpAssociation::open_cookie(BytesView cookie,
                                                                            Timestamp now) const {
  if (cookie.size() != kCookieSize || cookie[0] != kCookieVersion) return std::nullopt;
  std::uint8_t mac[32];
  hmac_sha256(cookie_secret_, cookie.first(kCookieBodySize), mac);
  if (CRYPTO_memcmp(mac, cookie.data() + kCookieBodySize, 32) != 0) return std::nullopt;
  ByteReader r(cookie.subspan(1));
  CookieContents contents;
  contents.peer.initiate_tag = *r.read_u32();
  contents.our_tag = *r.read_u32();
  contents.peer.initial_tsn = *r.read_u32();
  contents.our_initial_tsn = *r.read_u32();
  contents.local_tie_tag = *r.read_u32();
  contents.peer_tie_tag = *r.read_u32();
  contents.peer.a_rwnd = *r.read_u32();
  contents.peer.outbound_streams = *r.read_u16();
  contents.peer.inbound_streams = *r.read_u16();
  contents.extensions = *r.read_u8();
  const auto created = Timestamp::micros(static_cast<std::int64_t>(*r.read_u64()));
  // RFC 9260 5.1.5: a stale cookie is refused.
  if (now - created > kCookieLifetime) return std::nullopt;
  return contents;
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
  contents.extensions = peer_extensions(*init);
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
    contents.our_initial_tsn = static_cast<std::uint32_t>(next_tsn_);
  }
  cookie_time_ = now;
  InitChunk ack;
  ack.initiate_tag = contents.our_tag;
  ack.a_rwnd = config_.receive_window;
  ack.outbound_streams = config_.streams;
  ack.inbound_streams = config_.streams;
  ack.initial_tsn = contents.our_initial_tsn;
  const Buffer cookie = make_cookie(contents);
  ack.parameters.push_back({param_type::kStateCookie, cookie});
  ExtensionValues values;
  add_extension_parameters(ack, config_, values);
  Buffer packet;
  PacketBuilder b(packet, {config_.local_port, config_.remote_port, init->initiate_tag},
                  config_.mtu);
  ack.write_to(b, chunk_type::kInitAck);
  b.finish();
  outgoing_.push_back(std::move(packet));
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
  apply_peer_extensions(peer_extensions(*ack));
  Buffer packet;
  PacketBuilder b(packet, {config_.local_port, config_.remote_port, peer_tag_}, config_.mtu);
  b.add_chunk(chunk_type::kCookieEcho, 0, cookie->value);
  b.finish();  // RFC 9653 5.2: so does one with a COOKIE ECHO
  cookie_echo_ = packet;
  outgoing_.push_back(std::move(packet));
  ++packets_sent_;
  state_ = State::kCookieEchoed;
  t1_count_ = 0;
  t1_at_ = now + rto_;
}

void SctpAssociation::handle_cookie_echo(const ChunkView& chunk, std::uint32_t verification_tag,
                                         Timestamp now) {
  auto cookie = open_cookie(chunk.value, now);
  // Forged, stale or not ours: silently discarded (RFC 9260 5.1.5); the packet must carry the
  // tag our INIT ACK gave (8.5.1).
  if (!cookie || verification_tag != cookie->our_tag) return;
  const bool local_match = cookie->our_tag == local_tag_;
  const bool peer_match = cookie->peer.initiate_tag == peer_tag_;
  if (state_ >= State::kEstablished) {
    if (local_match && peer_match) {
      // A retransmitted COOKIE ECHO: our COOKIE ACK was lost (RFC 9260 5.2.4 case D).
      send_control(chunk_type::kCookieAck, 0, {}, peer_tag_);
      flush(now);
    } else if (!local_match && !peer_match && cookie->local_tie_tag == local_tag_ &&
               cookie->peer_tie_tag == peer_tag_ && state_ == State::kEstablished) {
      restart(*cookie, now);  // 5.2.4 case A
    }
    // Otherwise a late or replayed cookie (cases B and C), or a restart while shutting down:
    // discarded, the association stays as it is.
    return;
  }
  if (!local_match) return;
  if (state_ == State::kCookieEchoed && !peer_match) return;
  accept_cookie(*cookie, now, std::nullopt);
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
  std::size_t dropped = 0;
  for (const auto& [stream, queue] : stream_queues_) dropped += queue.size();
  std::uint64_t last_id = 0;
  for (const InFlight& c : in_flight_) {
    if (!c.released && !c.abandoned && c.message_id != last_id) ++dropped;
    last_id = c.message_id;
  }
  SctpAssociation fresh(config_, *rng_);
  fresh.cookie_secret_ = cookie_secret_;
  fresh.cookie_time_ = cookie_time_;
  fresh.local_tag_ = cookie.our_tag;
  fresh.start_tsns(cookie.our_initial_tsn);
  fresh.events_ = std::move(events_);
  fresh.received_ = std::move(received_);  // handle_packet is still reading its chunk list
  fresh.last_now_ = last_now_;
  fresh.retransmissions_ = retransmissions_;
  fresh.packets_sent_ = packets_sent_;
  fresh.abandoned_messages_ = abandoned_messages_;
  fresh.forward_tsns_sent_ = forward_tsns_sent_;
  fresh.reconfig_requests_sent_ = reconfig_requests_sent_;
  fresh.heartbeats_sent_ = heartbeats_sent_;
  *this = std::move(fresh);
  accept_cookie(cookie, now, dropped);
}

void SctpAssociation::apply_peer_extensions(std::uint8_t ext) {
  peer_forward_tsn_ = (ext & kExtForwardTsn) != 0;
  peer_reconfig_ = (ext & kExtReconfig) != 0;
  peer_idata_ = (ext & kExtIData) != 0;
  peer_iforward_ = (ext & kExtIForwardTsn) != 0;
  peer_zero_checksum_ = (ext & kExtZeroChecksum) != 0;
}

void SctpAssociation::established(Timestamp now, std::optional<std::size_t> restart_dropped) {
  state_ = State::kEstablished;
  t1_at_.reset();
  cookie_echo_.clear();
  init_packet_.clear();
  // Receive side starts just below the peer's initial TSN, in a 64-bit space kept far
  // from zero so that unwrapping never underflows.
  peer_cumulative_ = (std::uint64_t{1} << 32) + static_cast<std::uint32_t>(peer_initial_tsn_ - 1);
  next_ssn_in_.reset(std::min<std::size_t>(config_.streams, peer_outbound_streams_));
  peer_next_reconfig_sequence_ = peer_initial_tsn_;  // RFC 6525 5.1.1
  // RFC 9260 7.2.1: initial cwnd and ssthresh.
  cwnd_ = std::min<std::size_t>(4 * config_.mtu, std::max<std::size_t>(2 * config_.mtu, 4404));
  ssthresh_ = peer_rwnd_;
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
          t2_at_.reset();
          events_.push_back(SctpClosed{});
        }
        break;
      case chunk_type::kShutdownComplete:
        if (state_ == State::kShutdownAckSent) {
          state_ = State::kClosed;
          accepts_init_ = false;
          t2_at_.reset();
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
  if (had_data) {
    ++packets_since_sack_;
    if (sack_now_ || packets_since_sack_ >= 2) {
      send_sack(now);
    } else if (!sack_at_) {
      sack_at_ = now + config_.delayed_ack;
    }
  }
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
  if (data->immediate) sack_now_ = true;
  const auto tsn = receive_tsn(data->tsn, data->stream_id, data->payload.size());
  if (!tsn) return;
  reassembly_bytes_ += data->payload.size();
  // A fragment that continues the message held just below it joins that node's buffer: in
  // order, each message is built in one buffer (RFC 9260 6.9: a message's fragments have
  // consecutive TSNs), with no allocation per packet.
  if (!data->beginning) {
    auto below = reassembly_.lower_bound(*tsn);
    if (below != reassembly_.begin()) {
      --below;
      Fragment& held = below->second;
      if (held.last_tsn + 1 == *tsn && !held.end && held.stream == data->stream_id &&
          held.ssn == data->stream_sequence && held.unordered == data->unordered) {
        held.payload.append(data->payload);
        held.last_tsn = *tsn;
        held.end = data->end;
        try_complete(below->first);
        return;
      }
    }
  }
  Fragment fragment{data->stream_id, data->stream_sequence, data->ppid, data->beginning,
                    data->end,       data->unordered,       *tsn,       {}};
  if (spare_fragments_.empty()) {
    fragment.payload = take_buffer();
    fragment.payload.assign(data->payload);
    reassembly_.emplace(*tsn, std::move(fragment));
  } else {
    auto node = std::move(spare_fragments_.back());
    spare_fragments_.pop_back();
    node.key() = *tsn;
    fragment.payload = take_buffer();
    fragment.payload.assign(data->payload);
    node.mapped() = std::move(fragment);
    reassembly_.insert(std::move(node));
  }
  try_complete(*tsn);
}

std::map<std::uint64_t, SctpAssociation::Fragment>::iterator SctpAssociation::erase_fragment(
    std::map<std::uint64_t, Fragment>::iterator it) {
  auto next = std::next(it);
  recycle_buffer(std::move(it->second.payload));
  keep_spare(spare_fragments_, reassembly_.extract(it));
  return next;
}

std::optional<std::uint64_t> SctpAssociation::receive_tsn(std::uint32_t wire_tsn,
                                                          std::uint16_t stream_id,
                                                          std::size_t size) {
  const std::uint64_t tsn = unwrap_peer_tsn(wire_tsn);
  // Duplicates (RFC 9260 6.2): report them and acknowledge at once.
  if (tsn <= peer_cumulative_ ||
      std::binary_search(received_above_.begin(), received_above_.end(), tsn)) {
    if (duplicates_.size() < 64) duplicates_.push_back(wire_tsn);
    sack_now_ = true;
    return std::nullopt;
  }
  if (stream_id >= next_ssn_in_.size()) {
    // RFC 9260 6.5: an invalid stream id; we acknowledge the TSN but drop the data.
    mark_received(tsn);
    return std::nullopt;
  }
  if (!admit(tsn, size)) return std::nullopt;
  mark_received(tsn);
  if (tsn != peer_cumulative_ || !received_above_.empty()) sack_now_ = true;  // a gap
  return tsn;
}

std::uint64_t SctpAssociation::unwrap_peer_tsn(std::uint32_t tsn) const {
  // Nearest 64-bit value to the cumulative TSN with these low 32 bits.
  const auto base32 = static_cast<std::uint32_t>(peer_cumulative_);
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(peer_cumulative_) +
                                    serial_distance(base32, tsn));
}

void SctpAssociation::mark_received(std::uint64_t tsn) {
  if (tsn == peer_cumulative_ + 1) {
    peer_cumulative_ = tsn;
    auto it = received_above_.begin();
    while (it != received_above_.end() && *it == peer_cumulative_ + 1) {
      peer_cumulative_ = *it;
      ++it;
    }
    received_above_.erase(received_above_.begin(), it);
    return;
  }
  received_above_.insert(std::upper_bound(received_above_.begin(), received_above_.end(), tsn),
                         tsn);
}

void SctpAssociation::try_complete(std::uint64_t tsn) {
  // Find the message around `tsn`: DATA fragments of one message have consecutive TSNs.
  auto it = reassembly_.find(tsn);
  const Fragment& f = it->second;
  auto first = it;
  while (!first->second.beginning) {
    if (first == reassembly_.begin()) return;
    auto prev = std::prev(first);
    if (prev->second.last_tsn != first->first - 1 || prev->second.stream != f.stream ||
        prev->second.ssn != f.ssn || prev->second.unordered != f.unordered || prev->second.end)
      return;
    first = prev;
  }
  auto last = it;
  std::size_t size = 0;
  for (auto k = first;; ++k) {
    size += k->second.payload.size();
    if (k->second.end) {
      last = k;
      break;
    }
    auto next = std::next(k);
    if (next == reassembly_.end() || next->first != k->second.last_tsn + 1 ||
        next->second.stream != f.stream || next->second.ssn != f.ssn || next->second.beginning)
      return;
    if (size > config_.max_message_size) {
      abort("incoming message larger than max-message-size");
      return;
    }
  }
  if (size > config_.max_message_size) {
    abort("incoming message larger than max-message-size");
    return;
  }
  const std::uint16_t stream = f.stream;
  const std::uint16_t ssn = f.ssn;
  if (f.unordered) {
    deliver(first, last);
    return;
  }
  if (ssn == next_ssn_in_[stream]) {
    // Its turn already (the usual case): delivered without queueing.
    ++next_ssn_in_[stream];
    deliver(first, last);
    if (complete_ordered_.count(stream) != 0) deliver_ready(stream);
    return;
  }
  complete_ordered_[stream][ssn] = first->first;
}

void SctpAssociation::deliver(std::map<std::uint64_t, Fragment>::iterator first,
                              std::map<std::uint64_t, Fragment>::iterator last) {
  SctpMessage msg;
  msg.stream = first->second.stream;
  msg.ppid = first->second.ppid;
  if (first == last) {
    msg.data = std::move(first->second.payload);
  } else {
    // Only after loss or reordering: the message's bytes are in several nodes.
    std::size_t size = 0;
    for (auto k = first;; ++k) {
      size += k->second.payload.size();
      if (k == last) break;
    }
    msg.data = take_buffer();
    msg.data.reserve(size);
    for (auto k = first;; ++k) {
      msg.data.append(k->second.payload);
      if (k == last) break;
    }
  }
  reassembly_bytes_ -= msg.data.size();
  for (auto k = first, end = std::next(last); k != end;) k = erase_fragment(k);
  events_.push_back(std::move(msg));
}

void SctpAssociation::deliver_ready(std::uint16_t stream) {
  auto& ready = complete_ordered_[stream];
  while (true) {
    auto it = ready.find(next_ssn_in_[stream]);
    if (it == ready.end()) break;
    auto first = reassembly_.find(it->second);
    auto last = first;
    while (!last->second.end) ++last;
    ready.erase(it);
    ++next_ssn_in_[stream];
    deliver(first, last);
  }
  if (ready.empty()) complete_ordered_.erase(stream);
}

bool SctpAssociation::admit(std::uint64_t tsn, std::size_t size) {
  // Fragments held count against the window by their bytes, and by their number so that
  // tiny chunks cannot multiply the memory behind each byte.
  const std::size_t held = reassembly_.size() + held_messages_;
  const std::size_t fragment_limit = std::max<std::size_t>(1024, config_.receive_window / 64);
  if (reassembly_bytes_ + size <= config_.receive_window && held < fragment_limit) return true;
  // Beyond the window only the next in-order TSN is taken, so that the window can drain;
  // others are dropped unacknowledged and come again (RFC 9260 6.2).
  if (tsn != peer_cumulative_ + 1) return false;
  // A peer within the window we advertise never gets this far past it: one that does would
  // grow our memory without bound (in-order fragments of messages that never complete).
  if (reassembly_bytes_ + size > config_.receive_window + config_.max_message_size ||
      held >= 2 * fragment_limit) {
    abort_with(error_cause::kOutOfResource, "SCTP peer overran the receive window");
    return false;
  }
  return true;
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
  if (data->immediate) sack_now_ = true;  // RFC 9260 6.2, RFC 8260 2.1: the I bit
  const std::uint32_t fsn = data->fsn();
  const std::size_t size = data->payload.size();
  // Every fragment carries a byte at least, so an FSN past max-message-size means a message
  // past it; FSN 0 belongs to the first fragment alone (a later one wrapping round to 0,
  // RFC 8260 2.1, would be far past the limit too).
  if (fsn > config_.max_message_size || (!data->beginning && fsn == 0)) {
    abort_with(error_cause::kProtocolViolation, "I-DATA fragment beyond max-message-size");
    return;
  }
  if (!receive_tsn(data->tsn, data->stream_id, size)) return;
  InStream& in = in_streams_[data->stream_id];
  const std::uint32_t mid = data->message_id;
  // A fragment of a message already delivered, or abandoned by an I-FORWARD-TSN that passed
  // it on the way (its message's other fragments straddle the new cumulative TSN): dropped.
  if (data->unordered) {
    if (in.unordered_skipped) {
      if (serial_less_equal(mid, *in.unordered_skipped)) return;
      // Far past the mark, the MIDs have moved on: forget it before it wraps round.
      if (serial_distance(*in.unordered_skipped, mid) >= (std::int64_t{1} << 30))
        in.unordered_skipped.reset();
    }
  } else if (serial_less(mid, in.next_mid) || in.ready.count(mid) != 0) {
    return;
  }
  const MessageKey key{data->stream_id, data->unordered, mid};
  auto it = partial_messages_.find(key);
  if (it == partial_messages_.end() && data->beginning && data->end) {
    // A whole message in one chunk.
    SctpMessage msg{data->stream_id, data->ppid_or_fsn, take_buffer()};
    msg.data.assign(data->payload);
    if (data->unordered || mid == in.next_mid) {
      events_.push_back(std::move(msg));
      if (!data->unordered) {
        ++in.next_mid;
        deliver_in_order(in);
      }
    } else {
      reassembly_bytes_ += size;
      ++held_messages_;
      in.ready.emplace(mid, std::move(msg));
    }
    return;
  }
  if (it == partial_messages_.end()) it = new_partial(key);
  PartialMessage& p = it->second;
  // The same fragment again, under another TSN.
  if (fsn < p.next_fsn || p.ahead.count(fsn) != 0) return;
  const bool after_end = p.last_fsn && fsn > *p.last_fsn;
  const bool second_end = data->end && p.last_fsn;
  const bool end_too_early = data->end && p.fragments > 0 && p.highest_fsn > fsn;
  if (after_end || second_end || end_too_early) {
    abort_with(error_cause::kProtocolViolation, "I-DATA fragments disagree on their message's end");
    return;
  }
  if (p.bytes + size > config_.max_message_size) {
    abort("incoming message larger than max-message-size");
    return;
  }
  if (data->beginning) p.ppid = data->ppid_or_fsn;
  if (data->end) p.last_fsn = fsn;
  p.bytes += size;
  p.highest_fsn = std::max(p.highest_fsn, fsn);
  ++p.fragments;
  if (fsn == p.next_fsn) {
    // In order (the usual case): straight into the message, and whatever it was waiting for.
    p.data.append(data->payload);
    ++p.next_fsn;
    for (auto next = p.ahead.begin(); next != p.ahead.end() && next->first == p.next_fsn;
         next = p.ahead.erase(next)) {
      p.data.append(next->second);
      ++p.next_fsn;
    }
  } else {
    p.ahead.emplace(fsn, Buffer(data->payload));
  }
  reassembly_bytes_ += size;
  ++held_messages_;
  // FSNs run from 0 to the last one without a hole (RFC 8260 2.1).
  if (p.last_fsn && p.fragments == std::size_t{*p.last_fsn} + 1) complete_message(it);
}

std::map<SctpAssociation::MessageKey, SctpAssociation::PartialMessage>::iterator
SctpAssociation::new_partial(const MessageKey& key) {
  // The node of the last message completed is reused (a map node per message otherwise).
  if (spare_partials_.empty()) {
    auto it = partial_messages_.emplace(key, PartialMessage{}).first;
    it->second.data = take_buffer();
    return it;
  }
  auto node = std::move(spare_partials_.back());
  spare_partials_.pop_back();
  node.key() = key;
  PartialMessage& p = node.mapped();
  p.next_fsn = 0;
  p.ahead.clear();
  p.ppid = 0;
  p.last_fsn.reset();
  p.highest_fsn = 0;
  p.fragments = 0;
  p.bytes = 0;
  if (p.data.capacity() == 0) p.data = take_buffer();
  p.data.clear();
  return partial_messages_.insert(std::move(node)).position;
}

void SctpAssociation::complete_message(std::map<MessageKey, PartialMessage>::iterator it) {
  const MessageKey key = it->first;
  PartialMessage& p = it->second;
  SctpMessage msg;
  msg.stream = key.stream;
  msg.ppid = p.ppid;
  // Every fragment is in data: all FSNs up to the last one are in, and ahead is drained
  // whenever data reaches its first entry.
  msg.data = std::move(p.data);
  held_messages_ -= p.fragments;
  keep_spare(spare_partials_, partial_messages_.extract(it));
  InStream& in = in_streams_[key.stream];
  if (!key.unordered && key.mid != in.next_mid) {
    ++held_messages_;  // its bytes stay counted until it is delivered
    in.ready.emplace(key.mid, std::move(msg));
    return;
  }
  reassembly_bytes_ -= msg.data.size();
  events_.push_back(std::move(msg));
  if (!key.unordered) {
    ++in.next_mid;
    deliver_in_order(in);
  }
}

void SctpAssociation::deliver_in_order(InStream& in) {
  for (auto it = in.ready.find(in.next_mid); it != in.ready.end();
       it = in.ready.find(in.next_mid)) {
    reassembly_bytes_ -= it->second.data.size();
    --held_messages_;
    events_.push_back(std::move(it->second));
    in.ready.erase(it);
    ++in.next_mid;
  }
}

void SctpAssociation::drop_partial(std::map<MessageKey, PartialMessage>::iterator it) {
  reassembly_bytes_ -= it->second.bytes;
  held_messages_ -= it->second.fragments;
  recycle_buffer(std::move(it->second.data));
  keep_spare(spare_partials_, partial_messages_.extract(it));
}

void SctpAssociation::handle_sack(const ChunkView& chunk, Timestamp now) {
  auto sack = SackChunk::parse(chunk);
  if (!sack) return;
  const auto base32 = static_cast<std::uint32_t>(cumulative_acked_);
  const std::int64_t advance = serial_distance(base32, sack->cumulative_tsn_ack);
  if (advance < 0) return;  // an old SACK, out of order
  const std::uint64_t cum = cumulative_acked_ + static_cast<std::uint64_t>(advance);
  if (cum >= next_tsn_) return;  // acknowledges data never sent: ignore it
  std::size_t bytes_acked = 0;
  std::optional<Duration> rtt;
  // Cumulative acknowledgement.
  while (!in_flight_.empty() && in_flight_.front().tsn <= cum) {
    InFlight& c = in_flight_.front();
    if (!c.acked && !c.abandoned) {
      bytes_acked += c.length;
      if (!c.needs_retransmit) flight_size_ -= c.length;
      if (c.transmissions == 1) rtt = now - c.sent_at;  // Karn: only unambiguous samples
    }
    set_needs_retransmit(c, false);
    release(c);
    in_flight_.pop_front();
  }
  const bool cum_advanced = cum > cumulative_acked_;
  cumulative_acked_ = cum;
  if (cum_advanced && !reset_last_tsn_.empty())
    std::erase_if(reset_last_tsn_, [&](const auto& entry) { return entry.second <= cum; });
  // Gap blocks.
  std::uint64_t highest_newly_acked = 0;
  for (const auto& gap : sack->gap_blocks) {
    // Clamped to what we sent: a hostile SACK cannot make this loop long.
    const std::uint64_t last = std::min<std::uint64_t>(cum + gap.end, next_tsn_ - 1);
    for (std::uint64_t t = cum + gap.start; t <= last; ++t) {
      InFlight& c = in_flight_[t - cumulative_acked_ - 1];
      if (c.acked) continue;
      c.acked = true;
      if (c.abandoned) continue;  // already out of the flight and released
      bytes_acked += c.length;
      if (!c.needs_retransmit) flight_size_ -= c.length;
      set_needs_retransmit(c, false);
      if (c.transmissions == 1) rtt = now - c.sent_at;
      highest_newly_acked = std::max(highest_newly_acked, t);
    }
  }
  if (rtt) update_rto(*rtt);
  // RFC 9260 7.2.4: chunks below the highest newly acked TSN that are still missing get a
  // miss indication; the third one triggers a fast retransmit.
  if (highest_newly_acked != 0) {
    bool enter_recovery = false;
    for (auto& c : in_flight_) {
      if (c.tsn >= highest_newly_acked) break;
      if (c.acked || c.needs_retransmit || c.abandoned) continue;
      if (++c.miss_indications == 3) {
        c.miss_indications = 0;
        enter_recovery = true;
        // RFC 3758 3.5 A1-A2: a chunk out of retransmissions or lifetime is abandoned
        // rather than retransmitted.
        if (should_abandon(c, now)) {
          abandon_message(c.message_id, c.stream);
          continue;
        }
        set_needs_retransmit(c, true);
        flight_size_ -= c.length;
      }
    }
    if (enter_recovery && !fast_recovery_) {
      fast_recovery_ = true;
      recovery_exit_ = next_tsn_ - 1;
      ssthresh_ = std::max(cwnd_ / 2, 4 * config_.mtu);
      cwnd_ = ssthresh_;
      partial_bytes_acked_ = 0;
      fast_retransmit_pending_ = true;
    }
  }
  if (fast_recovery_ && cumulative_acked_ >= recovery_exit_) fast_recovery_ = false;
  // RFC 9260 7.2.1-7.2.2: grow cwnd on newly acknowledged data.
  if (cum_advanced && !fast_recovery_) {
    if (cwnd_ <= ssthresh_) {
      cwnd_ += std::min(bytes_acked, config_.mtu);
    } else {
      partial_bytes_acked_ += bytes_acked;
      if (partial_bytes_acked_ >= cwnd_) {
        partial_bytes_acked_ -= cwnd_;
        cwnd_ += config_.mtu;
      }
    }
  }
  burst_budget_ = config_.max_burst;
  // RFC 9260 6.2.1: the peer's window minus what is still in flight.
  peer_rwnd_ =
      sack->a_rwnd > flight_size_ ? static_cast<std::uint32_t>(sack->a_rwnd - flight_size_) : 0;
  // RFC 9260 8.3: any acknowledgement shows the peer alive, including one that only covers
  // abandoned chunks (after a FORWARD-TSN).
  if (bytes_acked > 0 || cum_advanced) error_count_ = 0;
  if (in_flight_.empty()) {
    t3_at_.reset();
  } else if (cum_advanced) {
    t3_at_ = now + rto_;
  }
  if (partial_reliability()) {
    // RFC 3758 3.5 C1-C3: move the Advanced.Peer.Ack.Point over abandoned chunks; while it
    // is ahead of what this SACK acknowledges, the peer still needs a FORWARD-TSN.
    advance_ack_point();
    if (advanced_ack_point_ > cumulative_acked_) forward_tsn_pending_ = true;
  }
}

bool SctpAssociation::should_abandon(const InFlight& c, Timestamp now) const {
  if (!partial_reliability()) return false;
  // max_retransmits N allows N + 1 transmissions in all.
  if (c.max_retransmits && c.transmissions > *c.max_retransmits) return true;
  return c.expires_at && now >= *c.expires_at;
}

void SctpAssociation::abandon_message(std::uint64_t id, std::uint16_t stream) {
  // RFC 3758 3.5 A3: all fragments of the message go, including those not sent yet.
  for (auto& c : in_flight_) {
    if (c.message_id != id || c.abandoned) continue;
    if (!c.acked && !c.needs_retransmit) flight_size_ -= c.length;
    c.abandoned = true;
    set_needs_retransmit(c, false);
    release(c);
  }
  // Only the message at the head of its stream's queue is ever partly sent.
  auto q = stream_queues_.find(stream);
  if (q != stream_queues_.end() && q->second.front().id == id) {
    release_bytes(stream, q->second.front().size - q->second.front().offset);
    pop_message(stream);
  }
  ++abandoned_messages_;
  advance_ack_point();
}

std::optional<std::uint32_t> SctpAssociation::skip_key(const InFlight& c) const {
  // Chunks of a sequence that a stream reset has since ended are covered by the peer's
  // cumulative TSN already; naming their SSN or MID would skip the new sequence instead.
  if (auto reset = reset_last_tsn_.find(c.stream);
      reset != reset_last_tsn_.end() && c.tsn <= reset->second)
    return std::nullopt;
  const bool unordered = (c.flags & DataChunk::kFlagUnordered) != 0;
  // RFC 8260 2.3.1: I-FORWARD-TSN names ordered and unordered messages apart.
  if (interleaving()) return (std::uint32_t{c.stream} << 1) | (unordered ? 1u : 0u);
  // RFC 3758 3.2: FORWARD-TSN names ordered streams only.
  if (unordered) return std::nullopt;
  return c.stream;
}

void SctpAssociation::advance_ack_point() {
  const std::uint64_t before = std::max(advanced_ack_point_, cumulative_acked_);
  const std::size_t limit = interleaving() ? kMaxIForwardTsnStreams : kMaxForwardTsnStreams;
  std::uint64_t point = before;
  std::set<std::uint32_t> streams;
  for (const auto& c : in_flight_) {
    if (c.tsn <= point) {
      if (auto key = skip_key(c); c.abandoned && key) streams.insert(*key);
      continue;
    }
    if (c.tsn != point + 1 || !c.abandoned) break;
    if (auto key = skip_key(c)) {
      streams.insert(*key);
      if (streams.size() > limit) break;  // the rest in a later FORWARD-TSN
    }
    point = c.tsn;
  }
  advanced_ack_point_ = point;
  if (point > before) forward_tsn_pending_ = true;
}

void SctpAssociation::write_forward_tsn(PacketBuilder& b) {
  ForwardTsnChunk f;
  f.new_cumulative_tsn = static_cast<std::uint32_t>(advanced_ack_point_);
  // RFC 3758 3.2 and RFC 8260 2.3.1: per stream (and U flag with I-DATA), the largest SSN or
  // MID skipped. Each stream's messages take their TSNs in order, so the last one seen.
  std::map<std::uint32_t, std::uint32_t> largest;
  for (const auto& c : in_flight_) {
    if (c.tsn > advanced_ack_point_) break;
    if (auto key = skip_key(c); c.abandoned && key) largest[*key] = c.sequence;
  }
  const bool interleaved = interleaving();
  for (const auto& [key, sequence] : largest) {
    if (interleaved) {
      f.skipped.push_back({static_cast<std::uint16_t>(key >> 1), (key & 1) != 0, sequence});
    } else {
      f.skipped.push_back({static_cast<std::uint16_t>(key), false, sequence});
    }
  }
  if (f.write_to(b, interleaved)) ++forward_tsns_sent_;
}

void SctpAssociation::set_needs_retransmit(InFlight& c, bool needed) {
  if (c.needs_retransmit == needed) return;
  c.needs_retransmit = needed;
  if (needed) {
    ++retransmits_waiting_;
  } else {
    --retransmits_waiting_;
  }
}

void SctpAssociation::release(InFlight& c) {
  if (c.released) return;
  c.released = true;
  release_bytes(c.stream, c.length);
  unref_slot(c.slot);
}

std::uint32_t SctpAssociation::take_slot(BytesView data) {
  // Slots that kept a buffer first, then ones that did not, then a new one.
  std::uint32_t slot = 0;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    spare_slot_bytes_ -= message_slots_[slot].data.capacity();
  } else if (!empty_slots_.empty()) {
    slot = empty_slots_.back();
    empty_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(message_slots_.size());
    message_slots_.emplace_back();
  }
  MessageSlot& s = message_slots_[slot];
  s.data.assign(data);
  s.references = 1;  // the send queue's
  return slot;
}

void SctpAssociation::unref_slot(std::uint32_t slot) {
  MessageSlot& s = message_slots_[slot];
  if (--s.references != 0) return;
  // Free slots keep their capacity for the next messages up to a bound; beyond it the memory
  // goes.
  if (spare_slot_bytes_ + s.data.capacity() <= kMaxSpareSlotBytes) {
    spare_slot_bytes_ += s.data.capacity();
    free_slots_.push_back(slot);
  } else {
    s.data = Buffer();
    empty_slots_.push_back(slot);
  }
}

BytesView SctpAssociation::payload_of(const InFlight& c) const {
  return message_slots_[c.slot].data.view().subspan(c.offset, c.length);
}

Buffer SctpAssociation::take_buffer() {
  if (spare_buffers_.empty()) return {};
  Buffer b = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  b.clear();
  return b;
}

void SctpAssociation::recycle_buffer(Buffer buffer) {
  if (buffer.capacity() == 0 || spare_buffers_.size() >= kMaxSpareBuffers) return;
  spare_buffers_.push_back(std::move(buffer));
}

void SctpAssociation::release_bytes(std::uint16_t stream, std::size_t n) {
  auto it = buffered_.find(stream);
  if (it != buffered_.end()) {
    it->second -= n;  // kept at zero: erasing and inserting again would allocate per message
  }
  buffered_total_ -= n;
}

void SctpAssociation::update_rto(Duration rtt) {
  // RFC 9260 6.3.1 with alpha 1/8 and beta 1/4.
  if (!srtt_) {
    srtt_ = rtt;
    rttvar_ = rtt / 2;
  } else {
    const Duration diff = *srtt_ > rtt ? *srtt_ - rtt : rtt - *srtt_;
    rttvar_ = (rttvar_ * 3 + diff) / 4;
    srtt_ = (*srtt_ * 7 + rtt) / 8;
  }
  // The variance term is at least the peer's delayed-SACK allowance: an acknowledgement can
  // take a round trip plus that delay, and a T3-rtx expiring inside it is spurious (it would
  // cut cwnd to one MTU for nothing on a low-latency path).
  const Duration variance = std::max(rttvar_ * 4, config_.peer_ack_delay);
  rto_ = std::clamp(*srtt_ + variance, config_.rto_min, config_.rto_max);
}

void SctpAssociation::handle_shutdown(const ChunkView& chunk, Timestamp now) {
  if (chunk.value.size() != 4 || state_ < State::kEstablished) return;
  // SHUTDOWN carries a cumulative TSN ack: treat it as a SACK without gaps.
  std::uint8_t sack_value[12];
  std::memcpy(sack_value, chunk.value.data(), 4);
  store_be32(sack_value + 4, peer_rwnd_ + static_cast<std::uint32_t>(flight_size_));
  store_be16(sack_value + 8, 0);
  store_be16(sack_value + 10, 0);
  handle_sack({chunk_type::kSack, 0, BytesView(sack_value, 12)}, now);
  if (state_ == State::kEstablished || state_ == State::kShutdownPending)
    state_ = State::kShutdownReceived;
}

void SctpAssociation::check_shutdown_progress(Timestamp now) {
  const bool drained = stream_queues_.empty() && in_flight_.empty();
  if (state_ == State::kShutdownPending && drained) {
    std::uint8_t cum[4];
    store_be32(cum, static_cast<std::uint32_t>(peer_cumulative_));
    send_control(chunk_type::kShutdown, 0, BytesView(cum, 4), peer_tag_);
    state_ = State::kShutdownSent;
    t2_at_ = now + rto_;
  } else if (state_ == State::kShutdownReceived && drained) {
    send_control(chunk_type::kShutdownAck, 0, {}, peer_tag_);
    state_ = State::kShutdownAckSent;
    t2_at_ = now + rto_;
  }
}

// --- Outgoing ----------------------------------------------------------------------------

Result<> SctpAssociation::send(std::uint16_t stream, std::uint32_t ppid, BytesView data,
                               SendOptions options) {
  if (state_ != State::kEstablished)
    return invalid_state_error("SCTP association is not established");
  if (stream >= next_ssn_out_.size() || stream >= peer_inbound_streams_)
    return range_error("SCTP stream id out of range");
  if (data.empty()) return type_error("SCTP messages carry at least one byte");
  if (data.size() > config_.max_message_size)
    return type_error("message larger than max-message-size");
  if (buffered_total_ + data.size() > config_.max_send_buffer)
    return operation_error("SCTP send buffer full");
  if (resetting_out_.count(stream) != 0) return invalid_state_error("SCTP stream is being reset");
  OutMessage m{.stream = stream,
               .ppid = ppid,
               .unordered = options.unordered,
               .slot = take_slot(data),
               .size = data.size(),
               .id = next_message_id_++};
  // Without the negotiation the options are ignored: the message is sent reliably.
  if (partial_reliability()) {
    m.max_retransmits = options.max_retransmits;
    if (options.lifetime) m.expires_at = last_now_ + *options.lifetime;
  }
  auto q = stream_queues_.find(stream);
  if (q == stream_queues_.end()) {
    if (spare_queues_.empty()) {
      q = stream_queues_.try_emplace(stream).first;
    } else {
      auto node = std::move(spare_queues_.back());
      spare_queues_.pop_back();
      node.key() = stream;
      q = stream_queues_.insert(std::move(node)).position;
    }
  }
  auto& queue = q->second;
  if (interleaving()) {
    if (queue.empty()) round_robin_.push_back(stream);
  } else {
    send_order_.push_back({stream, m.id});
  }
  queue.push_back(std::move(m));
  buffered_[stream] += data.size();
  buffered_total_ += data.size();
  return {};
}

std::size_t SctpAssociation::buffered_amount(std::uint16_t stream) const {
  auto it = buffered_.find(stream);
  return it == buffered_.end() ? 0 : it->second;
}

void SctpAssociation::send_control(std::uint8_t type, std::uint8_t flags, BytesView value,
                                   std::uint32_t tag) {
  Buffer packet;
  PacketBuilder b(packet, {config_.local_port, config_.remote_port, tag}, config_.mtu);
  b.add_chunk(type, flags, value);
  // RFC 9653 5.2: zero when the peer accepts it; an ABORT keeps its CRC32c all the same (the
  // peer may have lost the association state that says so).
  b.finish(zero_checksum() && type != chunk_type::kAbort);
  outgoing_.push_back(std::move(packet));
  ++packets_sent_;
}

void SctpAssociation::send_sack(Timestamp /*now*/) {
  sack_pending_ = true;
  sack_now_ = false;
  packets_since_sack_ = 0;
  sack_at_.reset();
}

std::uint32_t SctpAssociation::our_receive_window() const {
  return reassembly_bytes_ >= config_.receive_window
             ? 0
             : static_cast<std::uint32_t>(config_.receive_window - reassembly_bytes_);
}

void SctpAssociation::write_sack(PacketBuilder& b) {
  SackChunk sack;
  sack.cumulative_tsn_ack = static_cast<std::uint32_t>(peer_cumulative_);
  sack.a_rwnd = our_receive_window();
  // Gap blocks from the sorted TSNs above the cumulative one.
  for (std::size_t i = 0; i < received_above_.size() && sack.gap_blocks.size() < 64;) {
    const std::uint64_t start = received_above_[i];
    std::uint64_t end = start;
    while (i + 1 < received_above_.size() && received_above_[i + 1] == end + 1)
      end = received_above_[++i];
    ++i;
    const std::uint64_t s = start - peer_cumulative_;
    const std::uint64_t e = end - peer_cumulative_;
    if (e > 0xFFFF) break;
    sack.gap_blocks.push_back({static_cast<std::uint16_t>(s), static_cast<std::uint16_t>(e)});
  }
  sack.duplicate_tsns = std::move(duplicates_);
  duplicates_.clear();
  sack.write_to(b);
}

void SctpAssociation::flush(Timestamp now) {
  if (state_ < State::kEstablished && !sack_pending_) return;
  const bool interleaved = interleaving();
  const std::size_t chunk_header =
      kChunkHeaderSize + (interleaved ? IDataChunk::kHeaderSize : DataChunk::kHeaderSize);
  const std::size_t max_payload = config_.mtu - kCommonHeaderSize - chunk_header;
  if (partial_reliability() && retransmits_waiting_ > 0) {
    // RFC 3758 3.5 A3: a chunk waiting for retransmission whose lifetime ran out is abandoned.
    for (auto& c : in_flight_) {
      if (c.needs_retransmit && should_abandon(c, now)) abandon_message(c.message_id, c.stream);
    }
  }
  bool first_packet = true;
  while (true) {
    // Built in place in the queue's next slot, whose buffer is kept from an earlier packet.
    Buffer& packet = outgoing_.push_slot();
    packet.clear();
    packet.reserve(config_.mtu);
    PacketBuilder b(packet, {config_.local_port, config_.remote_port, peer_tag_}, config_.mtu);
    bool any = false;
    // Where the packet's last DATA / I-DATA chunk starts, for its I bit.
    std::optional<std::size_t> last_data_chunk;
    // Whether the window (cwnd or the peer's), or nothing left to send, ends this flush's
    // data: then no packet follows soon to elicit the SACK this one is waiting for.
    bool data_stops_here = false;
    if (sack_pending_) {
      write_sack(b);
      sack_pending_ = false;
      any = true;
    }
    if (forward_tsn_pending_) {
      // Ahead of the DATA it lets the peer deliver (RFC 3758 3.5 F2: bundled when possible).
      if (advanced_ack_point_ > cumulative_acked_) {
        write_forward_tsn(b);
        any = true;
      }
      forward_tsn_pending_ = false;
    }
    // Retransmissions first. A fast retransmit may exceed cwnd by one packet (RFC 9260 7.2.4).
    for (std::size_t i = 0; retransmits_waiting_ > 0 && i < in_flight_.size(); ++i) {
      InFlight& c = in_flight_[i];
      if (!c.needs_retransmit) continue;
      const bool allowed = flight_size_ + c.length <= cwnd_ ||
                           (first_packet && fast_retransmit_pending_) || flight_size_ == 0;
      if (!allowed) {
        data_stops_here = true;
        break;
      }
      const std::size_t chunk_start = packet.size();
      if (!write_chunk(b, c)) break;
      last_data_chunk = chunk_start;
      set_needs_retransmit(c, false);
      c.miss_indications = 0;
      ++c.transmissions;
      c.sent_at = now;
      flight_size_ += c.length;
      ++retransmissions_;
      any = true;
    }
    fast_retransmit_pending_ = false;
    // New data, within cwnd and the peer's window (one packet may probe a zero window).
    const bool can_send_new = state_ == State::kEstablished || state_ == State::kShutdownPending ||
                              state_ == State::kShutdownReceived;
    // With nothing in flight no SACK is coming to refill the budget: start a new burst.
    if (flight_size_ == 0) burst_budget_ = config_.max_burst;
    const bool burst_left = config_.max_burst == 0 || burst_budget_ > 0;
    bool packet_has_new_data = false;
    while (can_send_new && burst_left) {
      OutMessage* m = next_message();
      if (m == nullptr) {
        data_stops_here = true;
        break;
      }
      if (m->offset == 0 && m->expires_at && now >= *m->expires_at) {
        // Expired before its first byte left: dropped whole, no TSN or SSN was spent on it.
        release_bytes(m->stream, m->size);
        pop_message(m->stream);
        ++abandoned_messages_;
        continue;
      }
      const std::size_t remaining = m->size - m->offset;
      const std::size_t size = std::min(remaining, max_payload);
      if (flight_size_ + size > cwnd_ || (flight_size_ > 0 && size > peer_rwnd_)) {
        data_stops_here = true;
        break;
      }
      if (b.remaining() < chunk_header + size) break;
      // SSNs and MIDs are taken in transmission order (RFC 9260 6.6, RFC 8260 2.2.2), so a
      // message dropped unsent leaves no hole in its stream.
      if (m->offset == 0) {
        if (interleaved) {
          m->sequence = next_mid_out_[m->stream][m->unordered ? 1 : 0]++;
        } else if (!m->unordered) {
          m->sequence = next_ssn_out_[m->stream]++;
        }
      }
      InFlight c;
      c.tsn = next_tsn_++;
      c.message_id = m->id;
      c.max_retransmits = m->max_retransmits;
      c.expires_at = m->expires_at;
      c.stream = m->stream;
      c.sequence = m->sequence;
      c.fsn = m->next_fsn++;
      c.ppid = m->ppid;
      c.flags = static_cast<std::uint8_t>((m->offset == 0 ? DataChunk::kFlagBeginning : 0) |
                                          (size == remaining ? DataChunk::kFlagEnd : 0) |
                                          (m->unordered ? DataChunk::kFlagUnordered : 0));
      c.slot = m->slot;
      c.offset = static_cast<std::uint32_t>(m->offset);
      c.length = static_cast<std::uint32_t>(size);
      ++message_slots_[m->slot].references;
      c.sent_at = now;
      last_data_chunk = packet.size();
      write_chunk(b, c);
      flight_size_ += size;
      peer_rwnd_ = peer_rwnd_ > size ? static_cast<std::uint32_t>(peer_rwnd_ - size) : 0;
      in_flight_.push_back(std::move(c));
      m->offset += size;
      const std::uint16_t stream = m->stream;
      if (m->offset == m->size) {
        pop_message(stream);
      } else if (interleaved) {
        // RFC 8260 3.2 round robin: the next stream's turn after each fragment.
        round_robin_.pop_front();
        round_robin_.push_back(stream);
      }
      any = true;
      packet_has_new_data = true;
    }
    if (packet_has_new_data && burst_budget_ > 0) --burst_budget_;
    if (!any) {
      outgoing_.pop_back();
      break;
    }
    // RFC 9260 3.3.1 / RFC 7053 4.1: the last DATA before the sender goes quiet (queue empty,
    // window full, or shutting down) asks for its SACK at once; the peer would otherwise hold
    // it for its delayed-ack time with nothing else coming to trigger it.
    if (last_data_chunk && (data_stops_here || state_ == State::kShutdownPending)) {
      packet[*last_data_chunk + 1] |= DataChunk::kFlagImmediate;
    }
    b.finish(zero_checksum());
    ++packets_sent_;
    first_packet = false;
    if (!in_flight_.empty() && !t3_at_) t3_at_ = now + rto_;
  }
  maybe_send_reset(now);
}

SctpAssociation::OutMessage* SctpAssociation::next_message() {
  if (interleaving()) {
    if (round_robin_.empty()) return nullptr;
    return &stream_queues_.find(round_robin_.front())->second.front();
  }
  // DATA: whole messages in send() order. Entries of messages already gone are skipped.
  while (!send_order_.empty()) {
    const auto [stream, id] = send_order_.front();
    auto q = stream_queues_.find(stream);
    if (q != stream_queues_.end() && q->second.front().id == id) return &q->second.front();
    send_order_.pop_front();
  }
  return nullptr;
}

void SctpAssociation::pop_message(std::uint16_t stream) {
  auto q = stream_queues_.find(stream);
  unref_slot(q->second.front().slot);
  q->second.pop_front();
  if (!q->second.empty()) {
    // A stream whose turn this was goes to the back.
    if (interleaving() && round_robin_.front() == stream) {
      round_robin_.pop_front();
      round_robin_.push_back(stream);
    }
    return;
  }
  // Its node and storage serve the next stream that gets a queue.
  keep_spare(spare_queues_, stream_queues_.extract(q));
  if (interleaving()) {
    for (std::size_t i = 0; i < round_robin_.size(); ++i) {
      if (round_robin_[i] == stream) {
        round_robin_.erase_at(i);
        break;
      }
    }
  }
}

bool SctpAssociation::write_chunk(PacketBuilder& b, const InFlight& c) const {
  const bool beginning = (c.flags & DataChunk::kFlagBeginning) != 0;
  const bool end = (c.flags & DataChunk::kFlagEnd) != 0;
  const bool unordered = (c.flags & DataChunk::kFlagUnordered) != 0;
  const auto tsn = static_cast<std::uint32_t>(c.tsn);
  if (interleaving()) {
    // RFC 8260 2.1: the first fragment carries the PPID, the others their FSN.
    return IDataChunk{tsn,       c.stream, c.sequence,   beginning ? c.ppid : c.fsn, beginning, end,
                      unordered, false,    payload_of(c)}
        .write_to(b);
  }
  return DataChunk{tsn,       c.stream,  static_cast<std::uint16_t>(c.sequence),
                   c.ppid,    beginning, end,
                   unordered, false,     payload_of(c)}
      .write_to(b);
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
  t1_at_.reset();
  t2_at_.reset();
  t3_at_.reset();
  reconfig_at_.reset();
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
  sack_now_ = true;  // acknowledged at once, in or out of date
  const std::uint64_t new_cum = unwrap_peer_tsn(f->new_cumulative_tsn);
  if (new_cum <= peer_cumulative_) return;  // out of date: only the SACK
  // Fragments at or below the new point are dropped, except complete ordered messages that
  // wait for their turn: they were received whole and are still delivered.
  std::vector<std::uint64_t> keep;
  for (const auto& [stream, waiting] : complete_ordered_) {
    for (const auto& [ssn, first] : waiting)
      if (first <= new_cum) keep.push_back(first);
  }
  std::sort(keep.begin(), keep.end());
  for (auto it = reassembly_.begin(); it != reassembly_.end() && it->first <= new_cum;) {
    if (std::binary_search(keep.begin(), keep.end(), it->first)) {
      while (it != reassembly_.end() && !it->second.end) ++it;
      if (it != reassembly_.end()) ++it;
      continue;
    }
    reassembly_bytes_ -= it->second.payload.size();
    it = erase_fragment(it);
  }
  // Continuation fragments just above whose beginning was skipped can never complete (unless
  // they continue a kept message: a hostile FORWARD-TSN may end inside one).
  auto above = reassembly_.upper_bound(new_cum);
  bool continues_kept = false;
  if (above != reassembly_.begin()) {
    const Fragment& kept = std::prev(above)->second;
    continues_kept = kept.last_tsn > new_cum || (kept.last_tsn == new_cum && !kept.end);
  }
  auto it = continues_kept ? reassembly_.end() : reassembly_.find(new_cum + 1);
  while (it != reassembly_.end() && !it->second.beginning) {
    const std::uint64_t last = it->second.last_tsn;
    const bool end = it->second.end;
    reassembly_bytes_ -= it->second.payload.size();
    it = erase_fragment(it);
    if (end || it == reassembly_.end() || it->first != last + 1) break;
  }
  advance_cumulative(new_cum);
  // Ordered streams continue after the skipped SSNs.
  for (const auto& skipped : f->skipped) {
    if (skipped.stream_id >= next_ssn_in_.size()) continue;
    const auto ssn = static_cast<std::uint16_t>(skipped.sequence);
    if (serial_less(ssn, next_ssn_in_[skipped.stream_id])) continue;  // already past it
    deliver_skipped(skipped.stream_id, ssn);
  }
}

void SctpAssociation::advance_cumulative(std::uint64_t new_cum) {
  // Move the cumulative TSN and absorb what was already received above it.
  peer_cumulative_ = new_cum;
  auto above = std::upper_bound(received_above_.begin(), received_above_.end(), new_cum);
  while (above != received_above_.end() && *above == peer_cumulative_ + 1)
    peer_cumulative_ = *above++;
  received_above_.erase(received_above_.begin(), above);
}

void SctpAssociation::handle_iforward_tsn(const ChunkView& chunk) {
  auto f = ForwardTsnChunk::parse(chunk, true);
  if (!f) return;
  sack_now_ = true;  // acknowledged at once, in or out of date
  const std::uint64_t new_cum = unwrap_peer_tsn(f->new_cumulative_tsn);
  if (new_cum <= peer_cumulative_) return;  // out of date: only the SACK
  // RFC 8260 2.3.1: nothing is dropped by TSN (interleaved messages straddle the new
  // cumulative TSN); the messages named are, per stream and U flag, up to the MID given.
  for (const auto& skipped : f->skipped) {
    if (skipped.stream_id >= next_ssn_in_.size()) continue;
    if (skipped.unordered) {
      skip_unordered(skipped.stream_id, skipped.sequence);
    } else {
      skip_ordered(skipped.stream_id, skipped.sequence);
    }
  }
  advance_cumulative(new_cum);
}

void SctpAssociation::skip_ordered(std::uint16_t stream, std::uint32_t up_to) {
  InStream& in = in_streams_[stream];
  if (serial_less(up_to, in.next_mid)) return;  // already past it
  const std::uint32_t span = up_to - in.next_mid;
  auto within = [&](std::uint32_t mid) { return std::uint32_t(mid - in.next_mid) <= span; };
  // Partial messages up to it were abandoned: dropped.
  for (auto it = partial_messages_.lower_bound({stream, false, 0});
       it != partial_messages_.end() && it->first.stream == stream && !it->first.unordered;) {
    if (within(it->first.mid)) {
      drop_partial(it++);
    } else {
      ++it;
    }
  }
  // Complete ones are delivered in MID order (as RFC 3758 3.6 does for SSNs), then the
  // stream resumes after the skipped MID.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> due;  // (distance from next, MID)
  for (const auto& [mid, msg] : in.ready)
    if (within(mid)) due.emplace_back(mid - in.next_mid, mid);
  std::sort(due.begin(), due.end());
  for (const auto& [distance, mid] : due) {
    auto it = in.ready.find(mid);
    reassembly_bytes_ -= it->second.data.size();
    --held_messages_;
    events_.push_back(std::move(it->second));
    in.ready.erase(it);
  }
  in.next_mid = up_to + 1;
  deliver_in_order(in);
}

void SctpAssociation::skip_unordered(std::uint16_t stream, std::uint32_t up_to) {
  for (auto it = partial_messages_.lower_bound({stream, true, 0});
       it != partial_messages_.end() && it->first.stream == stream;) {
    if (serial_less_equal(it->first.mid, up_to)) {
      drop_partial(it++);
    } else {
      ++it;
    }
  }
  // Fragments of these messages still on the way are dropped on arrival.
  InStream& in = in_streams_[stream];
  if (!in.unordered_skipped || serial_less(*in.unordered_skipped, up_to))
    in.unordered_skipped = up_to;
}

void SctpAssociation::deliver_skipped(std::uint16_t stream, std::uint16_t up_to) {
  // Complete messages up to the skipped SSN are delivered in SSN order, then the stream
  // resumes after it.
  auto waiting = complete_ordered_.find(stream);
  if (waiting != complete_ordered_.end()) {
    const std::uint16_t next = next_ssn_in_[stream];
    const auto span = static_cast<std::uint16_t>(up_to - next);
    std::vector<std::pair<std::uint16_t, std::uint16_t>> due;  // (distance from next, ssn)
    for (const auto& [ssn, first] : waiting->second) {
      const auto d = static_cast<std::uint16_t>(ssn - next);
      if (d <= span) due.emplace_back(d, ssn);
    }
    std::sort(due.begin(), due.end());
    for (const auto& [d, ssn] : due) {
      auto& ready = complete_ordered_[stream];
      auto it = ready.find(ssn);
      auto first = reassembly_.find(it->second);
      auto last = first;
      while (!last->second.end) ++last;
      ready.erase(it);
      deliver(first, last);
    }
  }
  next_ssn_in_[stream] = static_cast<std::uint16_t>(up_to + 1);
  deliver_ready(stream);
}

// --- Stream reset (RFC 6525) -------------------------------------------------------------

Result<> SctpAssociation::reset_streams(std::span<const std::uint16_t> streams) {
  if (state_ != State::kEstablished)
    return invalid_state_error("SCTP association is not established");
  if (!stream_reset_supported())
    return operation_error("the SCTP peer did not negotiate stream reconfiguration");
  if (streams.empty()) return type_error("no stream to reset");
  for (const std::uint16_t s : streams) {
    if (s >= next_ssn_out_.size() || s >= peer_inbound_streams_)
      return range_error("SCTP stream id out of range");
  }
  for (const std::uint16_t s : streams) {
    if (resetting_out_.insert(s).second) reset_pending_.push_back(s);
  }
  return {};
}

bool SctpAssociation::reset_ready() const {
  if (reset_outstanding_ || reset_pending_.empty() || state_ != State::kEstablished) return false;
  return std::any_of(reset_pending_.begin(), reset_pending_.end(),
                     [&](std::uint16_t s) { return stream_queues_.count(s) == 0; });
}

void SctpAssociation::maybe_send_reset(Timestamp now) {
  if (!reset_ready()) return;
  // RFC 8831 6.7: a stream is reset only after everything queued on it has a TSN; the
  // request then names the last TSN assigned, which the peer waits for.
  ResetRequest request;
  request.sequence = next_reconfig_sequence_++;
  request.last_tsn = next_tsn_ - 1;
  std::vector<std::uint16_t> waiting;
  for (const std::uint16_t s : reset_pending_) {
    if (stream_queues_.count(s) == 0 && request.streams.size() < kMaxStreamsPerRequest) {
      request.streams.push_back(s);
    } else {
      waiting.push_back(s);
    }
  }
  reset_pending_ = std::move(waiting);
  reset_outstanding_ = std::move(request);
  reconfig_attempts_ = 0;
  (void)now;
  send_reset_request();
}

void SctpAssociation::send_reset_request() {
  if (!reset_outstanding_) return;
  OutgoingResetRequest r;
  r.request_sequence = reset_outstanding_->sequence;
  // RFC 6525 4.1: not answering an incoming request, it holds the peer's last request
  // sequence number (the next expected one minus 1).
  r.response_sequence = peer_next_reconfig_sequence_ - 1;
  r.sender_last_tsn = static_cast<std::uint32_t>(reset_outstanding_->last_tsn);
  r.streams = reset_outstanding_->streams;
  Buffer params;
  r.append_to(params);
  send_control(chunk_type::kReConfig, 0, params, peer_tag_);
  ++reconfig_requests_sent_;
  const Duration wait =
      std::min(rto_ * (std::int64_t{1} << std::min(reconfig_attempts_, 16)), config_.rto_max);
  ++reconfig_attempts_;
  reconfig_at_ = last_now_ + wait;
}

void SctpAssociation::handle_reconfig(const ChunkView& chunk, Timestamp now) {
  auto params = parse_parameters(chunk.value);
  if (!params || params->empty() || params->size() > kMaxReconfigParameters) return;
  Buffer responses;
  for (const auto& p : *params) {
    switch (p.type) {
      case param_type::kOutgoingSsnResetRequest: {
        auto request = OutgoingResetRequest::parse(p);
        if (!request) break;
        const auto result = handle_reset_request(*request);
        ReconfigResponse{request->request_sequence, result}.append_to(responses);
        break;
      }
      case param_type::kReconfigurationResponse: {
        auto response = ReconfigResponse::parse(p);
        if (response) handle_reset_response(*response, now);
        break;
      }
      case param_type::kIncomingSsnResetRequest:
      case param_type::kSsnTsnResetRequest:
      case param_type::kAddOutgoingStreamsRequest:
      case param_type::kAddIncomingStreamsRequest:
        // Not implemented: refused (RFC 6525 4.4 result Denied), the request sequence
        // number being their first field.
        if (p.value.size() >= 4) {
          ReconfigResponse{load_be32(p.value.data()), ReconfigResponse::Result::kDenied}.append_to(
              responses);
        }
        break;
      default:
        break;
    }
  }
  if (!responses.empty()) send_control(chunk_type::kReConfig, 0, responses, peer_tag_);
}

ReconfigResponse::Result SctpAssociation::handle_reset_request(
    const OutgoingResetRequest& request) {
  using R = ReconfigResponse::Result;
  // RFC 6525 5.2.1: a retransmission of the last request gets the same answer (updated when
  // a deferred reset has been performed since); other unexpected numbers are an error.
  if (request.request_sequence == peer_next_reconfig_sequence_ - 1) return last_reset_result_;
  if (request.request_sequence != peer_next_reconfig_sequence_) return R::kErrorBadSequenceNumber;
  if (incoming_deferred_) return R::kErrorRequestAlreadyInProgress;  // one at a time
  ++peer_next_reconfig_sequence_;
  for (const std::uint16_t s : request.streams) {
    if (s >= next_ssn_in_.size()) {
      last_reset_result_ = R::kDenied;
      return last_reset_result_;
    }
  }
  // RFC 6525 5.2.2: performed once everything up to the sender's last TSN has arrived.
  const std::uint64_t last = unwrap_peer_tsn(request.sender_last_tsn);
  if (last <= peer_cumulative_) {
    perform_incoming_reset(request.streams);
    last_reset_result_ = R::kSuccessPerformed;
  } else {
    incoming_deferred_ = ResetRequest{request.request_sequence, last, request.streams};
    last_reset_result_ = R::kInProgress;
  }
  return last_reset_result_;
}

void SctpAssociation::check_deferred_reset() {
  if (!incoming_deferred_ || peer_cumulative_ < incoming_deferred_->last_tsn) return;
  perform_incoming_reset(incoming_deferred_->streams);
  if (incoming_deferred_->sequence == peer_next_reconfig_sequence_ - 1)
    last_reset_result_ = ReconfigResponse::Result::kSuccessPerformed;
  incoming_deferred_.reset();
}

void SctpAssociation::perform_incoming_reset(const std::vector<std::uint16_t>& streams) {
  // RFC 8260 2.3.2: I-DATA streams restart at MID 0. Everything sent before the reset has
  // arrived or was abandoned by now, so what still waits of the old sequence is delivered
  // first when complete and dropped when not (it can no longer complete).
  auto restart = [&](std::uint16_t s) {
    auto in = in_streams_.find(s);
    if (in == in_streams_.end()) return;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> waiting;  // (distance, MID)
    for (const auto& [mid, msg] : in->second.ready)
      waiting.emplace_back(mid - in->second.next_mid, mid);
    std::sort(waiting.begin(), waiting.end());
    for (const auto& [distance, mid] : waiting) {
      auto it = in->second.ready.find(mid);
      reassembly_bytes_ -= it->second.data.size();
      --held_messages_;
      events_.push_back(std::move(it->second));
    }
    for (auto it = partial_messages_.lower_bound({s, false, 0});
         it != partial_messages_.end() && it->first.stream == s;)
      drop_partial(it++);
    in_streams_.erase(in);
  };
  if (streams.empty()) {
    std::vector<std::uint16_t> all;
    for (const auto& [s, in] : in_streams_) all.push_back(s);
    std::sort(all.begin(), all.end());
    for (const std::uint16_t s : all) restart(s);
  } else {
    for (const std::uint16_t s : streams) restart(s);
  }
  events_.push_back(SctpStreamsReset{streams, true});
  if (streams.empty()) {
    next_ssn_in_.zero_all();
    return;
  }
  for (const std::uint16_t s : streams) {
    next_ssn_in_[s] = 0;
    // Messages of the new sequence may have arrived ahead of the reset.
    if (complete_ordered_.count(s) != 0) deliver_ready(s);
  }
}

void SctpAssociation::handle_reset_response(const ReconfigResponse& response, Timestamp now) {
  using R = ReconfigResponse::Result;
  if (!reset_outstanding_ || response.response_sequence != reset_outstanding_->sequence) return;
  switch (response.result) {
    case R::kInProgress:
      // The peer waits for our data; ask again after an RTO (RFC 6525 5.2.7).
      reconfig_attempts_ = 0;
      reconfig_at_ = now + rto_;
      return;
    case R::kSuccessPerformed:
    case R::kSuccessNothingToDo:
      error_count_ = 0;
      for (const std::uint16_t s : reset_outstanding_->streams) {
        next_ssn_out_[s] = 0;
        next_mid_out_.erase(s);  // RFC 8260 2.3.2: both MID counters restart at 0 too
        reset_last_tsn_[s] = reset_outstanding_->last_tsn;
        resetting_out_.erase(s);
      }
      events_.push_back(SctpStreamsReset{std::move(reset_outstanding_->streams), false});
      break;
    default:
      for (const std::uint16_t s : reset_outstanding_->streams) resetting_out_.erase(s);
      events_.push_back(SctpStreamResetFailed{std::move(reset_outstanding_->streams)});
      break;
  }
  reset_outstanding_.reset();
  reconfig_at_.reset();
}

// --- Heartbeats (RFC 9260 8.3) -------------------------------------------------------------

void SctpAssociation::arm_heartbeat(Timestamp now) {
  if (config_.heartbeat_interval <= Duration::zero() || state_ != State::kEstablished) {
    heartbeat_at_.reset();
    return;
  }
  // RTO jittered by +/- 50 % (uniformly), plus HB.interval.
  const std::int64_t rto_us = rto_.us();
  const auto jittered = Duration::micros(
      rto_us / 2 + static_cast<std::int64_t>(rng_->uniform(
                       static_cast<std::uint64_t>(std::max<std::int64_t>(rto_us, 1)))));
  heartbeat_at_ = now + config_.heartbeat_interval + jittered;
  heartbeat_tsn_mark_ = next_tsn_;
}

void SctpAssociation::on_heartbeat_timer(Timestamp now) {
  heartbeat_at_.reset();
  if (state_ != State::kEstablished) return;
  if (heartbeat_outstanding_) {
    // Unanswered within the period: one more error, and the RTO backs off as on T3 expiry.
    heartbeat_outstanding_.reset();
    if (++error_count_ > config_.max_retransmissions) {
      fail("SCTP peer stopped answering heartbeats");
      return;
    }
    rto_ = std::min(rto_ * 2, config_.rto_max);
  }
  // Only an idle path is probed: new data measures the RTT and checks the peer by itself.
  if (next_tsn_ == heartbeat_tsn_mark_) {
    // Heartbeat Info (RFC 9260 3.3.5): opaque to the peer, which echoes it; ours is a nonce
    // (so that a forged ACK cannot feed the RTT estimate) and the send time.
    const std::uint64_t nonce = rng_->next_u64();
    std::uint8_t value[4 + 16];
    store_be16(value, param_type::kHeartbeatInfo);
    store_be16(value + 2, sizeof value);
    const auto sent = static_cast<std::uint64_t>(now.us());
    store_be32(value + 4, static_cast<std::uint32_t>(nonce >> 32));
    store_be32(value + 8, static_cast<std::uint32_t>(nonce));
    store_be32(value + 12, static_cast<std::uint32_t>(sent >> 32));
    store_be32(value + 16, static_cast<std::uint32_t>(sent));
    send_control(chunk_type::kHeartbeat, 0, BytesView(value, sizeof value), peer_tag_);
    heartbeat_outstanding_ = HeartbeatSent{nonce, now};
    ++heartbeats_sent_;
  }
  arm_heartbeat(now);
}

void SctpAssociation::handle_heartbeat_ack(const ChunkView& chunk, Timestamp now) {
  if (!heartbeat_outstanding_) return;
  ByteReader r(chunk.value);
  const auto type = r.read_u16();
  const auto length = r.read_u16();
  const auto nonce = r.read_u64();
  if (!type || !length || !nonce || *type != param_type::kHeartbeatInfo || *length != 20 ||
      *nonce != heartbeat_outstanding_->nonce)
    return;
  // RFC 9260 8.3: the ACK clears the error count and gives an RTT measurement.
  const Duration rtt = now - heartbeat_outstanding_->sent_at;
  heartbeat_outstanding_.reset();
  error_count_ = 0;
  update_rto(rtt);
}

// --- Time --------------------------------------------------------------------------------

void SctpAssociation::handle_timeout(Timestamp now) {
  last_now_ = std::max(last_now_, now);
  if (t1_at_ && now >= *t1_at_) {
    // RFC 9260 5.1.6 T1-init / T1-cookie: retransmit with back-off, give up after a while.
    if (++t1_count_ > config_.max_init_retransmits) {
      fail("SCTP association setup timed out");
      return;
    }
    outgoing_.push_back(state_ == State::kCookieWait ? init_packet_ : cookie_echo_);
    ++packets_sent_;
    const Duration backoff = std::min(
        config_.rto_initial * (std::int64_t{1} << std::min(t1_count_, 16)), config_.rto_max);
    t1_at_ = now + backoff;
  }
  if (t3_at_ && now >= *t3_at_) {
    // RFC 9260 6.3.3: T3-rtx expiry.
    if (++error_count_ > config_.max_retransmissions) {
      fail("SCTP peer stopped acknowledging");
      return;
    }
    rto_ = std::min(rto_ * 2, config_.rto_max);
    ssthresh_ = std::max(cwnd_ / 2, 4 * config_.mtu);
    cwnd_ = config_.mtu;
    partial_bytes_acked_ = 0;
    fast_recovery_ = false;
    for (auto& c : in_flight_) {
      if (c.acked || c.needs_retransmit || c.abandoned) continue;
      if (should_abandon(c, now)) {  // RFC 3758 3.5 A1-A3
        abandon_message(c.message_id, c.stream);
        continue;
      }
      set_needs_retransmit(c, true);
      flight_size_ -= c.length;
    }
    // RFC 3758 3.5 A5: the FORWARD-TSN is retransmitted on T3 expiry as well.
    if (partial_reliability()) {
      advance_ack_point();
      if (advanced_ack_point_ > cumulative_acked_) forward_tsn_pending_ = true;
    }
    t3_at_ = now + rto_;
    burst_budget_ = config_.max_burst;
    flush(now);
  }
  if (sack_at_ && now >= *sack_at_) {
    send_sack(now);
    flush(now);
  }
  if (heartbeat_at_ && now >= *heartbeat_at_) {
    on_heartbeat_timer(now);
    if (state_ == State::kClosed) return;
  }
  if (reconfig_at_ && now >= *reconfig_at_ && (state_ == State::kClosed || !reset_outstanding_)) {
    reconfig_at_.reset();
  }
  if (reconfig_at_ && now >= *reconfig_at_) {
    // RFC 6525 5.1.1: the request is retransmitted on its own timer, backed off, and counts
    // against Association.Max.Retrans.
    if (++error_count_ > config_.max_retransmissions) {
      fail("SCTP peer stopped answering a stream reset");
      return;
    }
    send_reset_request();
  }
  if (t2_at_ && now >= *t2_at_) {
    if (++error_count_ > config_.max_retransmissions) {
      fail("SCTP shutdown timed out");
      return;
    }
    if (state_ == State::kShutdownSent) {
      std::uint8_t cum[4];
      store_be32(cum, static_cast<std::uint32_t>(peer_cumulative_));
      send_control(chunk_type::kShutdown, 0, BytesView(cum, 4), peer_tag_);
    } else if (state_ == State::kShutdownAckSent) {
      send_control(chunk_type::kShutdownAck, 0, {}, peer_tag_);
    }
    t2_at_ = now + rto_;
  }
}

std::optional<Timestamp> SctpAssociation::next_timeout() const {
  std::optional<Timestamp> t;
  for (const auto& candidate : {t1_at_, t2_at_, t3_at_, sack_at_, reconfig_at_, heartbeat_at_}) {
    if (candidate && (!t || *candidate < *t)) t = candidate;
  }
  return t;
}

std::optional<Buffer> SctpAssociation::poll_transmit() {
  // Messages queued by send() since the last packet go out now, timed with the latest clock
  // value the association was given.
  if (outgoing_.empty() && (!stream_queues_.empty() || reset_ready())) flush(last_now_);
  if (outgoing_.empty()) return std::nullopt;
  Buffer p = std::move(outgoing_.front());
  outgoing_.pop_front();
  return p;
}

bool SctpAssociation::poll_transmit(Buffer& packet) {
  if (outgoing_.empty() && (!stream_queues_.empty() || reset_ready())) flush(last_now_);
  if (outgoing_.empty()) return false;
  std::swap(packet, outgoing_.front());
  outgoing_.pop_front();
  return true;
}

std::optional<SctpEvent> SctpAssociation::poll_event() {
  if (events_.empty()) return std::nullopt;
  SctpEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace rtcpp::sctp
