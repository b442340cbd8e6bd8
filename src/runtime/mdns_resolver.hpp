// Resolves the "<uuid>.local" names browsers put in their host candidates, with multicast DNS
// (RFC 6762) on the local link: one-shot queries to 224.0.0.251:5353 asking for a unicast
// answer, repeated a few times, and the answers read from the query socket and, where the
// port can be shared, from the multicast group itself (responders that answer by multicast).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/net.hpp"

namespace rtcpp::runtime {

class MdnsResolver {
 public:
  using Callback = std::function<void(std::optional<IpAddress>)>;

  explicit MdnsResolver(boost::asio::io_context& io);
  ~MdnsResolver();
  MdnsResolver(const MdnsResolver&) = delete;
  MdnsResolver& operator=(const MdnsResolver&) = delete;

  // Calls `done` once, on the io_context's thread: with the name's address, or nullopt when
  // nothing answered within kTimeout (or the name is not a .local name). Answers are cached
  // for their TTL; callbacks do not run after the resolver is destroyed.
  void resolve(const std::string& name, Callback done);

  static constexpr std::chrono::milliseconds kTimeout{3000};
  // Queries sent per name, at these delays from the first.
  static constexpr std::chrono::milliseconds kRetries[] = {std::chrono::milliseconds(0),
                                                           std::chrono::milliseconds(250),
                                                           std::chrono::milliseconds(1000)};
  // Bound on names being resolved at once (a hostile peer trickling names).
  static constexpr std::size_t kMaxPending = 32;
  static constexpr std::size_t kMaxCached = 256;

 private:
  struct Pending {
    std::vector<Callback> callbacks;
    std::unique_ptr<boost::asio::steady_timer> timer;
    int sent = 0;
    std::chrono::steady_clock::time_point started;
  };
  bool open_sockets();
  void receive(boost::asio::ip::udp::socket& socket);
  void on_datagram(const std::uint8_t* data, std::size_t size);
  void send_query(const std::string& name);
  void schedule(const std::string& name);
  void finish(const std::string& name, std::optional<IpAddress> address);

  boost::asio::io_context& io_;
  std::unique_ptr<boost::asio::ip::udp::socket> query_socket_;
  std::unique_ptr<boost::asio::ip::udp::socket> group_socket_;
  std::vector<std::uint8_t> query_buffer_;
  std::vector<std::uint8_t> group_buffer_;
  std::map<std::string, Pending> pending_;
  struct Cached {
    IpAddress address;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, Cached> cache_;
  std::uint16_t next_id_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rtcpp::runtime
