#include "turn/turn_client.hpp"

#include <algorithm>

#include "stun/stun_auth.hpp"
#include "turn/channel_data.hpp"

namespace rtcpp::turn {
namespace {

using stun::StunClass;
using stun::StunMessage;
using stun::StunMessageBuilder;
namespace attr = stun::attr;
namespace method = stun::method;

// RFC 8656 18.7: REQUESTED-TRANSPORT carries the IANA protocol number (17, UDP) in its first
// byte, followed by three reserved bytes.
constexpr std::uint32_t kRequestedTransportUdp = 17u << 24;
// RFC 8656 18.8/18.11: REQUESTED- and ADDITIONAL-ADDRESS-FAMILY carry the family (0x01 IPv4,
// 0x02 IPv6) in the first byte, three reserved bytes after it.
constexpr std::uint32_t kFamilyIpv4 = 0x01u << 24;
constexpr std::uint32_t kFamilyIpv6 = 0x02u << 24;

// Refresh an allocation a minute before it expires (RFC 8656 7.3 leaves the margin to the
// client), but never later than half-way through a short lifetime, nor in a tight loop.
Duration refresh_margin(Duration lifetime) {
  Duration margin = std::min(Duration::seconds(60), lifetime / 2);
  return std::max(margin, Duration::zero());
}

}  // namespace

std::string_view to_string(TurnState state) noexcept {
  switch (state) {
    case TurnState::kIdle:
      return "idle";
    case TurnState::kAllocating:
      return "allocating";
    case TurnState::kAllocated:
      return "allocated";
    case TurnState::kFailed:
      return "failed";
    case TurnState::kClosing:
      return "closing";
    case TurnState::kClosed:
      return "closed";
  }
  return "?";
}

TurnClient::TurnClient(TurnClientConfig config, TurnServerConfig server, SocketAddress base,
                       Random& rng)
    : config_(config),
      server_(std::move(server)),
      base_(base),
      rng_(rng),
      stream_(server_.transport != TurnTransport::kUdp),
      transactions_([&] {
        auto t = config.transactions;
        // RFC 8489 6.2.2: over a reliable transport a request is sent once.
        if (server_.transport != TurnTransport::kUdp) t.reliable = true;
        return t;
      }()) {}

void TurnClient::allocate(Timestamp now) {
  if (state_ != TurnState::kIdle) return;
  state_ = TurnState::kAllocating;
  start_request({Kind::kAllocate}, now);
}

// --- Requests ------------------------------------------------------------------------------

void TurnClient::start_request(Pending pending, Timestamp now) {
  pending.id = stun::random_transaction_id(rng_);
  const std::uint64_t tag = next_tag_++;
  transactions_.start(pending.id, build_request(pending), base_, server_.server, now, tag);
  pending_[tag] = pending;
}

Buffer TurnClient::build_request(const Pending& p) const {
  std::uint16_t m = method::kAllocate;
  switch (p.kind) {
    case Kind::kAllocate:
      m = method::kAllocate;
      break;
    case Kind::kRefresh:
    case Kind::kDeallocate:
      m = method::kRefresh;
      break;
    case Kind::kPermission:
      m = method::kCreatePermission;
      break;
    case Kind::kChannelBind:
      m = method::kChannelBind;
      break;
  }
  StunMessageBuilder b(StunClass::kRequest, m, p.id);
  switch (p.kind) {
    case Kind::kAllocate:
      b.add_u32(attr::kRequestedTransport, kRequestedTransportUdp);
      switch (config_.relay_families) {
        case RelayFamilies::kServerDefault:
          break;
        case RelayFamilies::kIpv4:
          b.add_u32(attr::kRequestedAddressFamily, kFamilyIpv4);
          break;
        case RelayFamilies::kIpv6:
          b.add_u32(attr::kRequestedAddressFamily, kFamilyIpv6);
          break;
        case RelayFamilies::kBoth:
          // RFC 8656 7.1: IPv4 is the default family; the additional one can only be IPv6.
          // Sent under the draft's code point as well, for coturn: both are
          // comprehension-optional, and each server reads only the one it knows.
          b.add_u32(attr::kAdditionalAddressFamily, kFamilyIpv6);
          b.add_u32(attr::kAdditionalAddressFamilyDraft, kFamilyIpv6);
          break;
      }
      b.add_u32(attr::kLifetime, static_cast<std::uint32_t>(config_.requested_lifetime.us() /
                                                            Duration::seconds(1).us()));
      break;
    case Kind::kRefresh:
      b.add_u32(attr::kLifetime, static_cast<std::uint32_t>(config_.requested_lifetime.us() /
                                                            Duration::seconds(1).us()));
      break;
    case Kind::kDeallocate:
      b.add_u32(attr::kLifetime, 0);
      break;
    case Kind::kPermission:
      // The port is ignored by the server (RFC 8656 9.1); send the IP with port 0.
      b.add_xor_address(attr::kXorPeerAddress, SocketAddress(p.peer_ip, 0));
      break;
    case Kind::kChannelBind:
      // RFC 8656 18.1: the channel number in the first two bytes, two reserved bytes (RFFU).
      b.add_u32(attr::kChannelNumber, std::uint32_t{p.channel} << 16);
      b.add_xor_address(attr::kXorPeerAddress, p.peer);
      break;
  }
  // RFC 8489 9.2.3: the first Allocate goes without credentials; once the server named a
  // realm and nonce, every request carries USERNAME, REALM, NONCE and MESSAGE-INTEGRITY.
  if (!nonce_.empty()) {
    // RFC 8489 9.2.3.2: a server that announced username anonymity gets the USERHASH only.
    if (userhash_.empty()) {
      b.add_string(attr::kUsername, server_.username);
    } else {
      b.add_bytes(attr::kUserhash, userhash_.view());
    }
    b.add_string(attr::kRealm, realm_);
    b.add_string(attr::kNonce, nonce_);
    if (password_algorithm_ != 0) {
      b.add_bytes(attr::kPasswordAlgorithms, password_algorithms_.view());
      const std::uint8_t chosen[4] = {static_cast<std::uint8_t>(password_algorithm_ >> 8),
                                      static_cast<std::uint8_t>(password_algorithm_), 0, 0};
      b.add_bytes(attr::kPasswordAlgorithm, BytesView(chosen, 4));
    }
    if (password_algorithm_ == stun::kPasswordAlgorithmSha256) {
      b.add_message_integrity_sha256(key_);
    } else {
      b.add_message_integrity(key_);
    }
  }
  b.add_fingerprint();
  return b.finish();
}

bool TurnClient::update_nonce(const StunMessage& msg) {
  const auto nonce = msg.nonce();
  // RFC 8489 14.9-14.10: REALM and NONCE are under 128 characters (763 bytes).
  if (!nonce || nonce->empty() || nonce->size() > 763) return false;
  // RFC 8489 9.2.1: a nonce that starts with the cookie announces security features; with the
  // password-algorithms bit, PASSWORD-ALGORITHMS lists what the server takes, and the client
  // picks the first it knows (SHA-256 or MD5).
  std::uint16_t algorithm = 0;
  Buffer algorithms;
  if (stun::nonce_announces_password_algorithms(*nonce)) {
    const auto* list = msg.find(attr::kPasswordAlgorithms);
    if (list == nullptr) return false;  // the feature without the list: a bid-down, refused
    algorithm = stun::first_known_password_algorithm(list->value);
    if (algorithm == 0) return false;
    algorithms = Buffer(list->value);
  }
  if (auto realm = msg.realm()) {
    if (realm->empty() || realm->size() > 763) return false;
    if (*realm != realm_ || key_.empty() || algorithm != password_algorithm_) {
      auto key = algorithm == stun::kPasswordAlgorithmSha256
                     ? stun::long_term_key_sha256(server_.username, *realm, server_.password)
                     : stun::long_term_key_md5(server_.username, *realm, server_.password);
      if (!key) return false;
      realm_ = std::string(*realm);
      key_ = std::move(*key);
    }
  } else if (realm_.empty() || algorithm != password_algorithm_) {
    return false;
  }
  if (stun::nonce_announces_username_anonymity(*nonce)) {
    auto hash = stun::userhash(server_.username, realm_);
    if (!hash) return false;
    userhash_ = std::move(*hash);
  } else {
    userhash_ = Buffer();
  }
  password_algorithm_ = algorithm;
  password_algorithms_ = std::move(algorithms);
  nonce_ = std::string(*nonce);
  return true;
}

TurnInput TurnClient::handle_packet(BytesView datagram, Timestamp now) {
  if (state_ == TurnState::kClosed) return NotTurn{};
  if (looks_like_channel_data(datagram)) {
    auto cd = parse_channel_data(datagram);
    if (!cd) return Consumed{};  // malformed: dropped
    auto it = channel_peers_.find(cd->channel);
    if (it == channel_peers_.end()) return Consumed{};
    auto ch = channels_.find(it->second);
    if (ch == channels_.end() || !ch->second.bound) return Consumed{};
    return PeerData{it->second, cd->data};
  }
  auto msg = StunMessage::parse(datagram);
  if (!msg) return NotTurn{};
  if (msg->message_class() == StunClass::kIndication) {
    if (msg->method() != method::kData) return NotTurn{};
    // RFC 8656 11.6: a Data indication needs XOR-PEER-ADDRESS and DATA, and a permission.
    auto peer = msg->xor_address_attribute(attr::kXorPeerAddress);
    const auto* data = msg->find(attr::kData);
    if (!peer || data == nullptr) return Consumed{};
    auto perm = permissions_.find(peer->ip());
    if (perm == permissions_.end() || !perm->second.installed) return Consumed{};
    return PeerData{*peer, data->value};
  }
  if (msg->message_class() == StunClass::kRequest) return NotTurn{};
  // Responses: only those to our transactions. A success response must carry valid
  // MESSAGE-INTEGRITY once we have a key (RFC 8489 9.2.5), or it is dropped as if never
  // received, before it can end the transaction it claims to answer.
  const auto m = msg->method();
  if (m != method::kAllocate && m != method::kRefresh && m != method::kCreatePermission &&
      m != method::kChannelBind)
    return NotTurn{};
  if (msg->message_class() == StunClass::kSuccessResponse && !key_.empty() &&
      msg->check_integrity(key_) != stun::IntegrityCheck::kValid)
    return Consumed{};
  const auto tag = transactions_.match_response(*msg);
  if (!tag) return NotTurn{};
  auto it = pending_.find(*tag);
  if (it == pending_.end()) return Consumed{};
  const Pending pending = it->second;
  pending_.erase(it);
  on_response(pending, *msg, now);
  return Consumed{};
}

void TurnClient::on_response(const Pending& p, const StunMessage& msg, Timestamp now) {
  if (msg.message_class() == StunClass::kErrorResponse) {
    auto error = msg.error_code();
    const int code = error ? error->code : 0;
    std::string text = error ? error->reason : std::string("malformed error response");
    if ((code == 401 || code == 438) && p.retries < config_.max_auth_retries) {
      // 401: the challenge (or credentials the server refused). A second 401 after we
      // answered a challenge with the same realm means the credentials are wrong.
      const bool had_credentials = !nonce_.empty();
      const std::string old_realm = realm_;
      if (update_nonce(msg) &&
          (code == 438 || !had_credentials || p.retries == 0 || realm_ != old_realm)) {
        Pending retry = p;
        ++retry.retries;
        start_request(retry, now);
        return;
      }
    }
    if (code == 300 && p.kind == Kind::kAllocate && redirects_ < config_.max_redirects) {
      // RFC 8656 7.2 / RFC 8489 10: Try Alternate names another server in ALTERNATE-SERVER.
      auto alternate = msg.address_attribute(attr::kAlternateServer);
      if (alternate && alternate->family() == base_.family() && *alternate != server_.server) {
        ++redirects_;
        server_.server = *alternate;
        realm_.clear();
        nonce_.clear();
        key_ = Buffer();
        userhash_ = Buffer();
        password_algorithm_ = 0;
        password_algorithms_ = Buffer();
        start_request({Kind::kAllocate}, now);
        return;
      }
    }
    on_failure(p, code, std::move(text), now);
    return;
  }
  switch (p.kind) {
    case Kind::kAllocate:
      on_allocate_success(msg, now);
      break;
    case Kind::kRefresh: {
      const auto lifetime = msg.u32_attribute(attr::kLifetime);
      lifetime_ = Duration::seconds(std::max<std::int64_t>(lifetime.value_or(600), 1));
      expires_at_ = now + lifetime_;
      refresh_at_ = expires_at_ - refresh_margin(lifetime_);
      break;
    }
    case Kind::kDeallocate:
      state_ = TurnState::kClosed;
      events_.push_back(TurnClosedEvent{});
      break;
    case Kind::kPermission: {
      auto it = permissions_.find(p.peer_ip);
      if (it == permissions_.end()) break;
      Permission& perm = it->second;
      perm.requesting = false;
      perm.installed = true;
      perm.expires_at = now + config_.permission_lifetime;
      perm.refresh_at = now + config_.permission_refresh;
      perm.used = false;
      // What waited for the permission goes out now (Send indications), and each peer that
      // has data gets a channel for what follows.
      while (!perm.queue.empty()) {
        auto [peer, data] = std::move(perm.queue.front());
        perm.queue.pop_front();
        outgoing_.push_back(wrap_now(peer, data, now));
        if (channels_.find(peer) == channels_.end()) request_channel(peer, now);
      }
      break;
    }
    case Kind::kChannelBind: {
      auto it = channels_.find(p.peer);
      if (it == channels_.end()) break;
      it->second.requesting = false;
      it->second.bound = true;
      it->second.expires_at = now + config_.channel_lifetime;
      it->second.refresh_at = now + config_.channel_refresh;
      it->second.used = false;
      // RFC 8656 12.2: a ChannelBind also installs or refreshes the peer's permission.
      auto perm = permissions_.find(p.peer.ip());
      if (perm != permissions_.end() && perm->second.installed)
        perm->second.expires_at =
            std::max(perm->second.expires_at, now + config_.permission_lifetime);
      break;
    }
  }
}

void TurnClient::on_allocate_success(const StunMessage& msg, Timestamp now) {
  if (state_ != TurnState::kAllocating) return;
  // RFC 8656 7.3: one XOR-RELAYED-ADDRESS per family granted (two for a dual allocation;
  // a family the server could not give is named in ADDRESS-ERROR-CODE instead).
  const auto relayed_addresses = msg.xor_address_attributes(attr::kXorRelayedAddress);
  if (relayed_addresses.empty()) {
    fail(500, "Allocate response without XOR-RELAYED-ADDRESS");
    return;
  }
  const SocketAddress* relayed = &relayed_addresses.front();
  if (config_.relay_families == RelayFamilies::kBoth) {
    for (const auto& other : relayed_addresses) {
      if (other.family() != relayed->family()) {
        additional_relayed_ = other;
        break;
      }
    }
  }
  if (auto mapped = msg.xor_mapped_address()) mapped_ = *mapped;
  const auto lifetime = msg.u32_attribute(attr::kLifetime);
  lifetime_ = Duration::seconds(std::max<std::int64_t>(lifetime.value_or(600), 1));
  relayed_ = *relayed;
  state_ = TurnState::kAllocated;
  expires_at_ = now + lifetime_;
  refresh_at_ = expires_at_ - refresh_margin(lifetime_);
  events_.push_back(
      TurnAllocatedEvent{*relayed_, additional_relayed_, mapped_.value_or(base_), lifetime_});
}

void TurnClient::on_failure(const Pending& p, int code, std::string text, Timestamp now) {
  switch (p.kind) {
    case Kind::kAllocate:
    case Kind::kRefresh:
      fail(code, std::move(text));
      break;
    case Kind::kDeallocate:
      state_ = TurnState::kClosed;
      events_.push_back(TurnClosedEvent{});
      break;
    case Kind::kPermission: {
      // The peer is not reachable through this server: drop what waited for it.
      auto it = permissions_.find(p.peer_ip);
      if (it != permissions_.end() && !it->second.installed)
        permissions_.erase(it);
      else if (it != permissions_.end())
        it->second.requesting = false;
      events_.push_back(TurnErrorEvent{code, std::move(text), false});
      break;
    }
    case Kind::kChannelBind: {
      // Data keeps flowing in Send indications.
      auto it = channels_.find(p.peer);
      if (it != channels_.end() && !it->second.bound) {
        channel_peers_.erase(it->second.number);
        channels_.erase(it);
      } else if (it != channels_.end()) {
        it->second.requesting = false;
      }
      events_.push_back(TurnErrorEvent{code, std::move(text), false});
      break;
    }
  }
  (void)now;
}

void TurnClient::transport_failed(std::string text) {
  fail(701, std::move(text));
}

void TurnClient::fail(int code, std::string text) {
  if (state_ == TurnState::kFailed || state_ == TurnState::kClosed) return;
  state_ = TurnState::kFailed;
  for (const auto& [tag, p] : pending_) transactions_.cancel(p.id);
  pending_.clear();
  permissions_.clear();
  channels_.clear();
  channel_peers_.clear();
  refresh_at_ = Timestamp::infinite();
  events_.push_back(TurnErrorEvent{code, std::move(text), true});
}

// --- Permissions, channels and data ---------------------------------------------------------

void TurnClient::request_permission(const IpAddress& ip, Timestamp now) {
  Pending p{Kind::kPermission};
  p.peer_ip = ip;
  permissions_[ip].requesting = true;
  start_request(p, now);
}

std::optional<std::uint16_t> TurnClient::free_channel_number() {
  for (int tries = 0; tries <= kMaxChannel - kMinChannel; ++tries) {
    const std::uint16_t n = next_channel_;
    next_channel_ =
        next_channel_ == kMaxChannel ? kMinChannel : static_cast<std::uint16_t>(next_channel_ + 1);
    if (channel_peers_.find(n) == channel_peers_.end()) return n;
  }
  return std::nullopt;
}

void TurnClient::request_channel(const SocketAddress& peer, Timestamp now) {
  if (channels_.size() >= config_.max_channels) return;  // Send indications it is
  auto number = free_channel_number();
  if (!number) return;
  Channel& ch = channels_[peer];
  ch.number = *number;
  ch.requesting = true;
  channel_peers_[*number] = peer;
  Pending p{Kind::kChannelBind};
  p.peer = peer;
  p.channel = *number;
  start_request(p, now);
}

Datagram TurnClient::wrap_now(const SocketAddress& peer, BytesView data, Timestamp /*now*/) {
  auto ch = channels_.find(peer);
  if (ch != channels_.end() && ch->second.bound) {
    ch->second.used = true;
    return {base_, server_.server, build_channel_data(ch->second.number, data, stream_)};
  }
  // RFC 8656 11.1: a Send indication carries XOR-PEER-ADDRESS and DATA, no integrity.
  StunMessageBuilder b(StunClass::kIndication, method::kSend, stun::random_transaction_id(rng_));
  b.add_xor_address(attr::kXorPeerAddress, peer);
  b.add_bytes(attr::kData, data);
  return {base_, server_.server, b.finish()};
}

std::optional<Datagram> TurnClient::wrap(const SocketAddress& peer, BytesView data, Timestamp now) {
  // Only peers of a family the allocation relays to (both, for a dual allocation).
  if (state_ != TurnState::kAllocated || relayed_address_for(peer)->family() != peer.family())
    return std::nullopt;
  auto it = permissions_.find(peer.ip());
  if (it == permissions_.end()) {
    if (permissions_.size() >= config_.max_permissions) return std::nullopt;
    request_permission(peer.ip(), now);
    it = permissions_.find(peer.ip());
  }
  Permission& perm = it->second;
  perm.used = true;
  if (!perm.installed) {
    if (perm.queue.size() < config_.max_queued_per_peer)
      perm.queue.emplace_back(peer, Buffer(data));
    return std::nullopt;
  }
  if (channels_.find(peer) == channels_.end()) request_channel(peer, now);
  return wrap_now(peer, data, now);
}

bool TurnClient::send_to(const SocketAddress& peer, BytesView data, Timestamp now) {
  if (state_ != TurnState::kAllocated) return false;
  if (auto d = wrap(peer, data, now)) {
    outgoing_.push_back(std::move(*d));
    return true;
  }
  auto it = permissions_.find(peer.ip());
  return it != permissions_.end() && !it->second.queue.empty();
}

void TurnClient::close(Timestamp now) {
  if (state_ == TurnState::kAllocated) {
    // Outstanding requests no longer matter; the deallocation is the last word.
    for (const auto& [tag, p] : pending_) transactions_.cancel(p.id);
    pending_.clear();
    permissions_.clear();
    channels_.clear();
    channel_peers_.clear();
    state_ = TurnState::kClosing;
    start_request({Kind::kDeallocate}, now);
    return;
  }
  if (state_ == TurnState::kClosing || state_ == TurnState::kClosed) return;
  for (const auto& [tag, p] : pending_) transactions_.cancel(p.id);
  pending_.clear();
  state_ = TurnState::kClosed;
  events_.push_back(TurnClosedEvent{});
}

bool TurnClient::has_permission(const IpAddress& peer) const {
  auto it = permissions_.find(peer);
  return it != permissions_.end() && it->second.installed;
}

std::optional<std::uint16_t> TurnClient::channel_for(const SocketAddress& peer) const {
  auto it = channels_.find(peer);
  if (it == channels_.end() || !it->second.bound) return std::nullopt;
  return it->second.number;
}

// --- Time ----------------------------------------------------------------------------------

void TurnClient::handle_timeout(Timestamp now) {
  transactions_.handle_timeout(now);
  while (auto t = transactions_.poll_timeout()) {
    auto it = pending_.find(t->tag);
    if (it == pending_.end()) continue;
    const Pending p = it->second;
    pending_.erase(it);
    // W3C: 701 is what icecandidateerror reports when a server does not answer.
    on_failure(p, 701, "TURN server did not respond", now);
  }
  if (state_ == TurnState::kAllocated) {
    if (now >= expires_at_) {
      fail(437, "allocation expired");
    } else if (now >= refresh_at_) {
      refresh_at_ = Timestamp::infinite();  // until the response sets the next one
      start_request({Kind::kRefresh}, now);
    }
  }
  if (state_ == TurnState::kAllocated) {
    for (auto it = permissions_.begin(); it != permissions_.end();) {
      Permission& perm = it->second;
      if (perm.installed && now >= perm.expires_at) {
        it = permissions_.erase(it);  // unused long enough to lapse
        continue;
      }
      if (perm.installed && !perm.requesting && now >= perm.refresh_at) {
        // Refresh only while in use (RFC 8656 9: the client keeps wanted permissions alive).
        if (perm.used) {
          perm.refresh_at = Timestamp::infinite();
          request_permission(it->first, now);
        } else {
          perm.refresh_at = perm.expires_at;
        }
      }
      ++it;
    }
    for (auto it = channels_.begin(); it != channels_.end();) {
      Channel& ch = it->second;
      if (ch.bound && now >= ch.expires_at) {
        channel_peers_.erase(ch.number);
        it = channels_.erase(it);
        continue;
      }
      if (ch.bound && !ch.requesting && now >= ch.refresh_at) {
        if (ch.used) {
          ch.refresh_at = Timestamp::infinite();
          ch.requesting = true;
          Pending p{Kind::kChannelBind};
          p.peer = it->first;
          p.channel = ch.number;
          start_request(p, now);
        } else {
          ch.refresh_at = ch.expires_at;
        }
      }
      ++it;
    }
  }
}

std::optional<Datagram> TurnClient::poll_transmit() {
  while (auto d = transactions_.poll_transmit()) outgoing_.push_back(std::move(*d));
  if (outgoing_.empty()) return std::nullopt;
  Datagram d = std::move(outgoing_.front());
  outgoing_.pop_front();
  return d;
}

std::optional<TurnEvent> TurnClient::poll_event() {
  if (events_.empty()) return std::nullopt;
  TurnEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::optional<Timestamp> TurnClient::next_timeout() const {
  std::optional<Timestamp> t = transactions_.next_timeout();
  auto consider = [&t](Timestamp x) {
    if (x != Timestamp::infinite() && (!t || x < *t)) t = x;
  };
  if (state_ == TurnState::kAllocated) {
    consider(refresh_at_);
    consider(expires_at_);
    for (const auto& [ip, perm] : permissions_) {
      if (!perm.installed) continue;
      if (!perm.requesting) consider(perm.refresh_at);
      consider(perm.expires_at);
    }
    for (const auto& [peer, ch] : channels_) {
      if (!ch.bound) continue;
      if (!ch.requesting) consider(ch.refresh_at);
      consider(ch.expires_at);
    }
  }
  return t;
}

}  // namespace rtcpp::turn
