// The ICE agent (RFC 8445, with trickle per RFC 8838 and consent freshness per RFC 7675),
// sans-IO. The runtime tells it which local UDP sockets exist (add_host_address) and feeds
// it the STUN datagrams that arrive on them; the agent forms candidates and pairs, paces
// connectivity checks, answers the peer's checks, nominates, and keeps consent. Everything
// that is not STUN goes to DTLS through the selected pair.
//
// The agent composes the units and owns what they share (the role, the credentials, the
// STUN transactions, the queues): Gatherer (our candidates), CheckList (pairs, their states
// and nomination), connectivity_check.hpp (the Binding messages, and answering the peer's),
// ConsentFreshness (RFC 7675) and IceRestart (RFC 8445 9).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "base/net.hpp"
#include "base/random.hpp"
#include "base/time.hpp"
#include "ice/candidate.hpp"
#include "ice/check_list.hpp"
#include "ice/consent.hpp"
#include "ice/events.hpp"
#include "ice/gatherer.hpp"
#include "ice/restart.hpp"
#include "ice/types.hpp"
#include "stun/stun_message.hpp"
#include "stun/stun_transaction.hpp"
#include "turn/turn_client.hpp"

namespace rtcpp::ice {

class IceAgent {
 public:
  IceAgent(IceConfig config, IceRole role, IceCredentials local, Random& rng);

  const IceCredentials& local_credentials() const noexcept { return local_; }
  IceRole role() const noexcept { return role_; }
  IceTransportState state() const noexcept { return state_; }
  IceGatheringState gathering_state() const noexcept { return gatherer_.state(); }

  // --- Gathering ---
  // The relay-only policy (IceConfig::relay_only): at once until the first host address, else
  // from the next restart_local.
  void set_relay_only(bool relay_only) { gatherer_.set_relay_only(relay_only); }
  // A server no longer configured (Gatherer::remove_server); before restart_local.
  void remove_server(const std::string& url, Timestamp now) {
    gatherer_.remove_server(url, now, events_);
  }
  // The role, when it is known only after gathering began (a candidate pool gathered before
  // the first description); pair priorities follow it.
  void set_role(IceRole role);
  // A bound local UDP socket: becomes a host candidate (and the base of server-reflexive
  // ones). Loopback and link-local addresses are accepted: tests run where `lo` is all there is.
  void add_host_address(const SocketAddress& address, Timestamp now);
  // A STUN server to learn server-reflexive candidates from (RFC 8445 5.1.1.2).
  void add_stun_server(const SocketAddress& server, Timestamp now, std::string url = {});
  // A TURN server (RFC 8656): one allocation per host socket of the server's family, each
  // becoming a relayed candidate (RFC 8445 5.1.1.2) that is paired and checked like the
  // others; its traffic goes through the TURN client. Over UDP the client sends from the host
  // socket; over TCP or TLS its messages leave from the host's IP with port 0 (turn_stream_base):
  // the runtime carries them on a stream to the server and hands back what arrives on it with
  // the same addresses, reversed.
  void add_turn_server(const turn::TurnServerConfig& server, Timestamp now);
  static SocketAddress turn_stream_base(const IpAddress& host) {
    return Gatherer::turn_stream_base(host);
  }
  // The runtime could not open (or lost) the stream from `base` to a TCP/TLS TURN server.
  void turn_stream_failed(const SocketAddress& base, const SocketAddress& server, std::string text,
                          Timestamp now);
  // ICE-TCP (RFC 6544). A TCP socket listening on a host IP: it becomes a passive host
  // candidate (the listening port), and the IP an active one (port 9 in SDP, RFC 6544 4.5).
  // The active candidate's base is tcp_active_base(ip): the checks it sends leave from that
  // address, and the runtime opens a connection for the first one to each remote (and carries
  // everything else from that base to that remote on it). What arrives on a connection is
  // handed to handle_packet / the transport with the connection's addresses: for a connection
  // we opened, destination = tcp_active_base(ip); for one accepted by the listener, destination
  // = the listening address and source = the peer's (RFC 6544 7.2 learns it as a
  // peer-reflexive candidate when its check authenticates). Ignored under relay_only.
  void add_tcp_host_address(const SocketAddress& listening, Timestamp now);
  static constexpr std::uint16_t kTcpActivePort = Gatherer::kTcpActivePort;
  static SocketAddress tcp_active_base(const IpAddress& host) {
    return Gatherer::tcp_active_base(host);
  }
  // The runtime's connection between `local` (a TCP candidate's base) and `remote` failed to
  // open or closed: its pair fails (RFC 6544 7.1); when it was the selected pair, consent is
  // lost with it and the agent fails (RFC 7675 5.1) unless an ICE restart finds another path.
  void tcp_connection_closed(const SocketAddress& local, const SocketAddress& remote,
                             Timestamp now);
  // True once a check from `remote` arriving on `local` authenticated (the pair exists): the
  // runtime then stops treating an accepted connection as a stranger (RFC 6544 7.2).
  bool tcp_connection_authenticated(const SocketAddress& local, const SocketAddress& remote) const {
    return find_pair(local, remote).has_value();
  }
  // Whether a datagram that is not STUN (DTLS, SRTP) comes from the peer as ICE knows it: the
  // remote end of the data path or of a candidate pair (signaled, or peer-reflexive from an
  // authenticated check). Anything else is a stranger's and is dropped before DTLS and SRTP,
  // which would otherwise take it into the handshake or the record layer (RFC 8445 11: data
  // is sent and received on the selected pair; RFC 7983 demuxes only what ICE admits).
  bool accepts_data_from(const Datagram& datagram) const;
  // Data (DTLS) that accepts_data_from() admitted, before a pair is selected: the peer sends
  // on this pair, so it selected it, and our check on it (a nomination whose answer was lost,
  // or a check still in progress) goes again at once instead of at its backed-off timer.
  void on_data_before_selection(const Datagram& datagram, Timestamp now);
  // No more host addresses will come; gathering completes once STUN and TURN servers answered.
  void finish_gathering(Timestamp now);

  // --- Remote side ---
  // The peer's ufrag/pwd. Credentials other than the current ones are the peer's ICE restart
  // (RFC 8445 9): its candidates and every pair are dropped, and checking starts again once our
  // own new credentials are in place too (restart_local).
  Result<> set_remote_credentials(std::string ufrag, std::string pwd, Timestamp now);
  // A trickled remote candidate (before or after the credentials). UDP candidates and TCP
  // passive ones (RFC 6544) with an IP address take part; TCP active and simultaneous-open
  // candidates are accepted and ignored (an active peer shows itself by connecting, and
  // simultaneous open is not implemented), as are names not resolved yet.
  Result<> add_remote_candidate(const Candidate& candidate, Timestamp now);
  void end_of_remote_candidates(Timestamp now);

  // --- ICE restart (RFC 8445 9, RFC 8839 4.4.1.1.1) ---
  // New local credentials: local candidates are offered again under them (a new gathering
  // round; the sockets and TURN allocations are kept), the remote candidates and every pair
  // are dropped, and checks start once the peer's new credentials are known. The pair that
  // was selected keeps carrying data, its consent kept under the old credentials, until a new
  // pair is selected; a connection that had failed goes back to checking.
  void restart_local(IceCredentials local, Timestamp now);
  // True from the start of a restart until a new pair is selected.
  bool restarting() const noexcept { return restart_.in_progress(); }

  // --- Sans-IO ---
  // A STUN datagram that arrived on one of our sockets (destination = that socket). TURN
  // traffic from a TURN server is unwrapped; relayed data that is not STUN is dropped here
  // (a caller with other protocols on the socket uses handle_turn_packet).
  void handle_packet(const Datagram& datagram, Timestamp now);
  // True when `datagram` came from one of our TURN servers to the socket talking to it.
  bool from_turn_server(const Datagram& datagram) const;
  // A datagram from a TURN server (any first byte: STUN or ChannelData, RFC 7983). TURN
  // control traffic is handled here; what the server relayed from a peer is handled as if it
  // had arrived at the relayed address: STUN by the agent, anything else returned (source =
  // the peer, destination = the relayed address) for the layers above.
  std::optional<Datagram> handle_turn_packet(const Datagram& datagram, Timestamp now);
  // Data (DTLS) for the selected pair: the datagram to send, wrapped for the TURN server
  // when the local candidate is relayed. nullopt when there is no selected pair, or when the
  // TURN client holds the data until its permission exists (it then leaves by poll_transmit).
  std::optional<Datagram> wrap_for_selected_pair(Buffer payload, Timestamp now);
  void handle_timeout(Timestamp now);
  std::optional<Datagram> poll_transmit();
  std::optional<IceEvent> poll_event();
  std::optional<Timestamp> next_timeout() const;

  // Stops the agent; TURN allocations are released (their deallocation still comes out of
  // poll_transmit, and the agent's timer keeps running until they are done).
  void close();

  // The pair data goes over, once one is selected.
  struct SelectedPair {
    SocketAddress local;
    SocketAddress remote;
  };
  std::optional<SelectedPair> selected_pair() const;

  // The remote candidates ICE knows (signaled, trickled, resolved or peer-reflexive), for stats.
  std::vector<Candidate> remote_candidates() const {
    std::vector<Candidate> out;
    out.reserve(check_list_.remotes().size());
    for (const auto& r : check_list_.remotes()) out.push_back(r.candidate);
    return out;
  }

  // Counts for stats and tests.
  std::size_t pair_count() const noexcept { return check_list_.pairs().size(); }
  // Every pair of the current ICE generation (CandidatePair::local indexes local_candidates(),
  // ::remote remote_candidates()), and which one is selected.
  const std::vector<CandidatePair>& pairs() const noexcept { return check_list_.pairs(); }
  const std::vector<LocalCandidate>& local_candidates() const noexcept {
    return gatherer_.candidates();
  }
  std::optional<std::size_t> selected_pair_index() const noexcept { return selected_; }
  std::size_t checks_sent() const noexcept { return checks_sent_; }

 private:
  Route route_of(const SocketAddress& source) const;
  void send_stun_queries(Timestamp now);
  // Pairs the local candidates the gatherer added since the last call.
  void pair_new_locals();
  void process_turn_events();
  void switch_role(IceRole role);
  void begin_restart(Timestamp now);
  bool checks_allowed() const noexcept { return remote_ && restart_.checks_allowed(); }
  std::optional<std::size_t> find_pair(const SocketAddress& local,
                                       const SocketAddress& remote) const {
    return check_list_.find_pair(gatherer_.candidates(), local, remote);
  }

  void handle_stun(const Datagram& d, Timestamp now);
  void handle_request(const stun::StunMessage& msg, const Datagram& d, Timestamp now);
  void handle_response(const stun::StunMessage& msg, const Datagram& d, Timestamp now);
  void handle_check_response(std::size_t pair, const stun::StunMessage& msg, const Datagram& d,
                             Timestamp now);
  void on_check_success(std::size_t pair, Timestamp now);
  void on_check_failure(std::size_t pair, Timestamp now);
  void send_check(std::size_t pair, bool use_candidate, Timestamp now);
  void send_consent_check(Timestamp now);
  void maybe_nominate(Timestamp now);
  void select(std::size_t pair, Timestamp now);
  // The path data goes over: the selected pair, or during a restart the one selected before.
  struct DataPath {
    const LocalCandidate* local;
    const SocketAddress* remote;
  };
  std::optional<DataPath> data_path() const;
  void update_state(Timestamp now);
  void set_state(IceTransportState state);
  // Queues a datagram; one from a relayed candidate goes through its TURN client.
  void emit(Datagram d);

  IceConfig config_;
  IceRole role_;
  IceCredentials local_;
  std::optional<IceCredentials> remote_;
  Random& rng_;
  std::uint64_t tie_breaker_;
  IceTransportState state_ = IceTransportState::kNew;
  bool remote_end_of_candidates_ = false;
  bool closed_ = false;

  Gatherer gatherer_;
  CheckList check_list_;
  std::size_t locals_paired_ = 0;  // the gatherer's candidates before this one are paired
  ConsentFreshness consent_;
  IceRestart restart_;
  stun::ClientTransactions transactions_;
  Timestamp now_ = Timestamp::zero();  // the latest time we were given

  std::deque<Datagram> outgoing_;
  std::deque<IceEvent> events_;

  Timestamp next_check_at_ = Timestamp::zero();
  std::optional<std::size_t> selected_;  // index into the check list's pairs
  std::size_t checks_sent_ = 0;
};

}  // namespace rtcpp::ice
