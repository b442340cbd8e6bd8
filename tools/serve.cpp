#include "tools/serve.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/sha256.hpp"
#include "rtcpp/rtcpp.hpp"
#include "tools/serve_page.hpp"

namespace rtcpp::tools {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::ordered_json;

// Bytes of the "download" channel: a fixed pseudo-random sequence, so that both sides can
// check what arrived by hash.
class PatternSource {
 public:
  void fill(std::vector<std::uint8_t>& out) {
    for (auto& b : out) {
      state_ ^= state_ << 13;
      state_ ^= state_ >> 7;
      state_ ^= state_ << 17;
      b = static_cast<std::uint8_t>(state_);
    }
  }

 private:
  std::uint64_t state_ = 0x9e3779b97f4a7c15ULL;
};

// Gives a channel its behaviour by label (see serve_page.html). Runs on the connection's loop.
void serve_channel(const std::shared_ptr<RTCDataChannel>& channel) {
  // Handlers capture the channel; they are dropped when it closes.
  if (channel->label() == "upload") {
    struct Upload {
      Sha256 hash;
      std::uint64_t bytes = 0;
    };
    auto upload = std::make_shared<Upload>();
    channel->on_message([channel, upload](const RTCMessageEvent& m) {
      if (!m.binary && m.text() == "EOF") {
        (void)channel->send(json{{"bytes", upload->bytes}, {"sha256", upload->hash.hex()}}.dump());
        return;
      }
      upload->hash.update(BytesView(m.data.data(), m.data.size()));
      upload->bytes += m.data.size();
    });
  } else if (channel->label() == "download") {
    struct Download {
      PatternSource source;
      Sha256 hash;
      std::uint64_t remaining = 0;
      bool active = false;
    };
    auto download = std::make_shared<Download>();
    // Sends while less than 4 MiB is buffered, then waits for bufferedamountlow (1 MiB).
    auto pump = [download, weak = std::weak_ptr<RTCDataChannel>(channel)] {
      auto ch = weak.lock();
      if (!ch || !download->active) return;
      std::vector<std::uint8_t> chunk;
      while (download->remaining > 0 && ch->buffered_amount() < 4 * 1024 * 1024) {
        chunk.resize(std::min<std::uint64_t>(download->remaining, 64 * 1024));
        download->source.fill(chunk);
        if (!ch->send(std::span<const std::uint8_t>(chunk))) return;
        download->hash.update(BytesView(chunk.data(), chunk.size()));
        download->remaining -= chunk.size();
      }
      if (download->remaining == 0) {
        download->active = false;
        (void)ch->send("EOF " + download->hash.hex());
        ch->close();  // delivered after everything sent before it
      }
    };
    channel->set_buffered_amount_low_threshold(1024 * 1024);
    channel->on_buffered_amount_low(pump);
    channel->on_message([download, pump](const RTCMessageEvent& m) {
      if (m.binary || download->active) return;
      const json request = json::parse(m.text(), nullptr, false);
      if (!request.is_object() || !request.contains("bytes") ||
          !request["bytes"].is_number_unsigned())
        return;
      // Bounded: a page cannot make the server send more than 4 GiB.
      download->remaining =
          std::min<std::uint64_t>(request["bytes"].get<std::uint64_t>(), 4ULL << 30);
      download->active = true;
      pump();
    });
  } else {
    // "echo" and any other label: every message goes back as it came.
    channel->on_message([channel](const RTCMessageEvent& m) {
      if (m.binary) {
        (void)channel->send(std::span<const std::uint8_t>(m.data));
      } else {
        (void)channel->send(m.text());
      }
    });
  }
}

// One page: its WebSocket carries signaling (the peer contract's JSON shapes) and live stats.
class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : ws_(std::move(socket)), stats_timer_(ws_.get_executor()) {}

  void start(http::request<http::string_body> request) {
    ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->read();
      self->tick_stats();
    });
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->end();
        return;
      }
      const std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->on_text(text);
      self->read();
    });
  }

  // Thread-safe: rtcpp handlers call it from the connection's loop thread.
  void send(std::string text) {
    asio::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
      self->outbox_.push_back(std::move(text));
      if (self->outbox_.size() == 1) self->write_next();
    });
  }

  void write_next() {
    ws_.text(true);
    ws_.async_write(asio::buffer(outbox_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      self->outbox_.pop_front();
                      if (!ec && !self->outbox_.empty()) self->write_next();
                    });
  }

  void error(const std::string& message) {
    std::fprintf(stderr, "rtcpp serve: %s\n", message.c_str());
    send(json{{"type", "error"}, {"message", message}}.dump());
  }

  void on_text(const std::string& text) {
    const json msg = json::parse(text, nullptr, false);
    if (!msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) {
      error("malformed signaling message");
      return;
    }
    const std::string type = msg["type"];
    if (type == "offer" && msg.contains("sdp") && msg["sdp"].is_string()) {
      if (pc_) {
        answer_offer(msg["sdp"]);  // a renegotiation, e.g. the page's restartIce()
      } else {
        on_offer(msg["sdp"]);
      }
    } else if (type == "answer" && msg.contains("sdp") && msg["sdp"].is_string() && pc_) {
      std::weak_ptr<Session> weak = weak_from_this();
      pc_->set_remote_description({RTCSdpType::kAnswer, msg["sdp"]}, [weak](Result<> r) {
        if (auto self = weak.lock(); self && !r) self->error(r.error().to_string());
      });
    } else if (type == "restart-ice" && pc_) {
      restart_ice();
    } else if (type == "candidate" && pc_) {
      RTCIceCandidateInit init;
      init.candidate = msg.value("candidate", "");
      if (msg.contains("sdpMid") && msg["sdpMid"].is_string()) init.sdp_mid = msg["sdpMid"];
      if (msg.contains("sdpMLineIndex") && msg["sdpMLineIndex"].is_number_unsigned())
        init.sdp_m_line_index = msg["sdpMLineIndex"].get<std::uint16_t>();
      if (!init.sdp_mid && !init.sdp_m_line_index) init.sdp_mid = "0";
      std::weak_ptr<Session> weak = weak_from_this();
      pc_->add_ice_candidate(init, [weak](Result<> r) {
        if (auto self = weak.lock(); self && !r) self->error(r.error().to_string());
      });
    }
  }

  // The page asks us to restart ICE: we offer new credentials (W3C restartIce).
  void restart_ice() {
    pc_->restart_ice();
    std::weak_ptr<Session> weak = weak_from_this();
    pc_->create_offer([weak](Result<RTCSessionDescriptionInit> offer) {
      auto self = weak.lock();
      if (!self) return;
      if (!offer) {
        self->error(offer.error().to_string());
        return;
      }
      // On the loop thread, so the blocking form completes at once.
      if (auto set = self->pc_->set_local_description(*offer).get(); !set) {
        self->error(set.error().to_string());
        return;
      }
      self->send(json{{"type", "offer"}, {"sdp", offer->sdp}}.dump());
    });
  }

  void on_offer(const std::string& sdp) {
    RTCConfiguration config;
    config.gather_loopback = true;  // the page came from 127.0.0.1
    auto pc = RTCPeerConnection::create(config);
    if (!pc) {
      error(pc.error().to_string());
      return;
    }
    pc_ = *pc;
    std::weak_ptr<Session> weak = weak_from_this();
    pc_->on_ice_candidate([weak](const RTCPeerConnectionIceEvent& e) {
      auto self = weak.lock();
      if (!self) return;
      // The null candidate is not signaled (W3C 4.8.1): the end of candidates came before it,
      // as a candidate whose candidate is "".
      if (!e.candidate) return;
      const auto& c = e.candidate->to_json();
      self->send(json{{"type", "candidate"},
                      {"candidate", c.candidate},
                      {"sdpMid", c.sdp_mid.value_or("0")},
                      {"sdpMLineIndex", c.sdp_m_line_index.value_or(0)}}
                     .dump());
    });
    pc_->on_connection_state_change([weak, pc = std::weak_ptr(pc_)] {
      auto self = weak.lock();
      auto connection = pc.lock();
      if (!self || !connection) return;
      std::fprintf(stderr, "rtcpp serve: connection %s\n",
                   std::string(to_string(connection->connection_state())).c_str());
    });
    pc_->on_data_channel([pc = std::weak_ptr(pc_), reported = std::make_shared<bool>(false)](
                             std::shared_ptr<RTCDataChannel> channel) {
      // The association is up by the first channel: say what it negotiated, once.
      if (auto connection = pc.lock(); connection && connection->sctp() && !*reported) {
        *reported = true;
        std::fprintf(stderr, "rtcpp serve: SCTP message interleaving %s, zero checksums %s\n",
                     connection->sctp()->message_interleaving() ? "on" : "off",
                     connection->sctp()->zero_checksum() ? "on" : "off");
      }
      std::fprintf(stderr, "rtcpp serve: channel '%s' (id %d) opened by the page\n",
                   channel->label().c_str(), channel->id() ? int{*channel->id()} : -1);
      serve_channel(channel);
    });
    answer_offer(sdp);
  }

  void answer_offer(const std::string& sdp) {
    std::weak_ptr<Session> weak = weak_from_this();
    pc_->set_remote_description({RTCSdpType::kOffer, sdp}, [weak](Result<> applied) {
      auto self = weak.lock();
      if (!self) return;
      if (!applied) {
        self->error(applied.error().to_string());
        return;
      }
      // On the loop thread, so the blocking forms complete at once.
      auto answer = self->pc_->create_answer().get();
      if (!answer) {
        self->error(answer.error().to_string());
        return;
      }
      if (auto set = self->pc_->set_local_description(*answer).get(); !set) {
        self->error(set.error().to_string());
        return;
      }
      self->send(json{{"type", "answer"}, {"sdp", answer->sdp}}.dump());
    });
  }

  void tick_stats() {
    stats_timer_.expires_after(std::chrono::seconds(1));
    stats_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->ended_) return;
      if (self->pc_) {
        std::weak_ptr<Session> weak = self;
        self->pc_->get_stats([weak](RTCStatsReport report) {
          if (auto s = weak.lock())
            s->send("{\"type\":\"stats\",\"report\":" + report.to_json() + "}");
        });
      }
      self->tick_stats();
    });
  }

  void end() {
    ended_ = true;
    stats_timer_.cancel();
    if (pc_) pc_->close();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  asio::steady_timer stats_timer_;
  std::shared_ptr<RTCPeerConnection> pc_;
  bool ended_ = false;
};

// One HTTP request: the page, the WebSocket upgrade, or 404.
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  explicit HttpConnection(tcp::socket socket) : stream_(std::move(socket)) {}

  void start() {
    parser_.body_limit(64 * 1024);  // the page sends no bodies; anything large is refused
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->handle(self->parser_.release());
                     });
  }

 private:
  void handle(http::request<http::string_body> request) {
    if (websocket::is_upgrade(request) && request.target() == "/ws") {
      std::make_shared<Session>(stream_.release_socket())->start(std::move(request));
      return;
    }
    auto response = std::make_shared<http::response<http::string_body>>();
    response->version(request.version());
    response->keep_alive(false);
    if (request.method() == http::verb::get &&
        (request.target() == "/" || request.target() == "/index.html")) {
      response->result(http::status::ok);
      response->set(http::field::content_type, "text/html; charset=utf-8");
      response->body() = kServePage;
    } else {
      response->result(http::status::not_found);
      response->set(http::field::content_type, "text/plain");
      response->body() = "not found\n";
    }
    response->prepare_payload();
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket socket) {
    if (ec) return;
    std::make_shared<HttpConnection>(std::move(socket))->start();
    accept(acceptor);
  });
}

}  // namespace

CLI::App* add_serve_command(CLI::App& app, ServeOptions& options) {
  auto* serve = app.add_subcommand(
      "serve",
      "An HTTP and WebSocket server whose page connects a browser to this process: echo, "
      "upload, download, live getStats");
  serve->add_option("--host", options.host, "address to listen on")->capture_default_str();
  serve->add_option("--port", options.port, "TCP port to listen on")
      ->check(CLI::Range(0u, 65535u))
      ->capture_default_str();
  serve
      ->add_option("--timeout", options.timeout_seconds,
                   "stop after this many seconds (0: serve until interrupted)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  return serve;
}

int run_serve(const ServeOptions& options) {
  const std::string& host = options.host;
  const unsigned port = options.port;
  const int timeout = options.timeout_seconds;
  asio::io_context io;
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    std::fprintf(stderr, "rtcpp serve: bad address %s\n", host.c_str());
    return 2;
  }
  tcp::acceptor acceptor(io);
  const tcp::endpoint endpoint(address, static_cast<std::uint16_t>(port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "rtcpp serve: cannot listen on %s:%u: %s\n", host.c_str(), port,
                 ec.message().c_str());
    return 1;
  }
  const auto bound = acceptor.local_endpoint();
  std::printf("rtcpp serve: open http://%s:%u/\n", bound.address().to_string().c_str(),
              unsigned{bound.port()});
  std::fflush(stdout);
  accept(acceptor);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](beast::error_code, int) { io.stop(); });
  asio::steady_timer deadline(io);
  if (timeout > 0) {
    deadline.expires_after(std::chrono::seconds(timeout));
    deadline.async_wait([&io](beast::error_code e) {
      if (!e) io.stop();
    });
  }
  io.run();
  return 0;
}

}  // namespace rtcpp::tools
