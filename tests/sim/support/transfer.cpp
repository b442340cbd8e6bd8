#include "transfer.hpp"

#include <algorithm>
#include <array>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"

namespace rtcpp::sim {

namespace {

constexpr std::uint8_t kQuery = 'Q';
constexpr std::uint8_t kReflected = 'R';
constexpr std::uint8_t kPunch = 'P';
constexpr std::uint8_t kData = 'D';
constexpr std::uint8_t kAck = 'A';
constexpr std::uint32_t kMaxPackets = 1u << 20;  // bounds the receiver's bitmap
constexpr std::uint64_t kMaxPunches = 100;

std::uint8_t pattern(std::uint32_t seq, std::size_t i) {
  return static_cast<std::uint8_t>(seq + i);
}

}  // namespace

// --- TransferEndpoint ---------------------------------------------------------------------

void TransferEndpoint::query_reflector(const SocketAddress& reflector, Timestamp now,
                                       Duration retry) {
  reflector_ = reflector;
  reflexive_.reset();
  query_retry_ = retry;
  query_at_ = now;  // sent by the next handle_timeout, which the simulator runs at once
}

std::optional<Datagram> TransferEndpoint::poll_transmit() {
  if (outbox_.empty()) return std::nullopt;
  Datagram d = std::move(outbox_.front());
  outbox_.pop_front();
  return d;
}

std::optional<TransferEvent> TransferEndpoint::poll_event() {
  if (events_.empty()) return std::nullopt;
  TransferEvent e = events_.front();
  events_.pop_front();
  return e;
}

bool TransferEndpoint::handle_common(const Datagram& d) {
  ByteReader r(d.payload);
  if (r.read_u8().value_or(0) != kReflected) return false;
  if (!reflector_ || d.source != *reflector_ || reflexive_) return true;
  const auto family = r.read_u8();
  const auto port = r.read_u16();
  if (!family || !port || (*family != 4 && *family != 6)) return true;
  IpAddress ip;
  if (*family == 4) {
    const auto v = r.read_u32();
    if (!v) return true;
    ip = IpAddress::v4(*v);
  } else {
    std::array<std::uint8_t, 16> bytes{};
    if (!r.read_into(bytes)) return true;
    ip = IpAddress::v6(bytes);
  }
  reflexive_ = SocketAddress(ip, *port);
  emit({TransferEvent::Kind::kAddressLearned, 0, *reflexive_});
  return true;
}

void TransferEndpoint::common_timeout(Timestamp now) {
  if (!reflector_ || reflexive_ || now < query_at_) return;
  send(*reflector_, Buffer{kQuery});
  query_at_ = now + query_retry_;
}

std::optional<Timestamp> TransferEndpoint::common_next_timeout() const {
  if (!reflector_ || reflexive_) return std::nullopt;
  return query_at_;
}

void TransferEndpoint::send(const SocketAddress& to, Buffer payload) {
  ++stats_.datagrams_sent;
  outbox_.push_back({local_, to, std::move(payload)});
}

std::optional<Timestamp> TransferEndpoint::earliest(std::optional<Timestamp> a,
                                                    std::optional<Timestamp> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// --- ReliableSender -------------------------------------------------------------------------

ReliableSender::ReliableSender(SocketAddress local, const TransferConfig& config)
    : TransferEndpoint(local), config_(config), slots_(config.count) {
  if (config_.window == 0) config_.window = 1;
}

void ReliableSender::start(const SocketAddress& peer, Timestamp now) {
  peer_ = peer;
  next_send_ = now;
  complete_ = config_.count == 0;
  if (complete_) emit({TransferEvent::Kind::kComplete, 0, peer});
}

void ReliableSender::send_data(std::uint32_t seq, Timestamp now) {
  Buffer payload;
  ByteWriter w(payload);
  w.write_u8(kData);
  w.write_u32(seq);
  w.write_u32(config_.count);
  for (std::size_t i = 0; i < config_.payload_size; ++i) w.write_u8(pattern(seq, i));
  Slot& slot = slots_[seq];
  if (slot.attempts > 0) ++stats_.retransmissions;
  slot.later_acks = 0;
  slot.sent_order = ++sends_;
  // Exponential backoff: rto, 2 rto, 4 rto ... up to max_rto.
  Duration rto = config_.rto;
  for (std::uint32_t i = 0; i < slot.attempts && rto < config_.max_rto; ++i) rto = rto * 2;
  slot.deadline = now + std::min(rto, config_.max_rto);
  ++slot.attempts;
  ++stats_.data_sent;
  send(*peer_, std::move(payload));
}

void ReliableSender::mark_acked(std::uint32_t seq) {
  if (seq >= slots_.size() || slots_[seq].acked || slots_[seq].attempts == 0) return;
  slots_[seq].acked = true;
  ++acked_;
}

void ReliableSender::handle_packet(const Datagram& d, Timestamp now) {
  if (handle_common(d) || !peer_ || complete_) return;
  ByteReader r(d.payload);
  if (r.read_u8().value_or(0) != kAck) return;
  const auto seq = r.read_u32();
  const auto cumulative = r.read_u32();
  if (!seq || !cumulative) return;
  ++stats_.acks;
  if (*seq >= next_seq_) return;
  const bool fresh = !slots_[*seq].acked;
  mark_acked(*seq);
  for (std::uint32_t s = base_; s < std::min(*cumulative, next_seq_); ++s) mark_acked(s);
  // Fast retransmit: a packet overtaken by three packets sent after it is likely lost.
  const std::uint64_t acked_order = slots_[*seq].sent_order;
  for (std::uint32_t s = base_; fresh && s < next_seq_; ++s) {
    Slot& slot = slots_[s];
    if (slot.acked || slot.sent_order >= acked_order || ++slot.later_acks != 3) continue;
    slot.deadline = now;
    ++stats_.fast_retransmissions;
  }
  while (base_ < next_seq_ && slots_[base_].acked) ++base_;
  if (acked_ == config_.count) {
    complete_ = true;
    emit({TransferEvent::Kind::kComplete, 0, *peer_});
  }
}

void ReliableSender::handle_timeout(Timestamp now) {
  common_timeout(now);
  if (!peer_ || complete_) return;
  for (std::uint32_t s = base_; s < next_seq_; ++s) {
    if (!slots_[s].acked && slots_[s].deadline <= now) send_data(s, now);
  }
  if (next_seq_ < config_.count && next_seq_ - base_ < config_.window && next_send_ <= now) {
    send_data(next_seq_++, now);
    next_send_ = now + config_.interval;
  }
}

std::optional<Timestamp> ReliableSender::next_timeout() const {
  std::optional<Timestamp> next = common_next_timeout();
  if (!peer_ || complete_) return next;
  for (std::uint32_t s = base_; s < next_seq_; ++s) {
    if (!slots_[s].acked) next = earliest(next, slots_[s].deadline);
  }
  if (next_seq_ < config_.count && next_seq_ - base_ < config_.window)
    next = earliest(next, next_send_);
  return next;
}

// --- ReliableReceiver -----------------------------------------------------------------------

void ReliableReceiver::punch(const SocketAddress& peer, Timestamp now, Duration interval) {
  punch_peer_ = peer;
  punch_at_ = now;
  punch_interval_ = interval;
}

void ReliableReceiver::handle_packet(const Datagram& d, Timestamp /*now*/) {
  if (handle_common(d)) return;
  ByteReader r(d.payload);
  if (r.read_u8().value_or(0) != kData) return;
  const auto seq = r.read_u32();
  const auto total = r.read_u32();
  if (!seq || !total || *total == 0 || *total > kMaxPackets || *seq >= *total) return;
  if (received_.empty()) received_.assign(*total, false);
  if (received_.size() != *total) return;  // another transfer; this receiver takes one
  const BytesView payload = r.rest();
  for (std::size_t i = 0; i < payload.size(); ++i) {
    if (payload[i] != pattern(*seq, i)) {
      ++stats_.corrupt;
      return;
    }
  }
  data_seen_ = true;
  if (received_[*seq]) {
    ++stats_.duplicates;
  } else {
    received_[*seq] = true;
    ++received_count_;
    while (cumulative_ < received_.size() && received_[cumulative_]) ++cumulative_;
    emit({TransferEvent::Kind::kPacketReceived, *seq, d.source});
  }
  Buffer ack;
  ByteWriter w(ack);
  w.write_u8(kAck);
  w.write_u32(*seq);
  w.write_u32(cumulative_);
  ++stats_.acks;
  send(d.source, std::move(ack));
  if (!complete_ && received_count_ == received_.size()) {
    complete_ = true;
    emit({TransferEvent::Kind::kComplete, 0, d.source});
  }
}

void ReliableReceiver::handle_timeout(Timestamp now) {
  common_timeout(now);
  if (punch_peer_ && !data_seen_ && punches_sent_ < kMaxPunches && punch_at_ <= now) {
    send(*punch_peer_, Buffer{kPunch});
    ++punches_sent_;
    punch_at_ = now + punch_interval_;
  }
}

std::optional<Timestamp> ReliableReceiver::next_timeout() const {
  std::optional<Timestamp> next = common_next_timeout();
  if (punch_peer_ && !data_seen_ && punches_sent_ < kMaxPunches) next = earliest(next, punch_at_);
  return next;
}

// --- Reflector ------------------------------------------------------------------------------

void Reflector::handle_packet(const Datagram& d, Timestamp /*now*/) {
  if (d.payload.empty() || d.payload[0] != kQuery) return;
  Buffer reply;
  ByteWriter w(reply);
  w.write_u8(kReflected);
  w.write_u8(d.source.ip().is_v4() ? 4 : 6);
  w.write_u16(d.source.port());
  w.write_bytes(d.source.ip().bytes());
  outbox_.push_back({local_, d.source, std::move(reply)});
}

std::optional<Datagram> Reflector::poll_transmit() {
  if (outbox_.empty()) return std::nullopt;
  Datagram d = std::move(outbox_.front());
  outbox_.pop_front();
  return d;
}

}  // namespace rtcpp::sim
