// ICE-TCP (RFC 6544) end to end through the public API: two connections in one process over
// real loopback TCP with UDP left out (RTCIceCandidateProtocols::kTcpOnly), a data channel
// carrying messages byte for byte, and hostile connections to a passive candidate (garbage,
// oversized frames, silence) being closed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "common/eventually.hpp"
#include "rtcpp/rtcpp.hpp"

namespace rtcpp {
namespace {

using namespace std::chrono_literals;

using rtcpp::test_support::eventually;

RTCConfiguration tcp_only_config() {
  RTCConfiguration config;
  config.gather_loopback = true;
  config.ice_candidate_protocols = RTCIceCandidateProtocols::kTcpOnly;
  return config;
}

std::shared_ptr<RTCPeerConnection> make_pc(RTCConfiguration config) {
  auto pc = RTCPeerConnection::create(std::move(config));
  EXPECT_TRUE(pc) << pc.error().to_string();
  return *pc;
}

// Sets the local description and waits for gathering to complete, so that the description
// carries every candidate (no trickle needed).
void set_local_and_gather(RTCPeerConnection& pc, const RTCSessionDescriptionInit& description) {
  ASSERT_TRUE(pc.set_local_description(description).get());
  ASSERT_TRUE(
      eventually([&] { return pc.ice_gathering_state() == RTCIceGatheringState::kComplete; }));
}

std::vector<std::string> candidate_lines(const std::string& sdp) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while ((at = sdp.find("a=candidate:", at)) != std::string::npos) {
    const auto end = sdp.find('\r', at);
    out.push_back(sdp.substr(at + 2, end - at - 2));
    at = end;
  }
  return out;
}

struct Received {
  std::mutex mutex;
  std::vector<RTCMessageEvent> messages;
  std::size_t count() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
};

TEST(IceTcp, TwoConnectionsOpenADataChannelOverTcpOnly) {
  const auto start = std::chrono::steady_clock::now();
  auto a = make_pc(tcp_only_config());
  auto b = make_pc(tcp_only_config());
  auto channel = a->create_data_channel("over-tcp", {});
  ASSERT_TRUE(channel);
  std::atomic<bool> a_open{false};
  (*channel)->on_open([&] { a_open = true; });
  Received at_b;
  Received at_a;
  std::shared_ptr<RTCDataChannel> b_channel;
  std::mutex b_channel_mutex;
  b->on_data_channel([&](std::shared_ptr<RTCDataChannel> c) {
    c->on_message([&](const RTCMessageEvent& m) {
      std::lock_guard lock(at_b.mutex);
      at_b.messages.push_back(m);
    });
    std::lock_guard lock(b_channel_mutex);
    b_channel = std::move(c);
  });
  (*channel)->on_message([&](const RTCMessageEvent& m) {
    std::lock_guard lock(at_a.mutex);
    at_a.messages.push_back(m);
  });

  auto offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  set_local_and_gather(*a, *offer);
  const auto offered = a->local_description()->sdp;
  const auto lines = candidate_lines(offered);
  ASSERT_FALSE(lines.empty()) << offered;
  bool active = false;
  bool passive = false;
  for (const auto& line : lines) {
    // Only ICE-TCP: no UDP candidate is offered.
    EXPECT_NE(line.find(" tcp "), std::string::npos) << line;
    if (line.find(" 9 typ host tcptype active") != std::string::npos) active = true;
    if (line.find("typ host tcptype passive") != std::string::npos) passive = true;
    auto parsed = RTCIceCandidate::create({line, "0", 0, std::nullopt});
    ASSERT_TRUE(parsed) << line;
    EXPECT_EQ(parsed->protocol, RTCIceProtocol::kTcp);
    ASSERT_TRUE(parsed->tcp_type);
  }
  EXPECT_TRUE(active && passive) << offered;

  ASSERT_TRUE(b->set_remote_description(*a->local_description()).get());
  auto answer = b->create_answer().get();
  ASSERT_TRUE(answer);
  set_local_and_gather(*b, *answer);
  ASSERT_TRUE(a->set_remote_description(*b->local_description()).get());

  ASSERT_TRUE(eventually([&] { return a_open.load(); }, 15s));
  const auto open_after = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  std::cout << "[ figures  ] data channel open over ICE-TCP after " << open_after.count()
            << " ms\n";
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(b_channel_mutex);
    return b_channel != nullptr;
  }));

  // The selected pair is TCP on both sides.
  for (auto* pc : {a.get(), b.get()}) {
    auto pair = pc->sctp()->transport()->ice_transport()->get_selected_candidate_pair();
    ASSERT_TRUE(pair);
    EXPECT_EQ(pair->local.protocol, RTCIceProtocol::kTcp);
    EXPECT_EQ(pair->remote.protocol, RTCIceProtocol::kTcp);
  }
  auto report = a->get_stats().get();
  const RTCStats* local = report.get("Isel");
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->get<std::string>("protocol"), "tcp");
  EXPECT_TRUE(local->get<std::string>("tcpType"));

  // Messages from 1 B to 256 KiB each way, text and binary, byte for byte.
  std::vector<std::vector<std::uint8_t>> sent;
  for (std::size_t size : {1u, 100u, 1200u, 5000u, 65536u, 262144u}) {
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + size);
    sent.push_back(bytes);
    ASSERT_TRUE((*channel)->send(std::span<const std::uint8_t>(bytes)));
  }
  ASSERT_TRUE((*channel)->send("héllo over tcp"));
  ASSERT_TRUE(eventually([&] { return at_b.count() == sent.size() + 1; }, 20s));
  {
    std::lock_guard lock(at_b.mutex);
    for (std::size_t i = 0; i < sent.size(); ++i) {
      EXPECT_TRUE(at_b.messages[i].binary);
      EXPECT_EQ(at_b.messages[i].data, sent[i]) << "message " << i;
    }
    EXPECT_FALSE(at_b.messages.back().binary);
    EXPECT_EQ(at_b.messages.back().text(), "héllo over tcp");
  }
  {
    std::lock_guard lock(b_channel_mutex);
    ASSERT_TRUE(b_channel->send("and back"));
  }
  ASSERT_TRUE(eventually([&] { return at_a.count() == 1; }));
  {
    std::lock_guard lock(at_a.mutex);
    EXPECT_EQ(at_a.messages[0].text(), "and back");
  }
  EXPECT_EQ(a->connection_state(), RTCPeerConnectionState::kConnected);
  a->close();
  b->close();
}

TEST(IceTcp, WithBothOfferedUdpCarriesTheConnection) {
  const auto start = std::chrono::steady_clock::now();
  RTCConfiguration config;
  config.gather_loopback = true;  // the default protocols: UDP and TCP
  auto a = make_pc(config);
  auto b = make_pc(config);
  auto channel = a->create_data_channel("both", {});
  ASSERT_TRUE(channel);
  std::atomic<bool> open{false};
  (*channel)->on_open([&] { open = true; });
  auto offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  set_local_and_gather(*a, *offer);
  ASSERT_TRUE(b->set_remote_description(*a->local_description()).get());
  auto answer = b->create_answer().get();
  ASSERT_TRUE(answer);
  set_local_and_gather(*b, *answer);
  ASSERT_TRUE(a->set_remote_description(*b->local_description()).get());
  ASSERT_TRUE(eventually([&] { return open.load(); }, 15s));
  std::cout << "[ figures  ] data channel open with UDP and TCP offered after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count()
            << " ms\n";
  for (auto* pc : {a.get(), b.get()}) {
    auto pair = pc->sctp()->transport()->ice_transport()->get_selected_candidate_pair();
    ASSERT_TRUE(pair);
    EXPECT_EQ(pair->local.protocol, RTCIceProtocol::kUdp);  // RFC 6544 4.2: UDP ranks first
  }
  a->close();
  b->close();
}

TEST(IceTcp, UdpOnlyGathersNoTcpAndTheDefaultGathersBoth) {
  for (auto protocols :
       {RTCIceCandidateProtocols::kUdpOnly, RTCIceCandidateProtocols::kUdpAndTcp}) {
    RTCConfiguration config;
    config.gather_loopback = true;
    config.ice_candidate_protocols = protocols;
    auto pc = make_pc(config);
    ASSERT_TRUE(pc->create_data_channel("x", {}));
    auto offer = pc->create_offer().get();
    ASSERT_TRUE(offer);
    set_local_and_gather(*pc, *offer);
    const auto lines = candidate_lines(pc->local_description()->sdp);
    std::size_t tcp = 0;
    std::size_t udp = 0;
    for (const auto& line : lines) (line.find(" tcp ") != std::string::npos ? tcp : udp)++;
    EXPECT_GT(udp, 0u);
    if (protocols == RTCIceCandidateProtocols::kUdpOnly) {
      EXPECT_EQ(tcp, 0u);
    } else {
      EXPECT_EQ(tcp, 2 * udp);  // an active and a passive candidate per host IP
    }
    pc->close();
  }
}

// A peer that connects to a passive candidate without credentials.
class HostileClient {
 public:
  explicit HostileClient(const RTCIceCandidate& passive) {
    const bool v6 = passive.address->find(':') != std::string::npos;
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (v6) {
      auto& in6 = reinterpret_cast<sockaddr_in6&>(storage);
      in6.sin6_family = AF_INET6;
      in6.sin6_port = htons(*passive.port);
      ::inet_pton(AF_INET6, passive.address->c_str(), &in6.sin6_addr);
      length = sizeof in6;
    } else {
      auto& in4 = reinterpret_cast<sockaddr_in&>(storage);
      in4.sin_family = AF_INET;
      in4.sin_port = htons(*passive.port);
      ::inet_pton(AF_INET, passive.address->c_str(), &in4.sin_addr);
      length = sizeof in4;
    }
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&storage), length) == 0;
    timeval timeout{0, 100 * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~HostileClient() { ::close(fd_); }
  HostileClient(const HostileClient&) = delete;
  HostileClient& operator=(const HostileClient&) = delete;

  bool connected() const { return connected_; }
  void send(const std::vector<std::uint8_t>& bytes) {
    (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  // True once the other end closed (a read returns end of stream or a reset).
  bool closed_by_peer(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::uint8_t buffer[256];
    while (std::chrono::steady_clock::now() < deadline) {
      const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0) return true;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return true;
    }
    return false;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// A connection with a passive candidate that gathered (and waits for no one).
struct Listening {
  std::shared_ptr<RTCPeerConnection> pc;
  std::optional<RTCIceCandidate> passive;
};

Listening listening_connection() {
  Listening out;
  out.pc = make_pc(tcp_only_config());
  EXPECT_TRUE(out.pc->create_data_channel("x", {}));
  auto offer = out.pc->create_offer().get();
  EXPECT_TRUE(offer);
  set_local_and_gather(*out.pc, *offer);
  for (const auto& line : candidate_lines(out.pc->local_description()->sdp)) {
    auto c = RTCIceCandidate::create({line, "0", 0, std::nullopt});
    if (c && c->tcp_type == RTCIceTcpCandidateType::kPassive &&
        c->address->find(':') == std::string::npos)
      out.passive = *c;
  }
  if (!out.passive) {
    for (const auto& line : candidate_lines(out.pc->local_description()->sdp)) {
      auto c = RTCIceCandidate::create({line, "0", 0, std::nullopt});
      if (c && c->tcp_type == RTCIceTcpCandidateType::kPassive) out.passive = *c;
    }
  }
  EXPECT_TRUE(out.passive);
  return out;
}

TEST(IceTcp, HostileConnectionsAreClosed) {
  auto target = listening_connection();
  ASSERT_TRUE(target.passive);

  // Garbage: a frame that is not STUN before any check authenticated the connection.
  HostileClient garbage(*target.passive);
  ASSERT_TRUE(garbage.connected());
  garbage.send({0, 4, 'j', 'u', 'n', 'k'});
  EXPECT_TRUE(garbage.closed_by_peer(2s));

  // A length over the limit (RFC 4571 allows 65535; we take at most 18 KiB).
  HostileClient oversized(*target.passive);
  ASSERT_TRUE(oversized.connected());
  oversized.send({0xFF, 0xF0, 0, 1});
  EXPECT_TRUE(oversized.closed_by_peer(2s));

  // A STUN-looking frame that does not authenticate (no such ufrag), then silence: answered,
  // then closed when the authentication deadline passes.
  HostileClient idle(*target.passive);
  ASSERT_TRUE(idle.connected());
  std::vector<std::uint8_t> binding = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42};
  for (int i = 0; i < 12; ++i) binding.push_back(static_cast<std::uint8_t>(i));
  std::vector<std::uint8_t> framed = {0, static_cast<std::uint8_t>(binding.size())};
  framed.insert(framed.end(), binding.begin(), binding.end());
  idle.send(framed);
  EXPECT_FALSE(idle.closed_by_peer(1s));  // not at once: it may still authenticate
  EXPECT_TRUE(idle.closed_by_peer(8s));

  // The connection itself is unharmed.
  EXPECT_EQ(target.pc->ice_gathering_state(), RTCIceGatheringState::kComplete);
  target.pc->close();
}

TEST(IceTcp, UnauthenticatedConnectionsAreBounded) {
  auto target = listening_connection();
  ASSERT_TRUE(target.passive);
  std::vector<std::unique_ptr<HostileClient>> clients;
  for (int i = 0; i < 12; ++i) {
    clients.push_back(std::make_unique<HostileClient>(*target.passive));
    ASSERT_TRUE(clients.back()->connected());
  }
  // The first eight wait for their deadline; the rest are closed at once.
  std::size_t closed = 0;
  for (auto& c : clients) closed += c->closed_by_peer(300ms) ? 1 : 0;
  EXPECT_EQ(closed, 4u);
  target.pc->close();
}

}  // namespace
}  // namespace rtcpp
