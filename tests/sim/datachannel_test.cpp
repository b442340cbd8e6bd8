// Data channels between two full rtcpp stacks over impaired simulated paths: a partially
// reliable unordered channel keeps flowing through loss, and a reliable ordered channel
// closed right after its last message (a stream reset, RFC 8831 6.7) delivers every byte
// first.
#include <gtest/gtest.h>

#include "base/byte_reader.hpp"
#include "network.hpp"
#include "pc/peer_transport.hpp"

namespace rtcpp::sim {
namespace {

class TransportNode final : public Node {
 public:
  TransportNode(pc::PeerTransport& t, std::function<void(pc::PeerTransportEvent&&)> on_event)
      : t_(t), on_event_(std::move(on_event)) {}
  void handle_packet(const Datagram& d, Timestamp now) override { t_.handle_datagram(d, now); }
  void handle_timeout(Timestamp now) override { t_.handle_timeout(now); }
  std::optional<Datagram> poll_transmit() override { return t_.poll_transmit(); }
  std::optional<Timestamp> next_timeout() override { return t_.next_timeout(); }
  std::size_t drain_events(Timestamp) override {
    std::size_t n = 0;
    for (; auto e = t_.poll_event(); ++n) on_event_(std::move(*e));
    return n;
  }

 private:
  pc::PeerTransport& t_;
  std::function<void(pc::PeerTransportEvent&&)> on_event_;
};

// What one side saw, in order.
struct Seen {
  std::vector<pc::ChannelInfo> opened;
  std::vector<Buffer> messages;
  std::vector<std::uint16_t> closed;
  std::size_t messages_before_close = 0;
  std::string sctp_error;
};

// Two stacks on public addresses joined by lossy, reordering links, connected (ICE, DTLS,
// SCTP) before the test body runs. `loss` is per link; a packet crosses two (the sender's
// uplink and the receiver's downlink), so the end-to-end loss is 1 - (1 - loss)^2.
class Pair {
 public:
  Pair(std::uint64_t seed, double loss) : net_(seed), rng_(seed) {
    LinkConfig link;
    link.delay = Duration::millis(15);
    link.jitter = Duration::millis(3);
    link.loss = loss;
    link.reorder = 0.05;
    link.duplicate = 0.01;
    link.mtu = 1500;
    const SocketAddress a_addr(IpAddress::v4(198, 51, 100, 1), 5000);
    const SocketAddress b_addr(IpAddress::v4(203, 0, 113, 1), 6000);
    const auto host_a = net_.add_host({a_addr.ip()});
    const auto host_b = net_.add_host({b_addr.ip()});
    net_.set_links(host_a, link, link);
    net_.set_links(host_b, link, link);
    pc::PeerTransportConfig config;
    config.certificate = *dtls::Certificate::generate();
    a_ = std::move(*pc::PeerTransport::create(config, ice::IceRole::kControlling, rng_));
    config.certificate = *dtls::Certificate::generate();
    b_ = std::move(*pc::PeerTransport::create(config, ice::IceRole::kControlled, rng_));
    node_a_ = std::make_unique<TransportNode>(
        *a_, [this](pc::PeerTransportEvent&& e) { on_event(e, *b_, node_b_.get(), at_a); });
    node_b_ = std::make_unique<TransportNode>(
        *b_, [this](pc::PeerTransportEvent&& e) { on_event(e, *a_, node_a_.get(), at_b); });
    net_.bind(host_a, a_addr, *node_a_);
    net_.bind(host_b, b_addr, *node_b_);
    const Timestamp start = net_.now();
    a_->ice().add_host_address(a_addr, start);
    b_->ice().add_host_address(b_addr, start);
    a_->ice().finish_gathering(start);
    b_->ice().finish_gathering(start);
    (void)a_->set_remote_parameters(b_->local_ice_credentials().ufrag,
                                    b_->local_ice_credentials().pwd, b_->local_fingerprints(),
                                    dtls::DtlsRole::kServer, start);
    (void)b_->set_remote_parameters(a_->local_ice_credentials().ufrag,
                                    a_->local_ice_credentials().pwd, a_->local_fingerprints(),
                                    dtls::DtlsRole::kClient, start);
    net_.wake(*node_a_);
    net_.wake(*node_b_);
    connected_ = net_.run_until([&] { return a_->sctp_connected() && b_->sctp_connected(); },
                                start + Duration::seconds(40));
  }

  bool connected() const { return connected_; }
  pc::PeerTransport& a() { return *a_; }
  pc::PeerTransport& b() { return *b_; }
  bool run(const std::function<bool()>& done, Duration limit) {
    net_.wake(*node_a_);
    net_.wake(*node_b_);
    return net_.run_until(done, net_.now() + limit);
  }
  Timestamp now() const { return net_.now(); }
  std::string describe() {
    std::string errors;
    for (const auto& e : net_.errors()) errors += e + "; ";
    auto ta = a_->next_timeout();
    auto tb = b_->next_timeout();
    return errors + " now=" + std::to_string(net_.now().us()) +
           " ta=" + (ta ? std::to_string(ta->us()) : "none") +
           " tb=" + (tb ? std::to_string(tb->us()) : "none") + " a: " + at_a.sctp_error +
           " b: " + at_b.sctp_error + " a buffered=" + std::to_string(a_->sctp().total_buffered()) +
           " b got=" + std::to_string(at_b.messages.size()) +
           " a state=" + std::to_string(static_cast<int>(a_->sctp().state())) +
           " reconfig=" + std::to_string(a_->sctp().reconfig_requests_sent()) + "/" +
           std::to_string(b_->sctp().reconfig_requests_sent()) +
           " closed=" + std::to_string(at_a.closed.size()) + "/" +
           std::to_string(at_b.closed.size());
  }

  Seen at_a;
  Seen at_b;

 private:
  void on_event(const pc::PeerTransportEvent& e, pc::PeerTransport& other, TransportNode* node,
                Seen& seen) {
    if (const auto* ice_event = std::get_if<ice::IceEvent>(&e)) {
      if (const auto* c = std::get_if<ice::IceLocalCandidateEvent>(ice_event)) {
        (void)other.ice().add_remote_candidate(c->candidate, net_.now());
        if (node != nullptr) net_.wake(*node);
      }
    } else if (const auto* o = std::get_if<pc::ChannelOpenEvent>(&e)) {
      seen.opened.push_back(o->channel);
    } else if (const auto* m = std::get_if<pc::ChannelMessageEvent>(&e)) {
      seen.messages.push_back(m->data);
    } else if (const auto* st = std::get_if<pc::SctpStateEvent>(&e)) {
      if (st->error) seen.sctp_error = st->error->to_string();
    } else if (const auto* c = std::get_if<pc::ChannelClosedEvent>(&e)) {
      seen.closed.push_back(c->id);
      seen.messages_before_close = seen.messages.size();
    }
  }

  Network net_;
  SeededRandom rng_;
  std::unique_ptr<pc::PeerTransport> a_;
  std::unique_ptr<pc::PeerTransport> b_;
  std::unique_ptr<TransportNode> node_a_;
  std::unique_ptr<TransportNode> node_b_;
  bool connected_ = false;
};

Buffer numbered(std::uint32_t index, std::size_t size) {
  Buffer b(size);
  SeededRandom(index).fill(b.mutable_view());
  store_be32(b.data(), index);
  return b;
}

class SimDataChannel : public ::testing::TestWithParam<std::pair<double, std::uint64_t>> {};

TEST_P(SimDataChannel, PartiallyReliableUnorderedChannelKeepsGoing) {
  const auto [loss, seed] = GetParam();
  Pair pair(seed, loss);
  ASSERT_TRUE(pair.connected());
  auto id = pair.a().open_channel({.label = "lossy", .ordered = false, .max_retransmits = 0});
  ASSERT_TRUE(id);
  ASSERT_TRUE(pair.run([&] { return !pair.at_b.opened.empty(); }, Duration::seconds(20)));
  EXPECT_EQ(pair.at_b.opened[0].max_retransmits, std::optional<std::uint16_t>(0));
  EXPECT_FALSE(pair.at_b.opened[0].ordered);
  constexpr std::uint32_t kCount = 400;
  std::uint32_t sent = 0;
  // Paced like an application would: up to a bound in flight, then wait for room.
  while (sent < kCount) {
    while (sent < kCount && pair.a().buffered_amount(*id) < 16 * 1024)
      ASSERT_TRUE(pair.a().send(*id, numbered(sent++, 1000), true));
    ASSERT_TRUE(
        pair.run([&] { return pair.a().buffered_amount(*id) < 16 * 1024; }, Duration::seconds(10)))
        << pair.describe();
  }
  ASSERT_TRUE(pair.run([&] { return pair.a().buffered_amount(*id) == 0; }, Duration::seconds(60)));
  EXPECT_EQ(sent, kCount);
  EXPECT_GT(pair.a().sctp().abandoned_messages(), 0u);
  // Nothing twice, everything intact, and most of it there.
  std::vector<bool> got(kCount, false);
  for (const auto& m : pair.at_b.messages) {
    ASSERT_EQ(m.size(), 1000u);
    const std::uint32_t index = load_be32(m.data());
    ASSERT_LT(index, kCount);
    EXPECT_FALSE(got[index]) << index;
    got[index] = true;
    EXPECT_TRUE(m == numbered(index, 1000));
  }
  EXPECT_LT(pair.at_b.messages.size(), kCount);
  EXPECT_GT(pair.at_b.messages.size(), kCount * (1 - 4 * loss));
  // The channel still carries new messages.
  const std::size_t before = pair.at_b.messages.size();
  for (std::uint32_t i = 0; i < 20; ++i)
    ASSERT_TRUE(pair.a().send(*id, numbered(kCount + i, 1000), true));
  ASSERT_TRUE(pair.run([&] { return pair.at_b.messages.size() > before; }, Duration::seconds(10)));
}

TEST_P(SimDataChannel, ReliableOrderedChannelClosedAfterItsDataIsByteExact) {
  const auto [loss, seed] = GetParam();
  Pair pair(seed, loss);
  ASSERT_TRUE(pair.connected());
  auto id = pair.a().open_channel({.label = "file"});
  ASSERT_TRUE(id);
  ASSERT_TRUE(pair.run([&] { return !pair.at_b.opened.empty(); }, Duration::seconds(20)));
  // 300 kB in 16 KiB messages, all queued, then the close at once: the reset follows the
  // data.
  Buffer file(300 * 1000);
  SeededRandom(seed).fill(file.mutable_view());
  for (std::size_t at = 0; at < file.size(); at += 16384) {
    const std::size_t n = std::min<std::size_t>(16384, file.size() - at);
    ASSERT_TRUE(pair.a().send(*id, file.view().subspan(at, n), true));
  }
  ASSERT_TRUE(pair.a().close_channel(*id));
  EXPECT_EQ(pair.a().send(*id, as_bytes("late"), true).error().type(),
            RTCErrorType::kInvalidStateError);
  ASSERT_TRUE(pair.run([&] { return !pair.at_a.closed.empty() && !pair.at_b.closed.empty(); },
                       Duration::seconds(600)))
      << pair.describe();
  EXPECT_EQ(pair.at_a.closed, std::vector<std::uint16_t>{*id});
  EXPECT_EQ(pair.at_b.closed, std::vector<std::uint16_t>{*id});
  // b saw every message, in order, before the close.
  EXPECT_EQ(pair.at_b.messages_before_close, pair.at_b.messages.size());
  Buffer received;
  for (const auto& m : pair.at_b.messages) received.append(m);
  EXPECT_TRUE(received == file);
  // The id is free again: a new channel can use it.
  EXPECT_EQ(pair.a().send(*id, as_bytes("gone"), true).error().type(),
            RTCErrorType::kInvalidStateError);
  auto again = pair.a().open_channel({.label = "again"});
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *id);
  ASSERT_TRUE(pair.run([&] { return pair.at_b.opened.size() == 2; }, Duration::seconds(20)));
  ASSERT_TRUE(pair.a().send(*again, as_bytes("hello again"), false));
  const std::size_t before = pair.at_b.messages.size();
  ASSERT_TRUE(pair.run([&] { return pair.at_b.messages.size() > before; }, Duration::seconds(20)));
  EXPECT_EQ(as_string(pair.at_b.messages.back()), "hello again");
}

INSTANTIATE_TEST_SUITE_P(Loss, SimDataChannel,
                         // About 5 %, 10 % and 19 % end to end.
                         ::testing::Values(std::pair{0.025, std::uint64_t{1}},
                                           std::pair{0.05, std::uint64_t{2}},
                                           std::pair{0.10, std::uint64_t{3}}));

}  // namespace
}  // namespace rtcpp::sim
