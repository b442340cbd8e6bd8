// A minimal TURN server (RFC 8656) for the simulator, sans-IO: UDP allocations with the
// long-term credential mechanism, Refresh, CreatePermission, ChannelBind, Send/Data
// indications and ChannelData. Enough to relay two ICE agents to each other; not a
// production server (no allocation expiry, one user, one fixed nonce unless rotated).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/net.hpp"
#include "base/time.hpp"
#include "stun/stun_message.hpp"

namespace rtcpp::sim {

struct TurnServerOptions {
  SocketAddress listen;                   // where clients talk to the server
  std::vector<SocketAddress> relay_pool;  // relayed addresses to hand out (bind them all)
  // IPv6 relayed addresses, for REQUESTED-ADDRESS-FAMILY IPv6 and dual allocations
  // (ADDITIONAL-ADDRESS-FAMILY, RFC 8656 7.2); empty: IPv6 is refused (440).
  std::vector<SocketAddress> relay_pool_v6;
  std::string realm = "sim.test";
  std::string username = "user";
  std::string password = "pass";
  std::string nonce = "sim-nonce-1";
  std::uint32_t lifetime_seconds = 600;
  // RFC 8489 9.2: announce password algorithms in the nonce, list SHA-256 then MD5, and insist
  // on SHA-256 keys and MESSAGE-INTEGRITY-SHA256 (with the list echoed back unchanged).
  bool sha256 = false;
  // RFC 8489 9.2.1 username anonymity: announce it in the nonce and accept only requests that
  // carry USERHASH (and no USERNAME).
  bool userhash = false;
};

class TurnServer {
 public:
  explicit TurnServer(TurnServerOptions options);

  void handle_packet(const Datagram& d, Timestamp now);
  void handle_timeout(Timestamp) {}
  std::optional<Datagram> poll_transmit();
  std::optional<int> poll_event() { return std::nullopt; }
  std::optional<Timestamp> next_timeout() const { return std::nullopt; }

  // Makes every later request with the old nonce fail with 438 (stale nonce).
  void rotate_nonce(std::string nonce) { options_.nonce = std::move(nonce); }

  std::size_t allocations() const noexcept { return allocations_.size(); }
  std::uint64_t relayed_to_peers() const noexcept { return to_peers_; }
  std::uint64_t relayed_to_clients() const noexcept { return to_clients_; }
  std::uint64_t channel_data_seen() const noexcept { return channel_data_; }
  std::uint64_t deallocations() const noexcept { return deallocations_; }
  // Relayed addresses handed out in total (a dual allocation counts two).
  std::size_t relayed_addresses_granted() const noexcept { return next_relay_ + next_relay_v6_; }

 private:
  SeededRandom rng_{0x7e57};  // transaction ids of the indications it sends
  struct Allocation {
    SocketAddress client;
    std::vector<SocketAddress> relayed;  // one per family
    // The relayed address that talks to `peer`: the one of its family (the first otherwise).
    const SocketAddress& relayed_for(const SocketAddress& peer) const {
      for (const auto& r : relayed) {
        if (r.family() == peer.family()) return r;
      }
      return relayed.front();
    }
    std::set<IpAddress> permissions;
    std::map<std::uint16_t, SocketAddress> channels;
  };

  void on_client(const Datagram& d);
  void on_peer(const Datagram& d);
  void on_request(const stun::StunMessage& msg, const Datagram& d);
  void sign_with_key(stun::StunMessageBuilder& b) const;
  void reply_error(const stun::StunMessage& msg, const Datagram& d, int code,
                   std::string_view reason, bool sign);
  Allocation* by_client(const SocketAddress& client);

  TurnServerOptions options_;
  Buffer key_;
  Buffer userhash_;
  std::vector<Allocation> allocations_;
  std::size_t next_relay_ = 0;
  std::size_t next_relay_v6_ = 0;
  std::deque<Datagram> out_;
  std::uint64_t to_peers_ = 0;
  std::uint64_t to_clients_ = 0;
  std::uint64_t channel_data_ = 0;
  std::uint64_t deallocations_ = 0;
};

}  // namespace rtcpp::sim
