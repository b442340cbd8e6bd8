#include "turn/turn_client.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "stun/stun_auth.hpp"
#include "turn/channel_data.hpp"

namespace rtcpp::turn {
namespace {

using stun::StunClass;
using stun::StunMessage;
using stun::StunMessageBuilder;
namespace attr = stun::attr;
namespace method = stun::method;

const SocketAddress kBase = *SocketAddress::parse("10.0.0.1:5000");
const SocketAddress kServer = *SocketAddress::parse("198.51.100.1:3478");
const SocketAddress kRelayed = *SocketAddress::parse("198.51.100.1:50000");
const SocketAddress kMapped = *SocketAddress::parse("203.0.113.5:40000");
const SocketAddress kPeer = *SocketAddress::parse("203.0.113.77:6000");
constexpr std::string_view kRealm = "rtcpp.test";

// A scripted TURN server: the test reads each request and answers it with these helpers.
class Harness {
 public:
  explicit Harness(TurnClientConfig config = {})
      : client(config, {kServer, "user", "pass", TurnTransport::kUdp, "turn:198.51.100.1"}, kBase,
               rng),
        key(*stun::long_term_key_md5("user", kRealm, "pass")) {}

  SeededRandom rng{7};
  TurnClient client;
  Buffer key;
  Timestamp now = Timestamp::seconds(1);
  std::string nonce = "nonce-1";

  // The next datagram the client sends (must exist), kept alive in `last`.
  const Datagram& next() {
    auto d = client.poll_transmit();
    EXPECT_TRUE(d.has_value());
    if (!d) d = Datagram{};
    last = std::move(*d);
    return last;
  }
  StunMessage next_request() {
    const Datagram& d = next();
    EXPECT_EQ(d.source, kBase);
    EXPECT_EQ(d.destination, kServer);
    auto msg = StunMessage::parse(d.payload);
    EXPECT_TRUE(msg.has_value());
    return *msg;
  }
  void deliver(const Buffer& bytes) {
    inbox.push_back(bytes);
    result = client.handle_packet(inbox.back(), now);
  }
  void challenge(const StunMessage& req, int code = 401) {
    auto b = StunMessageBuilder::response_to(req, StunClass::kErrorResponse);
    b.add_error_code(code, code == 401 ? "Unauthorized" : "Stale Nonce");
    b.add_string(attr::kRealm, kRealm);
    b.add_string(attr::kNonce, nonce);
    b.add_fingerprint();
    deliver(b.finish());
  }
  void error(const StunMessage& req, int code, std::string_view reason) {
    auto b = StunMessageBuilder::response_to(req, StunClass::kErrorResponse);
    b.add_error_code(code, reason);
    b.add_message_integrity(key).add_fingerprint();
    deliver(b.finish());
  }
  void succeed(const StunMessage& req,
               const std::function<void(StunMessageBuilder&)>& add = nullptr) {
    auto b = StunMessageBuilder::response_to(req, StunClass::kSuccessResponse);
    if (add) add(b);
    b.add_message_integrity(key).add_fingerprint();
    deliver(b.finish());
  }
  // Valid long-term authentication on a request (RFC 8489 9.2.4).
  void expect_authenticated(const StunMessage& req) {
    EXPECT_EQ(req.username(), "user");
    EXPECT_EQ(req.realm(), kRealm);
    EXPECT_EQ(req.nonce(), nonce);
    EXPECT_EQ(req.check_integrity(key), stun::IntegrityCheck::kValid);
    EXPECT_TRUE(req.fingerprint_valid());
  }
  // Allocate through the 401 challenge.
  void allocate(std::uint32_t lifetime = 600) {
    client.allocate(now);
    auto first = next_request();
    EXPECT_EQ(first.method(), method::kAllocate);
    EXPECT_FALSE(first.has(attr::kMessageIntegrity));
    EXPECT_EQ(first.u32_attribute(attr::kRequestedTransport), 17u << 24);
    challenge(first);
    auto second = next_request();
    EXPECT_EQ(second.method(), method::kAllocate);
    expect_authenticated(second);
    succeed(second, [&](StunMessageBuilder& b) {
      b.add_xor_address(attr::kXorRelayedAddress, kRelayed);
      b.add_xor_address(attr::kXorMappedAddress, kMapped);
      b.add_u32(attr::kLifetime, lifetime);
    });
  }
  template <typename E>
  std::optional<E> event() {
    while (auto e = client.poll_event()) {
      if (auto* x = std::get_if<E>(&*e)) return *x;
    }
    return std::nullopt;
  }
  void advance_to(Timestamp t) {
    now = t;
    client.handle_timeout(now);
  }

  Datagram last;
  std::deque<Buffer> inbox;  // delivered datagrams stay alive: PeerData views into them
  TurnInput result;
};

TEST(TurnClient, AllocatesAfterTheChallenge) {
  Harness h;
  h.allocate();
  EXPECT_EQ(h.client.state(), TurnState::kAllocated);
  auto allocated = h.event<TurnAllocatedEvent>();
  ASSERT_TRUE(allocated);
  EXPECT_EQ(allocated->relayed, kRelayed);
  EXPECT_EQ(allocated->mapped, kMapped);
  EXPECT_EQ(allocated->lifetime, Duration::seconds(600));
  EXPECT_FALSE(h.client.poll_transmit());
}

TEST(TurnClient, WrongPasswordFailsWithTheServersCode) {
  Harness h;
  h.client.allocate(h.now);
  h.challenge(h.next_request());
  auto second = h.next_request();
  h.challenge(second);  // the credentials were refused
  EXPECT_EQ(h.client.state(), TurnState::kFailed);
  auto error = h.event<TurnErrorEvent>();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, 401);
  EXPECT_EQ(error->text, "Unauthorized");
  EXPECT_TRUE(error->allocation_lost);
  EXPECT_FALSE(h.client.poll_transmit());
}

TEST(TurnClient, AllocationErrorIsReported) {
  Harness h;
  h.client.allocate(h.now);
  h.challenge(h.next_request());
  h.error(h.next_request(), 486, "Allocation Quota Reached");
  auto error = h.event<TurnErrorEvent>();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, 486);
  EXPECT_EQ(error->text, "Allocation Quota Reached");
}

TEST(TurnClient, DualAllocationAsksForIpv6TooAndKeepsBothRelays) {
  TurnClientConfig config;
  config.relay_families = RelayFamilies::kBoth;
  Harness h(config);
  h.client.allocate(h.now);
  auto first = h.next_request();
  EXPECT_EQ(first.u32_attribute(attr::kAdditionalAddressFamily), 0x02u << 24);
  EXPECT_EQ(first.u32_attribute(attr::kAdditionalAddressFamilyDraft), 0x02u << 24);
  EXPECT_FALSE(first.has(attr::kRequestedAddressFamily));  // RFC 8656 7.1: not both
  h.challenge(first);
  const SocketAddress relayed6 = *SocketAddress::parse("[2001:db8::1]:50002");
  h.succeed(h.next_request(), [&](StunMessageBuilder& b) {
    b.add_xor_address(attr::kXorRelayedAddress, kRelayed);
    b.add_xor_address(attr::kXorRelayedAddress, relayed6);
    b.add_xor_address(attr::kXorMappedAddress, kMapped);
  });
  auto allocated = h.event<TurnAllocatedEvent>();
  ASSERT_TRUE(allocated);
  EXPECT_EQ(allocated->relayed, kRelayed);
  EXPECT_EQ(allocated->additional_relayed, relayed6);
  EXPECT_TRUE(h.client.is_relayed_address(relayed6));
  EXPECT_EQ(h.client.relayed_address_for(*SocketAddress::parse("[2001:db8::9]:1")), relayed6);
  EXPECT_EQ(h.client.relayed_address_for(kPeer), kRelayed);
}

TEST(TurnClient, DualAllocationGrantedForOneFamilyOnly) {
  TurnClientConfig config;
  config.relay_families = RelayFamilies::kBoth;
  Harness h(config);
  h.client.allocate(h.now);
  h.challenge(h.next_request());
  h.succeed(h.next_request(), [&](StunMessageBuilder& b) {
    b.add_xor_address(attr::kXorRelayedAddress, kRelayed);
    const std::uint8_t address_error[] = {2, 0, 4, 40};  // IPv6: 440
    b.add_bytes(attr::kAddressErrorCode, BytesView(address_error, 4));
  });
  auto allocated = h.event<TurnAllocatedEvent>();
  ASSERT_TRUE(allocated);
  EXPECT_EQ(allocated->relayed, kRelayed);
  EXPECT_FALSE(allocated->additional_relayed);
  EXPECT_EQ(h.client.state(), TurnState::kAllocated);
}

TEST(TurnClient, RequestedAddressFamilyAndItsRefusal) {
  TurnClientConfig config;
  config.relay_families = RelayFamilies::kIpv6;
  Harness h(config);
  h.client.allocate(h.now);
  auto first = h.next_request();
  EXPECT_EQ(first.u32_attribute(attr::kRequestedAddressFamily), 0x02u << 24);
  h.challenge(first);
  h.error(h.next_request(), 440, "Address Family not Supported");
  auto error = h.event<TurnErrorEvent>();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, 440);
  EXPECT_EQ(h.client.state(), TurnState::kFailed);
}

TEST(TurnClient, UsernameAnonymitySendsTheUserhash) {
  Harness h;
  h.nonce = "obMatJos2QAAAnonce";  // the feature set with username anonymity (bit 1)
  h.client.allocate(h.now);
  h.challenge(h.next_request());
  auto second = h.next_request();
  EXPECT_FALSE(second.has(attr::kUsername));
  const auto* hash = second.find(attr::kUserhash);
  ASSERT_NE(hash, nullptr);
  EXPECT_TRUE(equal_bytes(hash->value, stun::userhash("user", kRealm)->view()));
  EXPECT_EQ(second.realm(), kRealm);
  EXPECT_EQ(second.check_integrity(h.key), stun::IntegrityCheck::kValid);
}

TEST(TurnClient, UnansweredAllocateIs701) {
  Harness h;
  h.client.allocate(h.now);
  for (int i = 0; i < 200 && h.client.state() == TurnState::kAllocating; ++i) {
    while (h.client.poll_transmit()) {
    }
    h.advance_to(*h.client.next_timeout());
  }
  auto error = h.event<TurnErrorEvent>();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, 701);
  EXPECT_EQ(h.client.state(), TurnState::kFailed);
}

TEST(TurnClient, ForgedSuccessWithoutIntegrityIsIgnored) {
  Harness h;
  h.client.allocate(h.now);
  h.challenge(h.next_request());
  auto req = h.next_request();
  auto b = StunMessageBuilder::response_to(req, StunClass::kSuccessResponse);
  b.add_xor_address(attr::kXorRelayedAddress, kRelayed);
  b.add_message_integrity(Buffer::from_string("not the key"));
  h.deliver(b.finish());
  EXPECT_EQ(h.client.state(), TurnState::kAllocating);
  // The genuine answer still completes the transaction.
  h.succeed(req, [](StunMessageBuilder& m) {
    m.add_xor_address(attr::kXorRelayedAddress, kRelayed);
    m.add_u32(attr::kLifetime, 600);
  });
  EXPECT_EQ(h.client.state(), TurnState::kAllocated);
}

TEST(TurnClient, RefreshesBeforeExpiryAndRetriesOnStaleNonce) {
  Harness h;
  h.allocate(600);
  ASSERT_EQ(h.client.refresh_at(), h.now + Duration::seconds(540));
  h.advance_to(h.now + Duration::seconds(539));
  EXPECT_FALSE(h.client.poll_transmit());
  h.advance_to(h.now + Duration::seconds(1));
  auto refresh = h.next_request();
  EXPECT_EQ(refresh.method(), method::kRefresh);
  EXPECT_EQ(refresh.u32_attribute(attr::kLifetime), 600u);
  h.expect_authenticated(refresh);
  // RFC 8656 7.3 / RFC 8489 9.2.5: 438 carries a new nonce; the client retries with it.
  h.nonce = "nonce-2";
  h.challenge(refresh, 438);
  auto retry = h.next_request();
  EXPECT_EQ(retry.method(), method::kRefresh);
  EXPECT_NE(retry.transaction_id(), refresh.transaction_id());
  h.expect_authenticated(retry);
  h.succeed(retry, [](StunMessageBuilder& b) { b.add_u32(attr::kLifetime, 300); });
  EXPECT_EQ(h.client.refresh_at(), h.now + Duration::seconds(240));
  EXPECT_EQ(h.client.state(), TurnState::kAllocated);
}

TEST(TurnClient, ShortLifetimeRefreshesHalfWay) {
  Harness h;
  h.allocate(60);
  EXPECT_EQ(h.client.refresh_at(), h.now + Duration::seconds(30));
}

TEST(TurnClient, LostAllocationOnRefreshError) {
  Harness h;
  h.allocate();
  h.advance_to(*h.client.refresh_at());
  h.error(h.next_request(), 437, "Allocation Mismatch");
  EXPECT_EQ(h.client.state(), TurnState::kFailed);
  auto error = h.event<TurnErrorEvent>();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, 437);
}

TEST(TurnClient, PermissionThenSendIndicationThenChannel) {
  Harness h;
  h.allocate();
  const Buffer hello = Buffer::from_string("hello");
  EXPECT_FALSE(h.client.wrap(kPeer, hello, h.now));  // held until the permission exists
  auto perm = h.next_request();
  EXPECT_EQ(perm.method(), method::kCreatePermission);
  h.expect_authenticated(perm);
  auto peer_attr = perm.xor_address_attribute(attr::kXorPeerAddress);
  ASSERT_TRUE(peer_attr);
  EXPECT_EQ(peer_attr->ip(), kPeer.ip());
  EXPECT_FALSE(h.client.poll_transmit());
  h.succeed(perm);
  EXPECT_TRUE(h.client.has_permission(kPeer.ip()));
  // The held data leaves as a Send indication, then a ChannelBind follows.
  auto send = h.next_request();
  EXPECT_EQ(send.message_class(), StunClass::kIndication);
  EXPECT_EQ(send.method(), method::kSend);
  EXPECT_EQ(*send.xor_address_attribute(attr::kXorPeerAddress), kPeer);
  ASSERT_TRUE(send.find(attr::kData));
  EXPECT_TRUE(equal_bytes(send.find(attr::kData)->value, hello));
  auto bind = h.next_request();
  EXPECT_EQ(bind.method(), method::kChannelBind);
  h.expect_authenticated(bind);
  const auto channel_attr = bind.u32_attribute(attr::kChannelNumber);
  ASSERT_TRUE(channel_attr);
  const auto channel = static_cast<std::uint16_t>(*channel_attr >> 16);
  EXPECT_TRUE(is_valid_channel(channel));
  EXPECT_EQ(*channel_attr & 0xFFFF, 0u);
  EXPECT_EQ(*bind.xor_address_attribute(attr::kXorPeerAddress), kPeer);
  // Before the binding succeeds data still goes in Send indications.
  auto before = h.client.wrap(kPeer, hello, h.now);
  ASSERT_TRUE(before);
  EXPECT_TRUE(stun::is_stun_message(before->payload));
  h.succeed(bind);
  EXPECT_EQ(h.client.channel_for(kPeer), channel);
  auto after = h.client.wrap(kPeer, hello, h.now);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->destination, kServer);
  auto cd = parse_channel_data(after->payload);
  ASSERT_TRUE(cd);
  EXPECT_EQ(cd->channel, channel);
  EXPECT_TRUE(equal_bytes(cd->data, hello));

  // Incoming: ChannelData on the bound channel and a Data indication both unwrap.
  h.deliver(build_channel_data(channel, Buffer::from_string("pong"), false));
  auto* data = std::get_if<PeerData>(&h.result);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->peer, kPeer);
  EXPECT_EQ(as_string(data->data), "pong");
  StunMessageBuilder ind(StunClass::kIndication, method::kData, stun::random_transaction_id(h.rng));
  ind.add_xor_address(attr::kXorPeerAddress, kPeer).add_string(attr::kData, "ping");
  h.deliver(ind.finish());
  data = std::get_if<PeerData>(&h.result);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(as_string(data->data), "ping");
  // From a peer without a permission, on an unbound channel, or malformed: dropped.
  StunMessageBuilder stranger(StunClass::kIndication, method::kData,
                              stun::random_transaction_id(h.rng));
  stranger.add_xor_address(attr::kXorPeerAddress, *SocketAddress::parse("192.0.2.1:1"));
  stranger.add_string(attr::kData, "x");
  h.deliver(stranger.finish());
  EXPECT_TRUE(std::holds_alternative<Consumed>(h.result));
  h.deliver(build_channel_data(static_cast<std::uint16_t>(channel + 1), Buffer{1}, false));
  EXPECT_TRUE(std::holds_alternative<Consumed>(h.result));
  h.deliver(Buffer{0x40, 0x00, 0x01});
  EXPECT_TRUE(std::holds_alternative<Consumed>(h.result));
  StunMessageBuilder no_data(StunClass::kIndication, method::kData,
                             stun::random_transaction_id(h.rng));
  no_data.add_xor_address(attr::kXorPeerAddress, kPeer);
  h.deliver(no_data.finish());
  EXPECT_TRUE(std::holds_alternative<Consumed>(h.result));
}

TEST(TurnClient, PermissionAndChannelRefreshWhileInUse) {
  Harness h;
  h.allocate();
  const Timestamp start = h.now;
  (void)h.client.wrap(kPeer, Buffer{1}, h.now);
  h.succeed(h.next_request());  // CreatePermission
  (void)h.next();               // the Send indication
  h.succeed(h.next_request());  // ChannelBind
  ASSERT_TRUE(h.client.channel_for(kPeer));
  // Keep using the channel; the permission is refreshed at 4 min, the channel at 9 min.
  int permission_refreshes = 0;
  int channel_refreshes = 0;
  int allocation_refreshes = 0;
  for (int s = 1; s <= 600; ++s) {
    h.advance_to(start + Duration::seconds(s));
    ASSERT_TRUE(h.client.wrap(kPeer, Buffer{2}, h.now));
    while (auto d = h.client.poll_transmit()) {
      auto msg = StunMessage::parse(d->payload);
      if (!msg || msg->message_class() != StunClass::kRequest) continue;
      h.last = std::move(*d);
      auto req = *StunMessage::parse(h.last.payload);
      if (req.method() == method::kCreatePermission) {
        ++permission_refreshes;
        EXPECT_TRUE(s == 240 || s == 480) << s;
        h.succeed(req);
      } else if (req.method() == method::kChannelBind) {
        ++channel_refreshes;
        EXPECT_EQ(s, 540);
        h.succeed(req);
      } else if (req.method() == method::kRefresh) {
        ++allocation_refreshes;
        h.succeed(req, [](StunMessageBuilder& b) { b.add_u32(attr::kLifetime, 600); });
      }
    }
  }
  EXPECT_EQ(permission_refreshes, 2);
  EXPECT_EQ(channel_refreshes, 1);
  EXPECT_EQ(allocation_refreshes, 1);
  EXPECT_TRUE(h.client.channel_for(kPeer));
  EXPECT_TRUE(h.client.has_permission(kPeer.ip()));
}

TEST(TurnClient, UnusedPermissionLapses) {
  Harness h;
  h.allocate();
  (void)h.client.wrap(kPeer, Buffer{1}, h.now);
  h.succeed(h.next_request());
  (void)h.next();
  h.succeed(h.next_request());
  const Timestamp start = h.now;
  for (int s = 1; s <= 601; ++s) {
    h.advance_to(start + Duration::seconds(s));
    while (auto d = h.client.poll_transmit()) {
      auto msg = StunMessage::parse(d->payload);
      ASSERT_TRUE(msg);
      // Only the allocation itself is refreshed.
      EXPECT_EQ(msg->method(), method::kRefresh);
      h.last = std::move(*d);
      h.succeed(*StunMessage::parse(h.last.payload),
                [](StunMessageBuilder& b) { b.add_u32(attr::kLifetime, 600); });
    }
  }
  EXPECT_FALSE(h.client.has_permission(kPeer.ip()));
  EXPECT_FALSE(h.client.channel_for(kPeer));
}

TEST(TurnClient, TryAlternateRedirects) {
  Harness h;
  h.client.allocate(h.now);
  auto first = h.next_request();
  const SocketAddress alternate = *SocketAddress::parse("198.51.100.2:3478");
  auto b = StunMessageBuilder::response_to(first, StunClass::kErrorResponse);
  b.add_error_code(300, "Try Alternate").add_address(attr::kAlternateServer, alternate);
  h.deliver(b.finish());
  auto d = h.client.poll_transmit();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->destination, alternate);
  auto msg = StunMessage::parse(d->payload);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->method(), method::kAllocate);
  EXPECT_EQ(h.client.server_address(), alternate);
}

TEST(TurnClient, BoundedPermissions) {
  TurnClientConfig config;
  config.max_permissions = 3;
  Harness h(config);
  h.allocate();
  for (std::uint8_t i = 1; i <= 10; ++i)
    (void)h.client.wrap(SocketAddress(IpAddress::v4(192, 0, 2, i), 1000), Buffer{1}, h.now);
  EXPECT_EQ(h.client.permission_count(), 3u);
  int requests = 0;
  while (h.client.poll_transmit()) ++requests;
  EXPECT_EQ(requests, 3);
}

TEST(TurnClient, CloseDeallocates) {
  Harness h;
  h.allocate();
  h.client.close(h.now);
  EXPECT_EQ(h.client.state(), TurnState::kClosing);
  auto req = h.next_request();
  EXPECT_EQ(req.method(), method::kRefresh);
  EXPECT_EQ(req.u32_attribute(attr::kLifetime), 0u);
  h.expect_authenticated(req);
  h.succeed(req, [](StunMessageBuilder& b) { b.add_u32(attr::kLifetime, 0); });
  EXPECT_EQ(h.client.state(), TurnState::kClosed);
  EXPECT_TRUE(h.event<TurnClosedEvent>());
  EXPECT_FALSE(h.client.wrap(kPeer, Buffer{1}, h.now));
}

TEST(TurnClient, ResponsesToOthersAreNotTurn) {
  Harness h;
  h.allocate();
  StunMessageBuilder b(StunClass::kSuccessResponse, method::kBinding,
                       stun::random_transaction_id(h.rng));
  b.add_fingerprint();
  h.deliver(b.finish());
  EXPECT_TRUE(std::holds_alternative<NotTurn>(h.result));
  h.deliver(Buffer{0x16, 0xFE, 0xFD});
  EXPECT_TRUE(std::holds_alternative<NotTurn>(h.result));
}

}  // namespace
}  // namespace rtcpp::turn

namespace rtcpp::turn {
namespace {

// The client's transaction ids come from the Random it is given, so a seeded run repeats.
TEST(TurnClient, TransactionIdsComeFromTheInjectedRandom) {
  auto first_request = [](std::uint64_t seed) {
    SeededRandom rng(seed);
    TurnClient client({}, {kServer, "user", "pass", TurnTransport::kUdp, "turn:x"}, kBase, rng);
    client.allocate(Timestamp::seconds(1));
    auto d = client.poll_transmit();
    EXPECT_TRUE(d.has_value());
    return d ? d->payload : Buffer{};
  };
  EXPECT_EQ(first_request(1), first_request(1));
  EXPECT_NE(first_request(1), first_request(2));
}

}  // namespace
}  // namespace rtcpp::turn
