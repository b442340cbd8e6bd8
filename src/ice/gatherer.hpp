// Gathering (RFC 8445 5.1): our candidates and the sockets, servers and TURN allocations they
// come from. Host candidates from the UDP sockets and TCP listeners the runtime registers,
// server-reflexive ones from STUN servers' answers, relayed ones from TURN allocations (one
// TurnClient per server and host socket); the gathering state of W3C RTCIceGatheringState.
// The gatherer does not send: its Binding requests to STUN servers are handed to the agent
// (poll_stun_query), which runs them with its other transactions and reports the outcome.
// Candidates are only appended, so the caller pairs whatever lies beyond the count it saw before a
// call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/net.hpp"
#include "base/random.hpp"
#include "base/time.hpp"
#include "ice/events.hpp"
#include "ice/types.hpp"
#include "stun/stun_message.hpp"
#include "turn/turn_client.hpp"

namespace rtcpp::ice {

class Gatherer {
 public:
  // RFC 6544 4.5: an active TCP candidate has no port of its own; it is written as 9
  // (discard), and ip:9 is its base.
  static constexpr std::uint16_t kTcpActivePort = 9;
  static SocketAddress tcp_active_base(const IpAddress& host) { return {host, kTcpActivePort}; }
  // Where a TURN client over TCP or TLS sends from: the host's IP with port 0.
  static SocketAddress turn_stream_base(const IpAddress& host) { return {host, 0}; }

  // A Binding request to send from `base` to a STUN server; `query` identifies it when its
  // response (or its timeout) is reported back.
  struct StunQuery {
    std::size_t query = 0;
    stun::TransactionId id;
    Buffer request;
    SocketAddress base;
    SocketAddress server;
  };

  // `rng` outlives the gatherer (the TURN clients draw from it).
  Gatherer(const IceConfig& config, std::string ufrag, Random& rng);

  IceGatheringState state() const noexcept { return state_; }
  const std::vector<LocalCandidate>& candidates() const noexcept { return candidates_; }
  // The candidate that sends from `base` (server-reflexive ones share their host's base and
  // are never the one).
  std::optional<std::size_t> find_by_base(const SocketAddress& base) const;

  // The relay-only policy: at once before the first host address, else from the next
  // restart (W3C 4.4.1.6: a new ICE transports setting waits for the next gathering phase).
  void set_relay_only(bool relay_only) {
    if (host_addresses_.empty()) relay_only_ = relay_only;
    next_relay_only_ = relay_only;
  }
  // The add_* calls return false when they changed nothing (closed, or known already).
  bool add_host_address(const SocketAddress& address, Timestamp now, std::deque<IceEvent>& events);
  bool add_tcp_host_address(const SocketAddress& listening, std::deque<IceEvent>& events);
  // A TCP candidate's base: a listening address, or the active base on its IP.
  bool is_tcp_base(const SocketAddress& address) const;
  // `url` is the server as configured (reported with its server-reflexive candidates).
  void add_stun_server(const SocketAddress& server, std::string url = {});
  bool add_turn_server(const turn::TurnServerConfig& server, Timestamp now,
                       std::deque<IceEvent>& events);
  // No more host addresses: gathering completes once the servers have answered.
  void finish_host_addresses(std::deque<IceEvent>& events);
  // A server (by its configured URL) no longer in the configuration: its candidates are
  // withdrawn, it is asked nothing more, and its allocations are released (RFC 8656 7.3).
  void remove_server(const std::string& url, Timestamp now, std::deque<IceEvent>& events);
  // An ICE restart: the same candidates offered again under `ufrag`, a new gathering round.
  void restart(std::string ufrag, std::deque<IceEvent>& events);

  // --- STUN servers (RFC 8445 5.1.1.2) ---
  std::optional<StunQuery> poll_stun_query();
  // A success response brings a server-reflexive candidate (unless it is the base itself).
  void on_stun_response(std::size_t query, const stun::StunMessage& response,
                        std::deque<IceEvent>& events);
  void on_stun_timeout(std::deque<IceEvent>& events);

  // --- TURN (RFC 8656) ---
  // Turns what the TURN clients report into relayed candidates and error events.
  void process_turn_events(std::deque<IceEvent>& events);
  bool from_turn_server(const Datagram& datagram) const;
  // The client a datagram from a TURN server is for, if any.
  turn::TurnClient* turn_client_for(const Datagram& from_server);
  turn::TurnClient& turn_client(std::size_t index) { return *turns_[index].client; }
  // Sends `datagram` through the TURN client whose relayed address it leaves from; false
  // when it does not leave from a relayed address (it is the caller's to send).
  bool send_relayed(const Datagram& datagram, Timestamp now);
  void turn_stream_failed(const SocketAddress& base, const SocketAddress& server,
                          const std::string& text);
  void handle_timeout(Timestamp now);
  // What the TURN clients send, client by client.
  std::optional<Datagram> poll_transmit();
  std::optional<Timestamp> next_timeout() const;
  // Releases the allocations; nothing more is gathered or reported.
  void close(Timestamp now);

 private:
  struct TurnEntry {
    std::unique_ptr<turn::TurnClient> client;
    bool gathering = true;  // counted in turns_outstanding_
  };

  void begin_gathering(std::deque<IceEvent>& events);
  void add_host_candidate(const SocketAddress& address, std::deque<IceEvent>& events);
  void apply_relay_only(bool relay_only);
  void maybe_complete(std::deque<IceEvent>& events);
  void add_candidate(Candidate candidate, const SocketAddress& base, std::deque<IceEvent>& events,
                     std::optional<std::size_t> turn = std::nullopt, std::string url = {},
                     std::string relay_protocol = {});
  void query_stun_server(const SocketAddress& host, const SocketAddress& server);
  void stun_query_done(std::deque<IceEvent>& events);
  void start_turn(const SocketAddress& host, const turn::TurnServerConfig& server, Timestamp now,
                  std::deque<IceEvent>& events);
  void add_relayed_candidates(std::size_t turn_index, const turn::TurnAllocatedEvent& allocated,
                              std::deque<IceEvent>& events);

  bool relay_only_;
  bool next_relay_only_;  // applied at the next restart
  bool udp_candidates_;
  turn::TurnClientConfig turn_config_;
  std::size_t max_turn_clients_;
  std::string ufrag_;
  Random& rng_;
  IceGatheringState state_ = IceGatheringState::kNew;
  bool hosts_done_ = false;
  bool closed_ = false;

  std::vector<SocketAddress> host_addresses_;
  std::vector<SocketAddress> tcp_listeners_;
  std::vector<LocalCandidate> candidates_;

  std::vector<SocketAddress> stun_servers_;
  std::vector<std::string> stun_server_urls_;  // index for index with stun_servers_
  struct QueryTarget {
    SocketAddress base;
    SocketAddress server;
    std::string url;
  };
  std::vector<QueryTarget> stun_queries_;  // every query made; `query` indexes this
  std::deque<StunQuery> stun_queries_unsent_;
  std::size_t stun_queries_outstanding_ = 0;

  std::vector<turn::TurnServerConfig> turn_servers_;
  std::vector<TurnEntry> turns_;
  std::size_t turns_outstanding_ = 0;
};

}  // namespace rtcpp::ice
