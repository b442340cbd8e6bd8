// One ICE-TCP connection (RFC 6544) for the driver: a TCP socket we opened (an active
// candidate's check) or accepted (on a passive candidate's listening socket), carrying
// packets with RFC 4571 framing. The deframer bounds every packet; a connection that breaks,
// sends a length over the limit, or (accepted) is not authenticated by a STUN check in time
// is closed and reported once.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.hpp"
#include "base/net.hpp"
#include "ice/tcp_framing.hpp"
#include "runtime/stream_write_queue.hpp"

namespace rtcpp::runtime {

SocketAddress from_tcp_endpoint(const boost::asio::ip::tcp::endpoint& endpoint);
boost::asio::ip::tcp::endpoint to_tcp_endpoint(const SocketAddress& address);

class IceTcpConnection : public std::enable_shared_from_this<IceTcpConnection> {
 public:
  // The whole packets one read brought (so the driver runs the protocols once per read).
  using OnPackets = std::function<void(std::vector<Buffer>& packets)>;
  using OnClosed = std::function<void(const std::string& why)>;

  // Connects from `local_ip` (a port chosen by the system) to `remote`. Packets sent before
  // the connection is up are queued.
  static std::shared_ptr<IceTcpConnection> connect(boost::asio::io_context& io,
                                                   const IpAddress& local_ip,
                                                   const SocketAddress& remote,
                                                   OnPackets on_packets, OnClosed on_closed);
  // Takes over a connection a listener accepted.
  static std::shared_ptr<IceTcpConnection> adopt(boost::asio::ip::tcp::socket socket,
                                                 OnPackets on_packets, OnClosed on_closed);

  // Frames and queues one packet. Beyond kMaxQueuedBytes it is dropped, as the network drops
  // a datagram (the protocols above recover).
  void send(BytesView packet);
  // Closes without calling on_closed. Safe inside a callback.
  void close();
  // An accepted connection must be authenticated (a valid STUN check on it, RFC 6544 7.2)
  // within `limit`, or it is closed.
  void require_authentication_within(std::chrono::milliseconds limit);
  void mark_authenticated();
  bool authenticated() const noexcept { return authenticated_; }
  bool closed() const noexcept { return closed_; }

  static constexpr std::size_t kMaxQueuedBytes = 4 * 1024 * 1024;

 private:
  IceTcpConnection(boost::asio::ip::tcp::socket socket, OnPackets on_packets, OnClosed on_closed);
  void start_connect(const IpAddress& local_ip, const SocketAddress& remote);
  void on_ready();
  void write_next();
  void read_more();
  void fail(const std::string& why);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer auth_timer_;
  OnPackets on_packets_;
  OnClosed on_closed_;
  ice::Rfc4571Deframer deframer_;
  bool ready_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool authenticated_ = false;
  StreamWriteQueue queue_{kMaxQueuedBytes};
  std::vector<Buffer> packets_;  // reused between reads
};

}  // namespace rtcpp::runtime
