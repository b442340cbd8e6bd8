#include "runtime/turn_stream.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>

#include "turn/channel_data.hpp"

namespace rtcpp::runtime {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;

asio::ip::address to_address(const IpAddress& ip) {
  if (ip.is_v4()) return asio::ip::address_v4(ip.v4_host_order());
  asio::ip::address_v6::bytes_type bytes{};
  std::copy(ip.bytes().begin(), ip.bytes().end(), bytes.begin());
  return asio::ip::address_v6(bytes);
}

constexpr std::size_t kReadChunk = 16 * 1024;

}  // namespace

Result<std::unique_ptr<ssl::context>> make_turn_tls_context(const std::string& extra_ca_file) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1,
                       ec);
  context->set_default_verify_paths(ec);
  if (ec) return operation_error("TLS: cannot load the system CA certificates: " + ec.message());
  if (!extra_ca_file.empty()) {
    context->load_verify_file(extra_ca_file, ec);
    if (ec)
      return operation_error("TLS: cannot load CA file " + extra_ca_file + ": " + ec.message());
  }
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

std::shared_ptr<TurnStream> TurnStream::open(asio::io_context& io, const IpAddress& local_ip,
                                             const SocketAddress& server,
                                             const TurnStreamOptions& options,
                                             ssl::context* tls_context, OnMessage on_message,
                                             OnError on_error) {
  auto stream = std::shared_ptr<TurnStream>(
      new TurnStream(io, options, tls_context, std::move(on_message), std::move(on_error)));
  stream->start(local_ip, server);
  return stream;
}

TurnStream::TurnStream(asio::io_context& io, const TurnStreamOptions& options,
                       ssl::context* tls_context, OnMessage on_message, OnError on_error)
    : options_(options),
      on_message_(std::move(on_message)),
      on_error_(std::move(on_error)),
      read_buffer_(kReadChunk) {
  if (options_.tls && tls_context != nullptr) {
    tls_ = std::make_unique<ssl::stream<tcp::socket>>(io, *tls_context);
  } else {
    socket_ = std::make_unique<tcp::socket>(io);
  }
}

tcp::socket& TurnStream::tcp() {
  return tls_ ? tls_->next_layer() : *socket_;
}

template <typename Handler>
void TurnStream::async_write_some(const std::uint8_t* data, std::size_t size, Handler&& handler) {
  if (tls_) {
    tls_->async_write_some(asio::buffer(data, size), std::forward<Handler>(handler));
  } else {
    socket_->async_write_some(asio::buffer(data, size), std::forward<Handler>(handler));
  }
}

template <typename Handler>
void TurnStream::async_read_some(std::uint8_t* data, std::size_t size, Handler&& handler) {
  if (tls_) {
    tls_->async_read_some(asio::buffer(data, size), std::forward<Handler>(handler));
  } else {
    socket_->async_read_some(asio::buffer(data, size), std::forward<Handler>(handler));
  }
}

void TurnStream::start(const IpAddress& local_ip, const SocketAddress& server) {
  if (options_.tls && !tls_) {
    fail("TLS: no TLS context");
    return;
  }
  boost::system::error_code ec;
  const tcp::endpoint local(to_address(local_ip), 0);
  tcp().open(local.protocol(), ec);
  // From the interface ICE gathered, so that the server sees the address it expects.
  if (!ec) tcp().bind(local, ec);
  if (ec) {
    fail("cannot open a TCP socket on " + local_ip.to_string() + ": " + ec.message());
    return;
  }
  tcp().set_option(tcp::no_delay(true), ec);
  if (tls_) {
    // RFC 8656 3.1 / RFC 6125: the certificate must name the server we meant to reach.
    SSL* handle = tls_->native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(handle);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const bool literal = IpAddress::parse(options_.host_name).has_value();
    if (literal) {
      X509_VERIFY_PARAM_set1_ip_asc(param, options_.host_name.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, options_.host_name.c_str(), 0);
      SSL_set_tlsext_host_name(handle, options_.host_name.c_str());
    }
  }
  const tcp::endpoint remote(to_address(server.ip()), server.port());
  // Every pending operation holds the stream: an ssl::stream's operations touch its state
  // until they complete (with operation_aborted after close()), so it must outlive them.
  tcp().async_connect(
      remote, [self = shared_from_this(), server](const boost::system::error_code& error) {
        if (self->closed_) return;
        if (error) {
          self->fail("cannot connect to " + server.to_string() + ": " + error.message());
          return;
        }
        if (!self->tls_) {
          self->on_ready();
          return;
        }
        self->tls_->async_handshake(ssl::stream_base::client,
                                    [me = self](const boost::system::error_code& handshake_error) {
                                      if (me->closed_) return;
                                      if (handshake_error) {
                                        me->fail("TLS handshake: " + handshake_error.message());
                                        return;
                                      }
                                      me->on_ready();
                                    });
      });
}

void TurnStream::on_ready() {
  ready_ = true;
  read_more();
  write_next();
}

void TurnStream::send(BytesView message) {
  if (closed_) return;
  if (!queue_.push(Buffer(message))) return;
  write_next();
}

void TurnStream::write_next() {
  if (!ready_ || writing_ || closed_ || queue_.empty()) return;
  writing_ = true;
  const BytesView pending = queue_.pending();
  async_write_some(
      pending.data(), pending.size(),
      [self = shared_from_this()](const boost::system::error_code& error, std::size_t n) {
        if (self->closed_) return;
        self->writing_ = false;
        if (error) {
          self->fail("writing to the TURN server: " + error.message());
          return;
        }
        self->queue_.consume(n);
        self->write_next();
      });
}

void TurnStream::read_more() {
  async_read_some(
      read_buffer_.data(), read_buffer_.size(),
      [self = shared_from_this()](const boost::system::error_code& error, std::size_t n) {
        if (self->closed_) return;
        if (error) {
          self->fail(error == asio::error::eof
                         ? std::string("the TURN server closed the connection")
                         : "reading from the TURN server: " + error.message());
          return;
        }
        self->inbox_.insert(self->inbox_.end(), self->read_buffer_.begin(),
                            self->read_buffer_.begin() + static_cast<long>(n));
        // RFC 8656 12.5: each message says its own length; hand over the whole ones.
        std::size_t at = 0;
        while (at < self->inbox_.size()) {
          const BytesView rest(self->inbox_.data() + at, self->inbox_.size() - at);
          auto length = turn::stream_frame_length(rest);
          if (!length) {
            self->fail("the TURN server sent something that is not STUN or ChannelData");
            return;
          }
          if (*length == 0 || *length > rest.size()) break;
          self->on_message_(rest.first(*length));
          if (self->closed_) return;
          at += *length;
        }
        self->inbox_.erase(self->inbox_.begin(), self->inbox_.begin() + static_cast<long>(at));
        self->read_more();
      });
}

void TurnStream::fail(const std::string& text) {
  if (closed_) return;
  auto on_error = std::move(on_error_);
  close();
  if (on_error) on_error(text);
}

void TurnStream::close() {
  if (closed_) return;
  // The callbacks stay: close() may run inside one of them; closed_ keeps them from being
  // called again.
  closed_ = true;
  boost::system::error_code ec;
  tcp().close(ec);
  queue_.clear();
  inbox_.clear();
}

}  // namespace rtcpp::runtime
