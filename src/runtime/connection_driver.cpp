#include "runtime/connection_driver.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstring>
#include <ctime>
#include <vector>

#include "base/log.hpp"
#include "stun/stun_message.hpp"

namespace rtcpp::runtime {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

SocketAddress from_endpoint(const udp::endpoint& e) {
  const auto a = e.address();
  if (a.is_v4()) return {IpAddress::v4(a.to_v4().to_uint()), e.port()};
  return {IpAddress::v6(a.to_v6().to_bytes()), e.port()};
}

udp::endpoint to_endpoint(const SocketAddress& s) {
  if (s.ip().is_v4()) return {asio::ip::address_v4(s.ip().v4_host_order()), s.port()};
  asio::ip::address_v6::bytes_type bytes{};
  std::copy(s.ip().bytes().begin(), s.ip().bytes().end(), bytes.begin());
  return {asio::ip::address_v6(bytes), s.port()};
}

// Datagrams read per recvmmsg call, and the largest one kept (WebRTC stays under the path
// MTU; anything longer is truncated by the kernel and dropped here).
constexpr std::size_t kReceiveBatch = 32;
constexpr std::size_t kReceiveSlot = 4096;
// recvmmsg calls per readiness event before the other sockets and timers get a turn.
constexpr int kReadRounds = 4;
constexpr std::size_t kSendBatch = 64;

// The recvmmsg slots, one set for every socket this thread reads: a socket is read only when
// it is readable and each datagram is handled (copied) before the next read, so an idle
// connection holds no receive buffer of its own.
std::uint8_t* thread_receive_slots() {
  thread_local std::vector<std::uint8_t> slots(kReceiveBatch * kReceiveSlot);
  return slots.data();
}

SocketAddress from_sockaddr(const sockaddr_storage& sa) {
  if (sa.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(sa);
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &in6.sin6_addr, 16);
    return {IpAddress::v6(bytes), ntohs(in6.sin6_port)};
  }
  const auto& in4 = reinterpret_cast<const sockaddr_in&>(sa);
  return {IpAddress::v4(ntohl(in4.sin_addr.s_addr)), ntohs(in4.sin_port)};
}

socklen_t to_sockaddr(const SocketAddress& a, sockaddr_storage& sa) {
  std::memset(&sa, 0, sizeof sa);
  if (a.ip().is_v4()) {
    auto& in4 = reinterpret_cast<sockaddr_in&>(sa);
    in4.sin_family = AF_INET;
    in4.sin_port = htons(a.port());
    in4.sin_addr.s_addr = htonl(a.ip().v4_host_order());
    return sizeof(sockaddr_in);
  }
  auto& in6 = reinterpret_cast<sockaddr_in6&>(sa);
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(a.port());
  std::memcpy(&in6.sin6_addr, a.ip().bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

}  // namespace

Timestamp monotonic_now() {
  const auto t = std::chrono::steady_clock::now().time_since_epoch();
  return Timestamp::micros(std::chrono::duration_cast<std::chrono::microseconds>(t).count());
}

// Room for one SCM_TIMESTAMPNS control message.
constexpr std::size_t kReceiveControl = CMSG_SPACE(sizeof(timespec));

// The kernel's receive time of a datagram read with SO_TIMESTAMPNS (CLOCK_REALTIME), on the
// monotonic clock: `realtime_minus_monotonic` is the difference of the two clocks now.
std::optional<Timestamp> kernel_receive_time(const msghdr& message,
                                             std::int64_t realtime_minus_monotonic_us,
                                             Timestamp read_at) {
  for (const cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&message), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec ts{};
    std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
    const std::int64_t realtime_us = std::int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
    const Timestamp at = Timestamp::micros(realtime_us - realtime_minus_monotonic_us);
    // A wall clock stepped since then makes it meaningless: only a plausible time is taken.
    if (at > read_at + Duration::seconds(1) || at < read_at - Duration::seconds(1)) return {};
    return at;
  }
  return {};
}

std::int64_t realtime_minus_monotonic_us() {
  timespec real{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  const std::int64_t real_us = std::int64_t{real.tv_sec} * 1'000'000 + real.tv_nsec / 1000;
  return real_us - monotonic_now().us();
}

Duration monotonic_to_ntp_offset() {
  // RFC 868: 2,208,988,800 seconds from 1900 to the Unix epoch.
  constexpr std::int64_t kNtpUnixOffsetSeconds = 2208988800;
  const auto unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  return Duration::micros(unix_us + kNtpUnixOffsetSeconds * 1000000 - monotonic_now().us());
}

ConnectionDriver::ConnectionDriver(asio::io_context& io, pc::Connection& connection,
                                   EventHandler on_event)
    : io_(io), connection_(connection), on_event_(std::move(on_event)), timer_(io) {}

ConnectionDriver::~ConnectionDriver() {
  close();
}

Result<SocketAddress> ConnectionDriver::bind(const IpAddress& ip) {
  auto s = std::make_unique<Socket>(Socket{udp::socket(io_), {}});
  boost::system::error_code ec;
  const udp::endpoint endpoint = to_endpoint({ip, 0});
  s->socket.open(endpoint.protocol(), ec);
  if (!ec) s->socket.bind(endpoint, ec);
  if (ec)
    return operation_error("cannot bind UDP socket on " + ip.to_string() + ": " + ec.message());
  // Large buffers: a bulk transfer sends bursts of a congestion window at a time.
  s->socket.set_option(asio::socket_base::receive_buffer_size(4 * 1024 * 1024), ec);
  s->socket.set_option(asio::socket_base::send_buffer_size(4 * 1024 * 1024), ec);
  if (receive_times_) {
    const int on = 1;
    ::setsockopt(s->socket.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
  }
  s->local = from_endpoint(s->socket.local_endpoint());
  Socket& ref = *s;
  sockets_.push_back(std::move(s));
  connection_.add_host_address(ref.local, monotonic_now());
  receive(ref);
  return ref.local;
}

void ConnectionDriver::receive(Socket& socket) {
  std::weak_ptr<bool> alive = alive_;
  socket.socket.async_wait(udp::socket::wait_read,
                           [this, &socket, alive](const boost::system::error_code& ec) {
                             if (alive.expired() || ec == asio::error::operation_aborted) return;
                             if (!ec) read_batch(socket);
                             receive(socket);
                           });
}

void ConnectionDriver::read_batch(Socket& socket) {
  // Everything that is waiting, in batches of recvmmsg, then one kick for all of it: the
  // protocols answer a whole burst of packets at once (one SACK, one flush).
  std::array<mmsghdr, kReceiveBatch> messages{};
  std::array<iovec, kReceiveBatch> vectors{};
  std::array<sockaddr_storage, kReceiveBatch> senders{};
  std::array<std::array<std::uint8_t, kReceiveControl>, kReceiveBatch> controls{};
  const Timestamp now = monotonic_now();
  const std::int64_t clock_offset_us = realtime_minus_monotonic_us();
  std::uint8_t* const slots = thread_receive_slots();
  bool any = false;
  for (int round = 0; round < kReadRounds; ++round) {
    for (std::size_t i = 0; i < kReceiveBatch; ++i) {
      vectors[i] = {slots + i * kReceiveSlot, kReceiveSlot};
      messages[i] = {};
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_name = &senders[i];
      messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      messages[i].msg_hdr.msg_control = controls[i].data();
      messages[i].msg_hdr.msg_controllen = kReceiveControl;
    }
    const int n = ::recvmmsg(socket.socket.native_handle(), messages.data(), kReceiveBatch,
                             MSG_DONTWAIT, nullptr);
    if (n <= 0) break;
    for (int i = 0; i < n; ++i) {
      const mmsghdr& m = messages[static_cast<std::size_t>(i)];
      if ((m.msg_hdr.msg_flags & MSG_TRUNC) != 0) continue;
      ++datagrams_received_;
      bytes_received_ += m.msg_len;
      Datagram d{from_sockaddr(senders[static_cast<std::size_t>(i)]), socket.local,
                 Buffer(BytesView(slots + static_cast<std::size_t>(i) * kReceiveSlot, m.msg_len))};
      d.received = kernel_receive_time(m.msg_hdr, clock_offset_us, now);
      connection_.handle_datagram(d, now);
      any = true;
    }
    if (static_cast<std::size_t>(n) < kReceiveBatch) break;
  }
  if (!receive_times_ && connection_.carries_media()) enable_receive_times();
  if (any) kick();
}

// Each datagram's kernel receive time, which transport-cc feedback reports: stamped when
// read, a loop busy elsewhere would add its delay to the network's. Only for connections with
// RTP (the timestamps cost a data channel's bulk transfer a few percent).
void ConnectionDriver::enable_receive_times() {
  receive_times_ = true;
  const int on = 1;
  for (const auto& s : sockets_)
    ::setsockopt(s->socket.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
}

Result<> ConnectionDriver::add_turn_stream_server(const SocketAddress& server,
                                                  const TurnStreamOptions& options,
                                                  const std::string& extra_ca_file) {
  if (options.tls && !tls_context_) {
    auto context = make_turn_tls_context(extra_ca_file);
    if (!context) return std::move(context).error();
    tls_context_ = std::move(*context);
  }
  stream_servers_[server] = options;
  return {};
}

void ConnectionDriver::send_on_stream(const Datagram& d) {
  const auto key = std::make_pair(d.source, d.destination);
  auto it = streams_.find(key);
  if (it == streams_.end()) {
    const auto options = stream_servers_.find(d.destination);
    if (options == stream_servers_.end()) return;  // not a stream server: nowhere to go
    std::weak_ptr<bool> alive = alive_;
    const SocketAddress base = d.source;
    const SocketAddress server = d.destination;
    auto stream = TurnStream::open(
        io_, base.ip(), server, options->second, tls_context_.get(),
        [this, alive, base, server](BytesView message) {
          if (alive.expired()) return;
          ++datagrams_received_;
          bytes_received_ += message.size();
          connection_.handle_datagram(Datagram{server, base, Buffer(message)}, monotonic_now());
          kick();
        },
        [this, alive, key, base, server](const std::string& text) {
          if (alive.expired()) return;
          streams_.erase(key);
          connection_.turn_stream_failed(base, server, text, monotonic_now());
          kick();
        });
    it = streams_.emplace(key, std::move(stream)).first;
  }
  it->second->send(d.payload.view());
  ++datagrams_sent_;
  bytes_sent_ += d.payload.size();
}

Result<SocketAddress> ConnectionDriver::listen_tcp(const IpAddress& ip) {
  constexpr int kAttempts = 8;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto listener = std::make_unique<TcpListener>(TcpListener{asio::ip::tcp::acceptor(io_), {}, 0});
    boost::system::error_code ec;
    const auto endpoint = to_tcp_endpoint({ip, 0});
    listener->acceptor.open(endpoint.protocol(), ec);
    if (!ec) listener->acceptor.bind(endpoint, ec);
    if (!ec) listener->acceptor.listen(16, ec);
    if (ec)
      return operation_error("cannot listen on TCP on " + ip.to_string() + ": " + ec.message());
    listener->local = from_tcp_endpoint(listener->acceptor.local_endpoint());
    // ICE tells its bases apart by address: the listening port must be neither a UDP
    // socket's nor the one ICE names active TCP candidates with (RFC 6544 4.5).
    const bool clash = std::any_of(sockets_.begin(), sockets_.end(), [&](const auto& socket) {
      return socket->local == listener->local;
    });
    if (clash || listener->local.port() == ice::IceAgent::kTcpActivePort) continue;
    const SocketAddress local = listener->local;
    tcp_listeners_.push_back(std::move(listener));
    accept_next(tcp_listeners_.size() - 1);
    connection_.add_tcp_host_address(local, monotonic_now());
    return local;
  }
  return operation_error("cannot listen on TCP on " + ip.to_string() +
                         ": no port apart from the UDP sockets'");
}

void ConnectionDriver::accept_next(std::size_t index) {
  std::weak_ptr<bool> alive = alive_;
  TcpListener& listener = *tcp_listeners_[index];
  listener.acceptor.async_accept(
      [this, alive, index](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
        if (alive.expired() || ec == asio::error::operation_aborted) return;
        TcpListener& l = *tcp_listeners_[index];
        if (!l.acceptor.is_open()) return;  // released
        if (!ec) {
          boost::system::error_code peer_error;
          const auto peer = socket.remote_endpoint(peer_error);
          const std::size_t unauthenticated = static_cast<std::size_t>(std::count_if(
              tcp_connections_.begin(), tcp_connections_.end(),
              [](const auto& entry) { return !entry.second.connection->authenticated(); }));
          // Bounds first: a flood of connections costs a close each, nothing more.
          if (!peer_error && l.open < tcp_limits_.max_accepted_per_listener &&
              unauthenticated < tcp_limits_.max_unauthenticated) {
            const SocketAddress local = l.local;
            const SocketAddress remote = from_tcp_endpoint(peer);
            // The connection's own callback must not own it (a cycle): it finds it through this.
            auto holder = std::make_shared<std::weak_ptr<IceTcpConnection>>();
            auto connection = IceTcpConnection::adopt(
                std::move(socket),
                [this, alive, local, remote](std::vector<Buffer>& packets) {
                  if (!alive.expired()) on_tcp_packets(local, remote, packets);
                },
                [this, alive, local, remote, holder](const std::string&) {
                  if (!alive.expired()) on_tcp_closed(local, remote, holder->lock());
                });
            *holder = connection;
            connection->require_authentication_within(tcp_limits_.unauthenticated_timeout);
            auto& entry = tcp_connections_[{local, remote}];
            if (entry.connection) {
              // The peer reused the address of a connection we had not seen close yet.
              entry.connection->close();
              if (entry.listener) --tcp_listeners_[*entry.listener]->open;
            }
            entry = TcpConnection{connection, index};
            ++l.open;
          } else {
            boost::system::error_code ignored;
            socket.close(ignored);
          }
        }
        accept_next(index);
      });
}

void ConnectionDriver::on_tcp_packets(const SocketAddress& local, const SocketAddress& remote,
                                      std::vector<Buffer>& packets) {
  auto it = tcp_connections_.find({local, remote});
  if (it == tcp_connections_.end()) return;
  auto connection = it->second.connection;
  const Timestamp now = monotonic_now();
  for (auto& packet : packets) {
    const bool stranger = !connection->authenticated();
    // RFC 6544 7.2: nothing but STUN before a check authenticated the connection.
    if (stranger && !stun::is_stun_message(packet)) {
      connection->close();
      on_tcp_closed(local, remote, connection);
      return;
    }
    ++datagrams_received_;
    bytes_received_ += packet.size();
    connection_.handle_datagram(Datagram{remote, local, std::move(packet)}, now);
    if (stranger && connection_.tcp_connection_authenticated(local, remote))
      connection->mark_authenticated();
  }
  kick();
}

void ConnectionDriver::on_tcp_closed(const SocketAddress& local, const SocketAddress& remote,
                                     const std::shared_ptr<IceTcpConnection>& connection) {
  auto it = tcp_connections_.find({local, remote});
  // Only the entry of this connection (a newer one may have taken the key).
  if (it == tcp_connections_.end() || it->second.connection != connection) return;
  if (it->second.listener) --tcp_listeners_[*it->second.listener]->open;
  tcp_connections_.erase(it);
  connection_.tcp_connection_closed(local, remote, monotonic_now());
  kick();
}

bool ConnectionDriver::send_on_tcp(const Datagram& d) {
  const auto key = std::make_pair(d.source, d.destination);
  if (auto it = tcp_connections_.find(key); it != tcp_connections_.end()) {
    it->second.connection->send(d.payload.view());
    ++datagrams_sent_;
    bytes_sent_ += d.payload.size();
    return true;
  }
  // From a listening address to a peer whose connection is gone: dropped.
  if (std::any_of(tcp_listeners_.begin(), tcp_listeners_.end(),
                  [&](const auto& l) { return l->local == d.source; }))
    return true;
  // RFC 6544 7.1: an active candidate opens a connection for a connectivity check; other
  // traffic waits for one (it is dropped, as on a path that is not up).
  const bool ours = std::any_of(tcp_listeners_.begin(), tcp_listeners_.end(),
                                [&](const auto& l) { return l->local.ip() == d.source.ip(); });
  if (!ours) return false;
  const auto active = static_cast<std::size_t>(
      std::count_if(tcp_connections_.begin(), tcp_connections_.end(),
                    [](const auto& entry) { return !entry.second.listener; }));
  if (!stun::is_stun_message(d.payload) || active >= tcp_limits_.max_active) return true;
  std::weak_ptr<bool> alive = alive_;
  const SocketAddress local = d.source;
  const SocketAddress remote = d.destination;
  auto holder = std::make_shared<std::weak_ptr<IceTcpConnection>>();
  auto connection = IceTcpConnection::connect(
      io_, local.ip(), remote,
      [this, alive, local, remote](std::vector<Buffer>& packets) {
        if (!alive.expired()) on_tcp_packets(local, remote, packets);
      },
      [this, alive, local, remote, holder](const std::string&) {
        if (!alive.expired()) on_tcp_closed(local, remote, holder->lock());
      });
  *holder = connection;
  tcp_connections_[key] = TcpConnection{connection, std::nullopt};
  connection->send(d.payload.view());
  ++datagrams_sent_;
  bytes_sent_ += d.payload.size();
  return true;
}

void ConnectionDriver::send(const Datagram& d) {
  if (d.route == Route::kTcp) {
    send_on_tcp(d);
    return;
  }
  if (d.route == Route::kTurnStream) {
    send_on_stream(d);
    return;
  }
  for (auto& s : sockets_) {
    if (s->local != d.source) continue;
    boost::system::error_code ec;
    s->socket.send_to(asio::buffer(d.payload.data(), d.payload.size()), to_endpoint(d.destination),
                      0, ec);
    // A full send buffer drops the datagram, as the network may; the protocols recover.
    if (!ec) {
      ++datagrams_sent_;
      bytes_sent_ += d.payload.size();
    } else {
      static const Logger log("runtime");
      log.debug("datagram of ", d.payload.size(), " bytes from ", d.source.to_string(), " to ",
                d.destination.to_string(), " dropped: ", ec.message());
    }
    break;
  }
}

void ConnectionDriver::send_batch(std::vector<Datagram>& batch) {
  // Consecutive datagrams from one socket leave in one sendmmsg.
  std::array<mmsghdr, kSendBatch> messages{};
  std::array<iovec, kSendBatch> vectors{};
  std::array<sockaddr_storage, kSendBatch> destinations{};
  std::size_t at = 0;
  while (at < batch.size()) {
    if (batch[at].route != Route::kUdp) {
      send(batch[at]);  // ICE-TCP, or a TURN server over TCP/TLS
      ++at;
      continue;
    }
    Socket* socket = nullptr;
    for (auto& s : sockets_) {
      if (s->local == batch[at].source) socket = s.get();
    }
    if (socket == nullptr) {  // no such socket (released): dropped
      ++at;
      continue;
    }
    std::size_t count = 0;
    while (at + count < batch.size() && count < kSendBatch &&
           batch[at + count].route == Route::kUdp && batch[at + count].source == socket->local) {
      const Datagram& d = batch[at + count];
      vectors[count] = {const_cast<std::uint8_t*>(d.payload.data()), d.payload.size()};
      messages[count] = {};
      messages[count].msg_hdr.msg_iov = &vectors[count];
      messages[count].msg_hdr.msg_iovlen = 1;
      messages[count].msg_hdr.msg_name = &destinations[count];
      messages[count].msg_hdr.msg_namelen = to_sockaddr(d.destination, destinations[count]);
      ++count;
    }
    std::size_t done = 0;
    while (done < count) {
      const int n = ::sendmmsg(socket->socket.native_handle(), messages.data() + done,
                               static_cast<unsigned>(count - done), 0);
      if (n <= 0) {
        ++done;  // this one failed (a full buffer drops it, as the network may): skip it
        continue;
      }
      for (int i = 0; i < n; ++i) {
        ++datagrams_sent_;
        bytes_sent_ += batch[at + done + static_cast<std::size_t>(i)].payload.size();
      }
      done += static_cast<std::size_t>(n);
    }
    at += count;
  }
  batch.clear();
}

void ConnectionDriver::kick() {
  // Events can queue packets (a data channel's close answered once its events were seen),
  // so go round until both are drained.
  for (bool again = true; again;) {
    again = false;
    while (auto d = connection_.poll_transmit()) send_batch_.push_back(std::move(*d));
    send_batch(send_batch_);
    while (auto e = connection_.poll_event()) {
      again = true;
      if (on_event_) on_event_(std::move(*e));
    }
  }
  arm_timer();
}

void ConnectionDriver::arm_timer() {
  auto next = connection_.next_timeout();
  // Re-arming is a system call (and cancels the pending wait), and the deadline moves with
  // almost every packet (delayed SACK, T3-rtx). Only an earlier deadline re-arms; a later one
  // lets the armed timer fire early, which costs one handle_timeout that finds nothing due
  // and re-arms for the real deadline then. No deadline at all leaves it armed likewise.
  if (!next || (armed_for_ && *armed_for_ <= *next)) return;
  armed_for_ = next;
  const Duration wait = *next - monotonic_now();
  timer_.expires_after(std::chrono::microseconds(std::max<std::int64_t>(wait.us(), 0)));
  std::weak_ptr<bool> alive = alive_;
  timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (alive.expired() || ec == asio::error::operation_aborted) return;
    armed_for_.reset();
    connection_.handle_timeout(monotonic_now());
    kick();
  });
}

void ConnectionDriver::release_sockets() {
  boost::system::error_code ec;
  // Pending waits on these sockets complete as aborted and touch nothing; the objects stay
  // until the driver goes, as those waits still refer to them.
  for (auto& s : sockets_) {
    s->socket.close(ec);
    released_sockets_.push_back(std::move(s));
  }
  sockets_.clear();
  for (auto& [key, stream] : streams_) stream->close();
  streams_.clear();
  stream_servers_.clear();
  // Listeners keep their places (accept handlers name them by index), closed.
  for (auto& listener : tcp_listeners_) listener->acceptor.close(ec);
  for (auto& [key, entry] : tcp_connections_) entry.connection->close();
  tcp_connections_.clear();
}

void ConnectionDriver::close() {
  if (alive_) {
    // The last words (a TURN deallocation after ICE closed) leave before the sockets close.
    while (auto d = connection_.poll_transmit()) send(*d);
  }
  alive_.reset();
  boost::system::error_code ec;
  timer_.cancel();
  for (auto& s : sockets_) s->socket.close(ec);
  for (auto& [key, stream] : streams_) stream->close();
  streams_.clear();
  for (auto& listener : tcp_listeners_) listener->acceptor.close(ec);
  for (auto& [key, entry] : tcp_connections_) entry.connection->close();
  tcp_connections_.clear();
}

}  // namespace rtcpp::runtime
