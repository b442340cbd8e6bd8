#include "sctp/heartbeat.hpp"

#include <algorithm>

#include "base/byte_reader.hpp"
#include "sctp/packet.hpp"

namespace rtcpp::sctp {

void HeartbeatSender::arm(Timestamp now, Duration rto, Tsn next_tsn, Random& rng) {
  const std::int64_t rto_us = rto.us();
  const auto jittered = Duration::micros(
      rto_us / 2 + static_cast<std::int64_t>(
                       rng.uniform(static_cast<std::uint64_t>(std::max<std::int64_t>(rto_us, 1)))));
  timer_.start_at(now + interval_ + jittered);  // saturates for an infinite interval
  tsn_mark_ = next_tsn;
}

bool HeartbeatSender::take_unanswered() noexcept {
  const bool unanswered = outstanding_.has_value();
  outstanding_.reset();
  return unanswered;
}

HeartbeatSender::Info HeartbeatSender::make_heartbeat(Timestamp now, Random& rng) {
  // Heartbeat Info (RFC 9260 3.3.5) is opaque to the peer, which echoes it; ours is a nonce
  // (so that a forged ACK cannot feed the RTT estimate) and the send time.
  const std::uint64_t nonce = rng.next_u64();
  Info value{};
  store_be16(value.data(), param_type::kHeartbeatInfo);
  store_be16(value.data() + 2, kInfoSize);
  const auto sent = static_cast<std::uint64_t>(now.us());
  store_be32(value.data() + 4, static_cast<std::uint32_t>(nonce >> 32));
  store_be32(value.data() + 8, static_cast<std::uint32_t>(nonce));
  store_be32(value.data() + 12, static_cast<std::uint32_t>(sent >> 32));
  store_be32(value.data() + 16, static_cast<std::uint32_t>(sent));
  outstanding_ = Outstanding{nonce, now};
  ++sent_;
  return value;
}

std::optional<Duration> HeartbeatSender::on_ack(BytesView value, Timestamp now) noexcept {
  if (!outstanding_) return std::nullopt;
  ByteReader r(value);
  const auto type = r.read_u16();
  const auto length = r.read_u16();
  const auto nonce = r.read_u64();
  if (!type || !length || !nonce || *type != param_type::kHeartbeatInfo || *length != kInfoSize ||
      *nonce != outstanding_->nonce)
    return std::nullopt;
  const Duration rtt = now - outstanding_->sent_at;
  outstanding_.reset();
  return rtt;
}

}  // namespace rtcpp::sctp
