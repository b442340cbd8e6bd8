// A TURN client (RFC 8656) for one allocation, sans-IO. It allocates a relayed transport
// address on a TURN server with the long-term credential mechanism (RFC 8489 9.2), keeps the
// allocation, its permissions and channel bindings alive, wraps data for peers (Send
// indications until a channel is bound, ChannelData afterwards) and unwraps what the server
// relays back (Data indications and ChannelData). Datagrams it sends go from the local
// socket (`base`) to the server; the owner routes the server's datagrams to handle_packet().
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/bytes.hpp"
#include "base/net.hpp"
#include "base/time.hpp"
#include "stun/stun_message.hpp"
#include "stun/stun_transaction.hpp"

namespace rtcpp::turn {

// How the client reaches the server (RFC 8656 3.1): UDP datagrams, or a TCP or TLS stream on
// which STUN and ChannelData messages are framed (RFC 8656 12.5). The relayed side is UDP.
enum class TurnTransport : std::uint8_t { kUdp, kTcp, kTls };

struct TurnServerConfig {
  SocketAddress server;
  std::string username;
  std::string password;
  TurnTransport transport = TurnTransport::kUdp;
  // The URL it came from, for error events (W3C RTCPeerConnectionIceErrorEvent.url).
  std::string url;
};

// Which relayed addresses an Allocate asks for (RFC 8656 7.1). kServerDefault sends no
// family attribute (the server picks, IPv4 by RFC 8656 7.2); kIpv4/kIpv6 send
// REQUESTED-ADDRESS-FAMILY; kBoth asks for an IPv4 and an IPv6 address in one allocation
// (ADDITIONAL-ADDRESS-FAMILY), so that a host that reaches the server over IPv4 can still
// relay to peers that only have IPv6, and the other way round.
enum class RelayFamilies : std::uint8_t { kServerDefault, kIpv4, kIpv6, kBoth };

struct TurnClientConfig {
  RelayFamilies relay_families = RelayFamilies::kServerDefault;
  // RFC 8656 7.2: the client may ask for a lifetime; the server decides (default 10 min).
  Duration requested_lifetime = Duration::seconds(600);
  // RFC 8656 9: permissions last 5 min; refresh them a minute early while they are in use.
  Duration permission_lifetime = Duration::seconds(300);
  Duration permission_refresh = Duration::seconds(240);
  // RFC 8656 12: channel bindings last 10 min; refresh after 9 while in use.
  Duration channel_lifetime = Duration::seconds(600);
  Duration channel_refresh = Duration::seconds(540);
  // Bounds against a hostile or runaway peer list.
  std::size_t max_permissions = 64;
  std::size_t max_channels = 64;
  // Datagrams held per peer while its permission is being created.
  std::size_t max_queued_per_peer = 16;
  // 300 Try Alternate redirections followed before giving up.
  int max_redirects = 2;
  // 401/438 retries of one request.
  int max_auth_retries = 3;
  stun::TransactionConfig transactions = {};
};

enum class TurnState : std::uint8_t { kIdle, kAllocating, kAllocated, kFailed, kClosing, kClosed };
std::string_view to_string(TurnState state) noexcept;

struct TurnAllocatedEvent {
  SocketAddress relayed;
  // The second relayed address of a dual allocation (RelayFamilies::kBoth), of the other family.
  std::optional<SocketAddress> additional_relayed;
  SocketAddress mapped;  // our server-reflexive address as the server saw it
  Duration lifetime;
};
// An error the W3C icecandidateerror event reports: a STUN error code (300-699) with its
// reason phrase, or 701 when the server could not be reached.
struct TurnErrorEvent {
  int code = 0;
  std::string text;
  bool allocation_lost = false;  // the allocation failed or is gone (not just one permission)
};
struct TurnClosedEvent {};
using TurnEvent = std::variant<TurnAllocatedEvent, TurnErrorEvent, TurnClosedEvent>;

// What handle_packet() made of a datagram from the server.
struct PeerData {
  SocketAddress peer;
  BytesView data;  // a view into the datagram passed to handle_packet()
};
struct NotTurn {};   // not for this client (e.g. a response to someone else's transaction)
struct Consumed {};  // a TURN control message, handled
using TurnInput = std::variant<NotTurn, Consumed, PeerData>;

class TurnClient {
 public:
  // Transaction ids come from `rng`, which must outlive the client.
  TurnClient(TurnClientConfig config, TurnServerConfig server, SocketAddress base, Random& rng);

  const TurnServerConfig& server() const noexcept { return server_; }
  const SocketAddress& server_address() const noexcept { return server_.server; }
  const SocketAddress& base() const noexcept { return base_; }
  TurnState state() const noexcept { return state_; }
  const std::optional<SocketAddress>& relayed_address() const noexcept { return relayed_; }
  // The other family's relayed address of a dual allocation, when the server granted one.
  const std::optional<SocketAddress>& additional_relayed_address() const noexcept {
    return additional_relayed_;
  }
  // Whether `address` is one of this allocation's relayed addresses.
  bool is_relayed_address(const SocketAddress& address) const noexcept {
    return (relayed_ && *relayed_ == address) ||
           (additional_relayed_ && *additional_relayed_ == address);
  }
  // The relayed address that data from (or to) `peer` uses: the one of the peer's family.
  std::optional<SocketAddress> relayed_address_for(const SocketAddress& peer) const noexcept {
    if (additional_relayed_ && additional_relayed_->family() == peer.family())
      return additional_relayed_;
    return relayed_;
  }
  const std::optional<SocketAddress>& mapped_address() const noexcept { return mapped_; }

  // Sends the first Allocate.
  void allocate(Timestamp now);
  // A datagram that came from the server to `base`.
  TurnInput handle_packet(BytesView datagram, Timestamp now);
  // Queues `data` for `peer` through the allocation: ChannelData when a channel is bound,
  // a Send indication when a permission exists, otherwise held (bounded) until
  // CreatePermission succeeds. Returns false when it was dropped.
  bool send_to(const SocketAddress& peer, BytesView data, Timestamp now);
  // The same, for data that can go out right away: the wrapped datagram, or nullopt when
  // it was queued (it then comes out of poll_transmit) or dropped.
  std::optional<Datagram> wrap(const SocketAddress& peer, BytesView data, Timestamp now);
  // Deallocates (Refresh with LIFETIME 0, RFC 8656 7.3).
  void close(Timestamp now);
  // The stream to the server (TCP/TLS) could not be opened or broke: the allocation is gone
  // (RFC 8656 3.1: it lives and dies with the connection). Reported as error 701.
  void transport_failed(std::string text);

  void handle_timeout(Timestamp now);
  std::optional<Datagram> poll_transmit();
  std::optional<TurnEvent> poll_event();
  std::optional<Timestamp> next_timeout() const;

  // Introspection for tests and stats.
  bool has_permission(const IpAddress& peer) const;
  std::optional<std::uint16_t> channel_for(const SocketAddress& peer) const;
  std::size_t permission_count() const noexcept { return permissions_.size(); }
  std::size_t channel_count() const noexcept { return channels_.size(); }
  std::optional<Timestamp> refresh_at() const noexcept {
    return state_ == TurnState::kAllocated ? std::optional<Timestamp>(refresh_at_) : std::nullopt;
  }

 private:
  enum class Kind : std::uint8_t { kAllocate, kRefresh, kPermission, kChannelBind, kDeallocate };
  struct Pending {
    Kind kind;
    stun::TransactionId id{};
    IpAddress peer_ip;
    SocketAddress peer;
    std::uint16_t channel = 0;
    int retries = 0;
  };
  struct Permission {
    bool installed = false;
    bool requesting = false;
    Timestamp expires_at;
    Timestamp refresh_at;
    bool used = false;  // since it was installed or last refreshed
    std::deque<std::pair<SocketAddress, Buffer>> queue;
  };
  struct Channel {
    std::uint16_t number = 0;
    bool bound = false;
    bool requesting = false;
    Timestamp expires_at;
    Timestamp refresh_at;
    bool used = false;  // since it was bound or last refreshed
  };

  void start_request(Pending pending, Timestamp now);
  Buffer build_request(const Pending& pending) const;
  void on_response(const Pending& pending, const stun::StunMessage& msg, Timestamp now);
  void on_failure(const Pending& pending, int code, std::string text, Timestamp now);
  void on_allocate_success(const stun::StunMessage& msg, Timestamp now);
  void request_permission(const IpAddress& ip, Timestamp now);
  void request_channel(const SocketAddress& peer, Timestamp now);
  std::optional<std::uint16_t> free_channel_number();
  Datagram wrap_now(const SocketAddress& peer, BytesView data, Timestamp now);
  void fail(int code, std::string text);
  bool update_nonce(const stun::StunMessage& msg);

  TurnClientConfig config_;
  TurnServerConfig server_;
  SocketAddress base_;
  Random& rng_;
  TurnState state_ = TurnState::kIdle;
  bool stream_ = false;
  int redirects_ = 0;

  // Long-term credentials (RFC 8489 9.2): learnt from the first 401.
  std::string realm_;
  std::string nonce_;
  Buffer key_;
  // RFC 8489 9.2.1/9.2.4: a server whose nonce announces password algorithms lists them in
  // PASSWORD-ALGORITHMS; requests then echo that list, name the chosen algorithm and, for
  // SHA-256, carry MESSAGE-INTEGRITY-SHA256.
  Buffer password_algorithms_;            // the server's attribute value, as received
  std::uint16_t password_algorithm_ = 0;  // 0: none negotiated (MD5 keys, MESSAGE-INTEGRITY)
  // RFC 8489 9.2.1 username anonymity: SHA-256 of the username and realm, sent instead of the
  // username when the nonce announces the feature; empty otherwise.
  Buffer userhash_;

  std::optional<SocketAddress> relayed_;
  std::optional<SocketAddress> additional_relayed_;
  std::optional<SocketAddress> mapped_;
  Duration lifetime_;
  Timestamp refresh_at_ = Timestamp::infinite();
  Timestamp expires_at_ = Timestamp::infinite();

  std::map<IpAddress, Permission> permissions_;
  std::map<SocketAddress, Channel> channels_;
  std::map<std::uint16_t, SocketAddress> channel_peers_;
  std::uint16_t next_channel_ = kFirstChannel;

  stun::ClientTransactions transactions_;
  std::map<std::uint64_t, Pending> pending_;
  std::uint64_t next_tag_ = 1;
  std::deque<Datagram> outgoing_;
  std::deque<TurnEvent> events_;

  static constexpr std::uint16_t kFirstChannel = 0x4000;
};

}  // namespace rtcpp::turn
