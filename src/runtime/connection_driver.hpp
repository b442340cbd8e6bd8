// Drives a sans-IO pc::Connection with real sockets on a Boost.Asio io_context: reads
// datagrams, writes what the connection wants sent, hands its events to a handler and arms one
// timer at its next deadline. This is the only layer below the public API that touches sockets
// or the clock. The handler answers the connection's requests for sockets and lookups.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "base/net.hpp"
#include "base/time.hpp"
#include "pc/connection.hpp"
#include "runtime/ice_tcp.hpp"
#include "runtime/turn_stream.hpp"

namespace rtcpp::runtime {

// Monotonic time for the protocol cores.
Timestamp monotonic_now();
// What to add to monotonic_now() for the NTP time (RFC 3550 4: since 1900) of the wall clock
// now, for RTCP sender reports (pc::ConnectionConfig::ntp_offset).
Duration monotonic_to_ntp_offset();

// Bounds on ICE-TCP connections (hostile peers can open them without any credentials).
struct IceTcpLimits {
  // Connections accepted on one listening socket and open at once; more are closed at once.
  std::size_t max_accepted_per_listener = 32;
  // Accepted connections not yet authenticated by a STUN check, across all listeners.
  std::size_t max_unauthenticated = 8;
  // An accepted connection must carry a valid STUN check within this time (and nothing but
  // STUN until then), or it is closed.
  std::chrono::milliseconds unauthenticated_timeout{5000};
  // Connections our active candidates open (one per pair at most).
  std::size_t max_active = 64;
};

class ConnectionDriver {
 public:
  using EventHandler = std::function<void(pc::ConnectionEvent&&)>;

  ConnectionDriver(boost::asio::io_context& io, pc::Connection& connection, EventHandler on_event);
  ~ConnectionDriver();
  ConnectionDriver(const ConnectionDriver&) = delete;
  ConnectionDriver& operator=(const ConnectionDriver&) = delete;

  // Binds a UDP socket on `ip` (port chosen by the system) and gives it to ICE as a host
  // candidate (the caller kicks). Errors are OperationError with the system's message.
  Result<SocketAddress> bind(const IpAddress& ip);
  // A TURN server reached over TCP or TLS: ICE's messages to it (Route::kTurnStream) go on a
  // stream opened on first use; what it sends back is
  // handed to the transport with the addresses reversed. TLS verifies the server against the
  // system CAs and `extra_ca_file` (empty: none); errors name the file or the problem.
  Result<> add_turn_stream_server(const SocketAddress& server, const TurnStreamOptions& options,
                                  const std::string& extra_ca_file);
  // ICE-TCP (RFC 6544): listens on `ip` (a port chosen by the system, never the port of one of
  // our UDP sockets on that IP, so that an address names one socket) and gives the listening
  // address to ICE, which makes a passive and an active TCP host candidate of it. Checks from
  // the active candidate (Route::kTcp from a base that is not a listener) open connections;
  // everything on a connection is RFC 4571-framed. Errors are OperationError with the system's
  // message.
  Result<SocketAddress> listen_tcp(const IpAddress& ip);
  void set_ice_tcp_limits(const IceTcpLimits& limits) { tcp_limits_ = limits; }
  std::size_t ice_tcp_connections() const noexcept { return tcp_connections_.size(); }
  // Call after changing the connection from outside (descriptions, candidates, sends): flushes
  // what it wants to send, delivers its events and re-arms the timer.
  void kick();
  // Closes the sockets, listeners and streams of a transport the connection released; the
  // driver goes on with the ones bound next. Safe inside an event handler.
  void release_sockets();
  void close();

  std::uint64_t datagrams_sent() const noexcept { return datagrams_sent_; }
  std::uint64_t datagrams_received() const noexcept { return datagrams_received_; }
  std::uint64_t bytes_sent() const noexcept { return bytes_sent_; }
  std::uint64_t bytes_received() const noexcept { return bytes_received_; }

 private:
  struct Socket {
    boost::asio::ip::udp::socket socket;
    SocketAddress local;
  };
  void receive(Socket& socket);
  void read_batch(Socket& socket);
  // Once the connection carries RTP: kernel receive times on every UDP socket, from then on.
  void enable_receive_times();
  void send(const Datagram& d);
  void send_on_stream(const Datagram& d);
  // True when `d` belongs to ICE-TCP (sent on, or opening, a connection; or dropped).
  bool send_on_tcp(const Datagram& d);
  void accept_next(std::size_t listener);
  void on_tcp_packets(const SocketAddress& local, const SocketAddress& remote,
                      std::vector<Buffer>& packets);
  void on_tcp_closed(const SocketAddress& local, const SocketAddress& remote,
                     const std::shared_ptr<IceTcpConnection>& connection);
  void send_batch(std::vector<Datagram>& batch);
  void arm_timer();

  boost::asio::io_context& io_;
  pc::Connection& connection_;
  EventHandler on_event_;
  std::vector<std::unique_ptr<Socket>> sockets_;
  std::vector<std::unique_ptr<Socket>> released_sockets_;
  boost::asio::steady_timer timer_;
  std::optional<Timestamp> armed_for_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::uint64_t datagrams_sent_ = 0;
  std::uint64_t datagrams_received_ = 0;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t bytes_received_ = 0;
  bool receive_times_ = false;
  std::vector<Datagram> send_batch_;  // reused between kicks
  std::map<SocketAddress, TurnStreamOptions> stream_servers_;
  std::map<std::pair<SocketAddress, SocketAddress>, std::shared_ptr<TurnStream>> streams_;
  std::unique_ptr<boost::asio::ssl::context> tls_context_;
  struct TcpListener {
    boost::asio::ip::tcp::acceptor acceptor;
    SocketAddress local;
    std::size_t open = 0;  // accepted connections still open
  };
  struct TcpConnection {
    std::shared_ptr<IceTcpConnection> connection;
    std::optional<std::size_t> listener;  // accepted on it; nullopt: opened by us
  };
  std::vector<std::unique_ptr<TcpListener>> tcp_listeners_;
  // Keyed by (the local base ICE knows: listening address or active base, remote address).
  std::map<std::pair<SocketAddress, SocketAddress>, TcpConnection> tcp_connections_;
  IceTcpLimits tcp_limits_;
};

}  // namespace rtcpp::runtime
