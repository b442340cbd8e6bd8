// A TCP or TLS connection to a TURN server (RFC 8656 3.1, `turn:...?transport=tcp` and
// `turns:`), carrying the STUN and ChannelData messages a sans-IO TURN client produces. The
// stream is cut back into messages by their own lengths (RFC 8656 12.5), so the client sees
// the same messages it would over UDP. Over TLS the server's certificate is verified against
// the system's CAs (plus an optional extra CA file) and the server's name or address.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <functional>
#include <memory>
#include <string>

#include "base/bytes.hpp"
#include "base/net.hpp"
#include "runtime/stream_write_queue.hpp"

namespace rtcpp::runtime {

struct TurnStreamOptions {
  bool tls = false;
  // The name the server's certificate must carry (an IP literal is matched as an address),
  // also sent as SNI.
  std::string host_name;
};

class TurnStream : public std::enable_shared_from_this<TurnStream> {
 public:
  using OnMessage = std::function<void(BytesView message)>;
  using OnError = std::function<void(const std::string& text)>;

  // Connects from `local_ip` to `server` (TLS needs `tls_context`). on_message gets each
  // message that arrives; on_error is called once when the stream cannot be opened, breaks
  // or carries something that is not TURN. Neither is called after close(). The object lives
  // on (its pending operations hold it) until those operations have completed.
  static std::shared_ptr<TurnStream> open(boost::asio::io_context& io, const IpAddress& local_ip,
                                          const SocketAddress& server,
                                          const TurnStreamOptions& options,
                                          boost::asio::ssl::context* tls_context,
                                          OnMessage on_message, OnError on_error);

  // Queues one framed message; written once the stream is up. Beyond kMaxQueuedBytes the
  // message is dropped (the protocols above recover as from a lost datagram).
  void send(BytesView message);
  void close();

  static constexpr std::size_t kMaxQueuedBytes = 4 * 1024 * 1024;

 private:
  TurnStream(boost::asio::io_context& io, const TurnStreamOptions& options,
             boost::asio::ssl::context* tls_context, OnMessage on_message, OnError on_error);
  void start(const IpAddress& local_ip, const SocketAddress& server);
  void on_ready();
  void write_next();
  void read_more();
  void fail(const std::string& text);
  boost::asio::ip::tcp::socket& tcp();
  template <typename Handler>
  void async_write_some(const std::uint8_t* data, std::size_t size, Handler&& handler);
  template <typename Handler>
  void async_read_some(std::uint8_t* data, std::size_t size, Handler&& handler);

  TurnStreamOptions options_;
  std::unique_ptr<boost::asio::ip::tcp::socket> socket_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_;
  OnMessage on_message_;
  OnError on_error_;
  bool ready_ = false;
  bool writing_ = false;
  bool closed_ = false;
  StreamWriteQueue queue_{kMaxQueuedBytes};
  std::vector<std::uint8_t> read_buffer_;
  std::vector<std::uint8_t> inbox_;  // bytes read that do not make a whole message yet
};

// The TLS client context for turns: servers: TLS 1.2 or later, peer verification against the
// system's default CA paths and, when given, an extra CA file. An error names what failed.
Result<std::unique_ptr<boost::asio::ssl::context>> make_turn_tls_context(
    const std::string& extra_ca_file);

}  // namespace rtcpp::runtime
