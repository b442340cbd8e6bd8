#include "runtime/ice_tcp.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <memory>

namespace rtcpp::runtime {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::size_t kReadChunk = std::size_t{64} << 10;

// One read buffer for every connection served by this thread: a connection reads only once
// the socket is readable, and the deframer copies what it needs, so an idle connection holds
// no buffer of its own.
std::uint8_t* thread_read_buffer() {
  thread_local std::vector<std::uint8_t> buffer(kReadChunk);
  return buffer.data();
}

}  // namespace

SocketAddress from_tcp_endpoint(const tcp::endpoint& endpoint) {
  const auto a = endpoint.address();
  if (a.is_v4()) return {IpAddress::v4(a.to_v4().to_uint()), endpoint.port()};
  return {IpAddress::v6(a.to_v6().to_bytes()), endpoint.port()};
}

tcp::endpoint to_tcp_endpoint(const SocketAddress& address) {
  if (address.ip().is_v4())
    return {asio::ip::address_v4(address.ip().v4_host_order()), address.port()};
  asio::ip::address_v6::bytes_type bytes{};
  std::copy(address.ip().bytes().begin(), address.ip().bytes().end(), bytes.begin());
  return {asio::ip::address_v6(bytes), address.port()};
}

IceTcpConnection::IceTcpConnection(tcp::socket socket, OnPackets on_packets, OnClosed on_closed)
    : socket_(std::move(socket)),
      auth_timer_(socket_.get_executor()),
      on_packets_(std::move(on_packets)),
      on_closed_(std::move(on_closed)) {}

std::shared_ptr<IceTcpConnection> IceTcpConnection::connect(asio::io_context& io,
                                                            const IpAddress& local_ip,
                                                            const SocketAddress& remote,
                                                            OnPackets on_packets,
                                                            OnClosed on_closed) {
  auto connection = std::shared_ptr<IceTcpConnection>(
      new IceTcpConnection(tcp::socket(io), std::move(on_packets), std::move(on_closed)));
  connection->authenticated_ = true;  // we chose whom to connect to
  connection->start_connect(local_ip, remote);
  return connection;
}

std::shared_ptr<IceTcpConnection> IceTcpConnection::adopt(tcp::socket socket, OnPackets on_packets,
                                                          OnClosed on_closed) {
  auto connection = std::shared_ptr<IceTcpConnection>(
      new IceTcpConnection(std::move(socket), std::move(on_packets), std::move(on_closed)));
  boost::system::error_code ec;
  connection->socket_.set_option(tcp::no_delay(true), ec);
  connection->on_ready();
  return connection;
}

void IceTcpConnection::start_connect(const IpAddress& local_ip, const SocketAddress& remote) {
  boost::system::error_code ec;
  const tcp::endpoint local = to_tcp_endpoint({local_ip, 0});
  socket_.open(local.protocol(), ec);
  // From the candidate's IP, so that the peer sees the address it paired.
  if (!ec) socket_.bind(local, ec);
  if (ec) {
    // Reported from the loop, never from inside the caller's send.
    asio::post(socket_.get_executor(), [self = shared_from_this(), text = ec.message()] {
      self->fail("cannot open a TCP socket: " + text);
    });
    return;
  }
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.async_connect(to_tcp_endpoint(remote), [self = shared_from_this(),
                                                  remote](const boost::system::error_code& error) {
    if (self->closed_) return;
    if (error) {
      self->fail("cannot connect to " + remote.to_string() + ": " + error.message());
      return;
    }
    self->on_ready();
  });
}

void IceTcpConnection::on_ready() {
  ready_ = true;
  // read_more() reads only what is waiting (see there).
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  read_more();
  write_next();
}

void IceTcpConnection::require_authentication_within(std::chrono::milliseconds limit) {
  if (authenticated_ || closed_) return;
  auth_timer_.expires_after(limit);
  auth_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_ || self->authenticated_) return;
    self->fail("no valid STUN check in time");
  });
}

void IceTcpConnection::mark_authenticated() {
  if (authenticated_) return;
  authenticated_ = true;
  auth_timer_.cancel();
}

void IceTcpConnection::send(BytesView packet) {
  if (closed_) return;
  auto framed = ice::frame_rfc4571(packet);
  if (!framed || !queue_.push(std::move(*framed))) return;
  write_next();
}

void IceTcpConnection::write_next() {
  if (!ready_ || writing_ || closed_ || queue_.empty()) return;
  writing_ = true;
  const BytesView pending = queue_.pending();
  socket_.async_write_some(
      asio::buffer(pending.data(), pending.size()),
      [self = shared_from_this()](const boost::system::error_code& error, std::size_t n) {
        if (self->closed_) return;
        self->writing_ = false;
        if (error) {
          self->fail("writing: " + error.message());
          return;
        }
        self->queue_.consume(n);
        self->write_next();
      });
}

void IceTcpConnection::read_more() {
  socket_.async_wait(
      tcp::socket::wait_read, [self = shared_from_this()](const boost::system::error_code& error) {
        if (self->closed_) return;
        if (error) {
          self->fail("reading: " + error.message());
          return;
        }
        boost::system::error_code read_error;
        std::uint8_t* buffer = thread_read_buffer();
        const std::size_t n = self->socket_.read_some(asio::buffer(buffer, kReadChunk), read_error);
        if (read_error == asio::error::would_block || read_error == asio::error::try_again) {
          self->read_more();
          return;
        }
        if (read_error) {
          self->fail(read_error == asio::error::eof ? std::string("closed by the peer")
                                                    : "reading: " + read_error.message());
          return;
        }
        if (!self->deframer_.push(BytesView(buffer, n))) {
          self->fail("a framed packet longer than the limit");
          return;
        }
        self->packets_.clear();
        while (auto packet = self->deframer_.next()) self->packets_.push_back(std::move(*packet));
        if (!self->packets_.empty()) {
          self->on_packets_(self->packets_);
          if (self->closed_) return;
        }
        self->read_more();
      });
}

void IceTcpConnection::fail(const std::string& why) {
  if (closed_) return;
  auto on_closed = std::move(on_closed_);
  close();
  if (on_closed) on_closed(why);
}

void IceTcpConnection::close() {
  if (closed_) return;
  // The callbacks stay (close() may run inside one); closed_ keeps them from running again.
  closed_ = true;
  boost::system::error_code ec;
  auth_timer_.cancel();
  socket_.close(ec);
  queue_.clear();
}

}  // namespace rtcpp::runtime
