#include "runtime/peer_transport_driver.hpp"

#include <boost/asio/ip/address.hpp>
#include <chrono>

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

}  // namespace

Timestamp monotonic_now() {
  const auto t = std::chrono::steady_clock::now().time_since_epoch();
  return Timestamp::micros(std::chrono::duration_cast<std::chrono::microseconds>(t).count());
}

PeerTransportDriver::PeerTransportDriver(asio::io_context& io, pc::PeerTransport& transport,
                                         EventHandler on_event)
    : io_(io), transport_(transport), on_event_(std::move(on_event)), timer_(io) {}

PeerTransportDriver::~PeerTransportDriver() {
  close();
}

Result<SocketAddress> PeerTransportDriver::bind(const IpAddress& ip) {
  auto s =
      std::make_unique<Socket>(Socket{udp::socket(io_), {}, {}, std::vector<std::uint8_t>(65536)});
  boost::system::error_code ec;
  const udp::endpoint endpoint = to_endpoint({ip, 0});
  s->socket.open(endpoint.protocol(), ec);
  if (!ec) s->socket.bind(endpoint, ec);
  if (ec)
    return operation_error("cannot bind UDP socket on " + ip.to_string() + ": " + ec.message());
  // Large buffers: a bulk transfer sends bursts of a congestion window at a time.
  s->socket.set_option(asio::socket_base::receive_buffer_size(4 * 1024 * 1024), ec);
  s->socket.set_option(asio::socket_base::send_buffer_size(4 * 1024 * 1024), ec);
  s->local = from_endpoint(s->socket.local_endpoint());
  Socket& ref = *s;
  sockets_.push_back(std::move(s));
  transport_.ice().add_host_address(ref.local, monotonic_now());
  receive(ref);
  kick();
  return ref.local;
}

void PeerTransportDriver::receive(Socket& socket) {
  std::weak_ptr<bool> alive = alive_;
  socket.socket.async_receive_from(
      asio::buffer(socket.buffer), socket.sender,
      [this, &socket, alive](const boost::system::error_code& ec, std::size_t n) {
        if (alive.expired() || ec == asio::error::operation_aborted) return;
        if (!ec) {
          ++datagrams_received_;
          bytes_received_ += n;
          Datagram d{from_endpoint(socket.sender), socket.local,
                     Buffer(BytesView(socket.buffer.data(), n))};
          transport_.handle_datagram(d, monotonic_now());
          kick();
        }
        receive(socket);
      });
}

void PeerTransportDriver::send(const Datagram& d) {
  for (auto& s : sockets_) {
    if (s->local != d.source) continue;
    boost::system::error_code ec;
    s->socket.send_to(asio::buffer(d.payload.data(), d.payload.size()), to_endpoint(d.destination),
                      0, ec);
    // A full send buffer drops the datagram, as the network may; the protocols recover.
    if (!ec) {
      ++datagrams_sent_;
      bytes_sent_ += d.payload.size();
    }
    break;
  }
}

void PeerTransportDriver::kick() {
  // Events can queue packets (a data channel's close answered once its events were seen),
  // so go round until both are drained.
  for (bool again = true; again;) {
    again = false;
    while (auto d = transport_.poll_transmit()) send(*d);
    while (auto e = transport_.poll_event()) {
      again = true;
      if (on_event_) on_event_(std::move(*e));
    }
  }
  if (after_kick_) after_kick_();
  arm_timer();
}

void PeerTransportDriver::arm_timer() {
  auto next = transport_.next_timeout();
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
    transport_.handle_timeout(monotonic_now());
    kick();
  });
}

void PeerTransportDriver::close() {
  if (alive_) {
    // The last words (a TURN deallocation after ICE closed) leave before the sockets close.
    while (auto d = transport_.poll_transmit()) send(*d);
  }
  alive_.reset();
  boost::system::error_code ec;
  timer_.cancel();
  for (auto& s : sockets_) s->socket.close(ec);
}

}  // namespace rtcpp::runtime
