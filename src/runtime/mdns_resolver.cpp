#include "runtime/mdns_resolver.hpp"

#include <algorithm>
#include <boost/asio/ip/multicast.hpp>

#include "mdns/mdns_message.hpp"

namespace rtcpp::runtime {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

const udp::endpoint kGroup(asio::ip::address_v4(mdns::kGroupV4), mdns::kPort);
constexpr std::size_t kMaxMessage = 9000;  // RFC 6762 17: at most 9000 bytes

std::string lower(std::string s) {
  for (char& c : s) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  return s;
}

}  // namespace

MdnsResolver::MdnsResolver(asio::io_context& io)
    : io_(io), query_buffer_(kMaxMessage), group_buffer_(kMaxMessage) {}

MdnsResolver::~MdnsResolver() {
  alive_.reset();
  boost::system::error_code ec;
  if (query_socket_) query_socket_->close(ec);
  if (group_socket_) group_socket_->close(ec);
  for (auto& [name, pending] : pending_) pending.timer->cancel();
}

bool MdnsResolver::open_sockets() {
  if (query_socket_) return true;
  boost::system::error_code ec;
  auto query = std::make_unique<udp::socket>(io_);
  query->open(udp::v4(), ec);
  if (!ec) query->bind(udp::endpoint(udp::v4(), 0), ec);
  if (ec) return false;
  // RFC 6762 11: link-local, and answers are accepted only with TTL 255 elsewhere; ours too.
  query->set_option(asio::ip::multicast::hops(255), ec);
  query->set_option(asio::ip::multicast::enable_loopback(true), ec);
  query_socket_ = std::move(query);
  receive(*query_socket_);
  // Responders that answer by multicast whatever the question asked: listen on the group
  // too, when the port can be shared with the system's own mDNS daemon.
  auto group = std::make_unique<udp::socket>(io_);
  group->open(udp::v4(), ec);
  if (!ec) group->set_option(udp::socket::reuse_address(true), ec);
  if (!ec) group->bind(udp::endpoint(udp::v4(), mdns::kPort), ec);
  if (!ec) group->set_option(asio::ip::multicast::join_group(kGroup.address()), ec);
  if (!ec) {
    group_socket_ = std::move(group);
    receive(*group_socket_);
  }
  return true;
}

void MdnsResolver::receive(udp::socket& socket) {
  auto& buffer = &socket == query_socket_.get() ? query_buffer_ : group_buffer_;
  std::weak_ptr<bool> alive = alive_;
  socket.async_receive(
      asio::buffer(buffer),
      [this, alive, &socket, &buffer](const boost::system::error_code& ec, std::size_t n) {
        if (alive.expired() || ec == asio::error::operation_aborted) return;
        if (!ec) on_datagram(buffer.data(), n);
        receive(socket);
      });
}

void MdnsResolver::on_datagram(const std::uint8_t* data, std::size_t size) {
  auto records = mdns::parse_response(BytesView(data, size));
  if (!records) return;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& record : *records) {
    // Only names we asked for are kept: a responder's other records are not ours to cache.
    if (!pending_.count(record.name) && !cache_.count(record.name)) continue;
    if (cache_.size() >= kMaxCached && !cache_.count(record.name)) {
      std::erase_if(cache_, [now](const auto& entry) { return entry.second.expires <= now; });
      if (cache_.size() >= kMaxCached) cache_.erase(cache_.begin());
    }
    cache_.insert_or_assign(record.name,
                            Cached{record.address, now + std::chrono::seconds(record.ttl)});
    if (pending_.count(record.name)) finish(record.name, record.address);
  }
}

void MdnsResolver::resolve(const std::string& raw_name, Callback done) {
  const std::string name = lower(raw_name);
  if (!mdns::is_local_hostname(name)) {
    asio::post(io_, [done = std::move(done)] { done(std::nullopt); });
    return;
  }
  if (auto it = cache_.find(name);
      it != cache_.end() && it->second.expires > std::chrono::steady_clock::now()) {
    asio::post(io_, [done = std::move(done), address = it->second.address] { done(address); });
    return;
  }
  if (auto it = pending_.find(name); it != pending_.end()) {
    it->second.callbacks.push_back(std::move(done));
    return;
  }
  if (pending_.size() >= kMaxPending || !open_sockets()) {
    asio::post(io_, [done = std::move(done)] { done(std::nullopt); });
    return;
  }
  Pending& pending = pending_[name];
  pending.callbacks.push_back(std::move(done));
  pending.timer = std::make_unique<asio::steady_timer>(io_);
  pending.started = std::chrono::steady_clock::now();
  send_query(name);
  schedule(name);
}

void MdnsResolver::send_query(const std::string& name) {
  auto query = mdns::build_query(name, next_id_++);
  if (!query || !query_socket_) return;
  boost::system::error_code ec;
  query_socket_->send_to(asio::buffer(query->data(), query->size()), kGroup, 0, ec);
  ++pending_[name].sent;
}

void MdnsResolver::schedule(const std::string& name) {
  Pending& pending = pending_[name];
  const auto next = pending.sent < static_cast<int>(std::size(kRetries))
                        ? pending.started + kRetries[pending.sent]
                        : pending.started + kTimeout;
  pending.timer->expires_at(next);
  std::weak_ptr<bool> alive = alive_;
  pending.timer->async_wait([this, alive, name](const boost::system::error_code& ec) {
    if (alive.expired() || ec == asio::error::operation_aborted) return;
    auto it = pending_.find(name);
    if (it == pending_.end()) return;
    if (it->second.sent >= static_cast<int>(std::size(kRetries))) {
      finish(name, std::nullopt);
      return;
    }
    send_query(name);
    schedule(name);
  });
}

void MdnsResolver::finish(const std::string& name, std::optional<IpAddress> address) {
  auto it = pending_.find(name);
  if (it == pending_.end()) return;
  auto callbacks = std::move(it->second.callbacks);
  it->second.timer->cancel();
  pending_.erase(it);
  for (auto& callback : callbacks) callback(address);
}

}  // namespace rtcpp::runtime
