#include "turn_server.hpp"

#include <algorithm>

#include "base/byte_reader.hpp"
#include "stun/stun_auth.hpp"
#include "turn/channel_data.hpp"

namespace rtcpp::sim {
namespace {

using stun::StunClass;
using stun::StunMessage;
using stun::StunMessageBuilder;
namespace attr = stun::attr;
namespace method = stun::method;

}  // namespace

namespace {
// PASSWORD-ALGORITHMS: SHA-256 then MD5, neither with parameters.
constexpr std::uint8_t kAlgorithms[] = {0, 2, 0, 0, 0, 1, 0, 0};
}  // namespace

TurnServer::TurnServer(TurnServerOptions options)
    : options_(std::move(options)),
      key_(options_.sha256
               ? *stun::long_term_key_sha256(options_.username, options_.realm, options_.password)
               : *stun::long_term_key_md5(options_.username, options_.realm, options_.password)) {
  // The security feature set's first base64 character: bit 0 (password algorithms) is 0x20,
  // bit 1 (username anonymity) 0x10; "A" is 0, "Q" 16, "g" 32, "w" 48.
  if (options_.sha256 || options_.userhash) {
    const char* features = options_.sha256 ? (options_.userhash ? "wAAA" : "gAAA") : "QAAA";
    options_.nonce = std::string(stun::kNonceCookie) + features + options_.nonce;
  }
  if (options_.userhash) userhash_ = *stun::userhash(options_.username, options_.realm);
}

std::optional<Datagram> TurnServer::poll_transmit() {
  if (out_.empty()) return std::nullopt;
  Datagram d = std::move(out_.front());
  out_.pop_front();
  return d;
}

TurnServer::Allocation* TurnServer::by_client(const SocketAddress& client) {
  for (auto& a : allocations_) {
    if (a.client == client) return &a;
  }
  return nullptr;
}

void TurnServer::handle_packet(const Datagram& d, Timestamp) {
  if (d.destination == options_.listen) {
    on_client(d);
  } else {
    on_peer(d);
  }
}

void TurnServer::on_client(const Datagram& d) {
  if (turn::looks_like_channel_data(d.payload)) {
    auto cd = turn::parse_channel_data(d.payload);
    Allocation* a = by_client(d.source);
    if (!cd || a == nullptr) return;
    auto it = a->channels.find(cd->channel);
    if (it == a->channels.end()) return;
    ++channel_data_;
    ++to_peers_;
    out_.push_back({a->relayed_for(it->second), it->second, Buffer(cd->data)});
    return;
  }
  auto msg = StunMessage::parse(d.payload);
  if (!msg) return;
  if (msg->message_class() == StunClass::kRequest) {
    on_request(*msg, d);
    return;
  }
  if (msg->message_class() == StunClass::kIndication && msg->method() == method::kSend) {
    Allocation* a = by_client(d.source);
    auto peer = msg->xor_address_attribute(attr::kXorPeerAddress);
    const auto* data = msg->find(attr::kData);
    if (a == nullptr || !peer || data == nullptr || a->permissions.count(peer->ip()) == 0) return;
    ++to_peers_;
    out_.push_back({a->relayed_for(*peer), *peer, Buffer(data->value)});
  }
}

void TurnServer::on_peer(const Datagram& d) {
  for (auto& a : allocations_) {
    if (std::find(a.relayed.begin(), a.relayed.end(), d.destination) == a.relayed.end()) continue;
    if (a.permissions.count(d.source.ip()) == 0) return;  // RFC 8656 9: no permission, dropped
    ++to_clients_;
    for (const auto& [number, peer] : a.channels) {
      if (peer == d.source) {
        out_.push_back(
            {options_.listen, a.client, turn::build_channel_data(number, d.payload, false)});
        return;
      }
    }
    StunMessageBuilder b(StunClass::kIndication, method::kData, stun::random_transaction_id(rng_));
    b.add_xor_address(attr::kXorPeerAddress, d.source).add_bytes(attr::kData, d.payload);
    out_.push_back({options_.listen, a.client, b.finish()});
    return;
  }
}

void TurnServer::sign_with_key(stun::StunMessageBuilder& b) const {
  if (options_.sha256) {
    b.add_message_integrity_sha256(key_);
  } else {
    b.add_message_integrity(key_);
  }
}

void TurnServer::reply_error(const StunMessage& msg, const Datagram& d, int code,
                             std::string_view reason, bool sign) {
  auto b = StunMessageBuilder::response_to(msg, StunClass::kErrorResponse);
  b.add_error_code(code, reason);
  if (code == 401 || code == 438) {
    b.add_string(attr::kRealm, options_.realm);
    b.add_string(attr::kNonce, options_.nonce);
    if (options_.sha256) b.add_bytes(attr::kPasswordAlgorithms, BytesView(kAlgorithms));
  }
  if (sign) sign_with_key(b);
  b.add_fingerprint();
  out_.push_back({options_.listen, d.source, b.finish()});
}

void TurnServer::on_request(const StunMessage& msg, const Datagram& d) {
  // Long-term credentials (RFC 8489 9.2.4): challenge, check, then stale nonces.
  const bool signed_request =
      options_.sha256 ? msg.has(attr::kMessageIntegritySha256) : msg.has(attr::kMessageIntegrity);
  if (!signed_request) return reply_error(msg, d, 401, "Unauthorized", false);
  if (options_.sha256) {
    // The list must come back as sent (a bid-down would change it) with SHA-256 chosen.
    const auto* list = msg.find(attr::kPasswordAlgorithms);
    const auto* chosen = msg.find(attr::kPasswordAlgorithm);
    if (list == nullptr || !equal_bytes(list->value, BytesView(kAlgorithms)) || chosen == nullptr ||
        chosen->value.size() != 4 || chosen->value[1] != 2)
      return reply_error(msg, d, 400, "Bad Request", false);
  }
  if (options_.userhash) {
    const auto* hash = msg.find(attr::kUserhash);
    if (hash == nullptr || msg.has(attr::kUsername) || !equal_bytes(hash->value, userhash_.view()))
      return reply_error(msg, d, 401, "Unauthorized", false);
  } else if (msg.username() != options_.username) {
    return reply_error(msg, d, 401, "Unauthorized", false);
  }
  if (msg.realm() != options_.realm || msg.check_integrity(key_) != stun::IntegrityCheck::kValid)
    return reply_error(msg, d, 401, "Unauthorized", false);
  if (msg.nonce() != options_.nonce) return reply_error(msg, d, 438, "Stale Nonce", false);

  auto ok = StunMessageBuilder::response_to(msg, StunClass::kSuccessResponse);
  Allocation* a = by_client(d.source);
  switch (msg.method()) {
    case method::kAllocate: {
      if (a != nullptr) return reply_error(msg, d, 437, "Allocation Mismatch", true);
      if (msg.u32_attribute(attr::kRequestedTransport) != (17u << 24))
        return reply_error(msg, d, 442, "Unsupported Transport Protocol", true);
      // RFC 8656 7.2: families as the request asks (IPv4 by default); both attributes at
      // once, or an additional family other than IPv6, is a bad request.
      const auto requested = msg.u32_attribute(attr::kRequestedAddressFamily);
      const auto additional = msg.u32_attribute(attr::kAdditionalAddressFamily);
      if ((requested && additional) || (additional && *additional != (2u << 24)) ||
          (requested && *requested != (1u << 24) && *requested != (2u << 24)))
        return reply_error(msg, d, 400, "Bad Request", true);
      const bool want_v4 = !requested || *requested == (1u << 24);
      const bool want_v6 = (requested && *requested == (2u << 24)) || additional.has_value();
      const bool have_v6 = next_relay_v6_ < options_.relay_pool_v6.size();
      if (want_v6 && !want_v4 && !have_v6)
        return reply_error(msg, d, 440, "Address Family not Supported", true);
      if (want_v4 && next_relay_ >= options_.relay_pool.size())
        return reply_error(msg, d, 508, "Insufficient Capacity", true);
      Allocation allocation{d.source, {}, {}, {}};
      if (want_v4) allocation.relayed.push_back(options_.relay_pool[next_relay_++]);
      if (want_v6 && have_v6)
        allocation.relayed.push_back(options_.relay_pool_v6[next_relay_v6_++]);
      for (const auto& relayed : allocation.relayed)
        ok.add_xor_address(attr::kXorRelayedAddress, relayed);
      if (want_v4 && want_v6 && !have_v6) {
        // ADDRESS-ERROR-CODE (RFC 8656 18.12): family, reserved bits, class 4, number 40.
        const std::uint8_t error[] = {2, 0, 4, 40, 'N', 'o', ' ', 'I', 'P', 'v', '6'};
        ok.add_bytes(attr::kAddressErrorCode, BytesView(error, sizeof error));
      }
      allocations_.push_back(std::move(allocation));
      ok.add_xor_address(attr::kXorMappedAddress, d.source);
      ok.add_u32(attr::kLifetime, options_.lifetime_seconds);
      break;
    }
    case method::kRefresh: {
      if (a == nullptr) return reply_error(msg, d, 437, "Allocation Mismatch", true);
      const auto lifetime = msg.u32_attribute(attr::kLifetime).value_or(600);
      if (lifetime == 0) {
        ++deallocations_;
        allocations_.erase(allocations_.begin() + (a - allocations_.data()));
      }
      ok.add_u32(attr::kLifetime, lifetime == 0 ? 0 : options_.lifetime_seconds);
      break;
    }
    case method::kCreatePermission: {
      auto peer = msg.xor_address_attribute(attr::kXorPeerAddress);
      if (a == nullptr) return reply_error(msg, d, 437, "Allocation Mismatch", true);
      if (!peer) return reply_error(msg, d, 400, "Bad Request", true);
      a->permissions.insert(peer->ip());
      break;
    }
    case method::kChannelBind: {
      auto peer = msg.xor_address_attribute(attr::kXorPeerAddress);
      auto number = msg.u32_attribute(attr::kChannelNumber);
      if (a == nullptr) return reply_error(msg, d, 437, "Allocation Mismatch", true);
      if (!peer || !number || !turn::is_valid_channel(static_cast<std::uint16_t>(*number >> 16)))
        return reply_error(msg, d, 400, "Bad Request", true);
      const auto channel = static_cast<std::uint16_t>(*number >> 16);
      auto it = a->channels.find(channel);
      if (it != a->channels.end() && it->second != *peer)
        return reply_error(msg, d, 400, "Bad Request", true);
      a->channels[channel] = *peer;
      a->permissions.insert(peer->ip());  // RFC 8656 12.2
      break;
    }
    default:
      return reply_error(msg, d, 400, "Bad Request", true);
  }
  sign_with_key(ok);
  ok.add_fingerprint();
  out_.push_back({options_.listen, d.source, ok.finish()});
}

}  // namespace rtcpp::sim
