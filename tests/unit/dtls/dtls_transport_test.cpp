#include "dtls/dtls_transport.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "base/random.hpp"
#include "dtls/record_framing.hpp"

namespace rtcpp::dtls {
namespace {

std::shared_ptr<const Certificate> ecdsa_certificate() {
  static auto cert = *Certificate::generate();
  return cert;
}

std::unique_ptr<DtlsTransport> make(std::shared_ptr<const Certificate> cert,
                                    std::size_t mtu = 1200) {
  DtlsConfig config;
  config.certificate = std::move(cert);
  config.mtu = mtu;
  auto t = DtlsTransport::create(config);
  EXPECT_TRUE(t) << t.error().to_string();
  return std::move(*t);
}

struct Impairment {
  double loss = 0;
  double duplicate = 0;
  bool reorder = false;
};

// Two transports joined by an in-memory path with optional loss, duplication and
// reordering, on a virtual clock. Records what each side sent.
class Pair {
 public:
  Pair(std::unique_ptr<DtlsTransport> a, std::unique_ptr<DtlsTransport> b, std::uint64_t seed,
       Impairment impairment = {})
      : a_(std::move(a)), b_(std::move(b)), rng_(seed), impairment_(impairment) {}

  DtlsTransport& a() { return *a_; }
  DtlsTransport& b() { return *b_; }
  Timestamp now() const { return now_; }
  std::size_t datagrams_from_a() const { return sent_by_a_; }
  std::size_t max_datagram = 0;

  // Moves datagrams until `done` holds or the virtual deadline passes.
  template <typename Done>
  bool run(Done done, Duration limit = Duration::seconds(60)) {
    const Timestamp deadline = now_ + limit;
    while (!done()) {
      std::vector<std::pair<bool, Buffer>> flight;  // (to_b, datagram)
      while (auto d = a_->poll_transmit()) {
        ++sent_by_a_;
        flight.emplace_back(true, std::move(*d));
      }
      while (auto d = b_->poll_transmit()) flight.emplace_back(false, std::move(*d));
      if (!flight.empty()) {
        if (impairment_.reorder) std::shuffle(flight.begin(), flight.end(), ShuffleRng{rng_});
        now_ += Duration::millis(5);  // one-way delay
        for (auto& [to_b, d] : flight) {
          max_datagram = std::max(max_datagram, d.size());
          if (rng_.bernoulli(impairment_.loss)) continue;
          const int copies = rng_.bernoulli(impairment_.duplicate) ? 2 : 1;
          for (int i = 0; i < copies; ++i) (to_b ? b_ : a_)->handle_packet(d, now_);
        }
        continue;
      }
      std::optional<Timestamp> next;
      for (auto* t : {a_.get(), b_.get()}) {
        auto n = t->next_timeout();
        if (n && (!next || *n < *next)) next = n;
      }
      if (!next || *next > deadline) return done();
      now_ = std::max(now_, *next);
      a_->handle_timeout(now_);
      b_->handle_timeout(now_);
    }
    return true;
  }

  std::shared_ptr<const Certificate> b_cert_;

 private:
  struct ShuffleRng {
    using result_type = std::uint64_t;
    SeededRandom& rng;
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return ~result_type{0}; }
    result_type operator()() { return rng.next_u64(); }
  };

  std::unique_ptr<DtlsTransport> a_;
  std::unique_ptr<DtlsTransport> b_;
  SeededRandom rng_;
  Impairment impairment_;
  Timestamp now_ = Timestamp::seconds(1);
  std::size_t sent_by_a_ = 0;
};

std::unique_ptr<Pair> connected_pair_setup(std::uint64_t seed, Impairment imp = {},
                                           std::shared_ptr<const Certificate> b_cert = nullptr,
                                           std::size_t mtu = 1200) {
  auto a_cert = *Certificate::generate();
  if (!b_cert) b_cert = *Certificate::generate();
  auto a = make(a_cert, mtu);
  auto b = make(b_cert, mtu);
  b->set_remote_fingerprints(a_cert->get_fingerprints(), Timestamp::seconds(1));
  auto pair = std::make_unique<Pair>(std::move(a), std::move(b), seed, imp);
  pair->b_cert_ = b_cert;
  pair->a().set_remote_fingerprints(b_cert->get_fingerprints(), pair->now());
  return pair;
}

bool both_connected(Pair& p) {
  return p.a().state() == DtlsState::kConnected && p.b().state() == DtlsState::kConnected;
}

TEST(DtlsTransport, HandshakeThenDataBothWaysAndSameSrtpKeys) {
  auto p = connected_pair_setup(1);
  p->a().start(DtlsRole::kClient, p->now());
  p->b().start(DtlsRole::kServer, p->now());
  ASSERT_TRUE(p->run([&] { return both_connected(*p); }));
  EXPECT_NE(p->a().cipher_suite().find("GCM"), std::string::npos) << p->a().cipher_suite();
  // With no loss a DTLS 1.2 handshake is two round trips: 4 one-way hops of 5 ms.
  EXPECT_LE((p->now() - Timestamp::seconds(1)).ms(), 20);

  ASSERT_TRUE(p->a().send(as_bytes("ping")));
  ASSERT_TRUE(p->b().send(as_bytes("pong")));
  std::vector<std::string> at_a;
  std::vector<std::string> at_b;
  auto drain = [](DtlsTransport& t, std::vector<std::string>& out) {
    while (auto e = t.poll_event()) {
      if (auto* d = std::get_if<DtlsData>(&*e)) out.emplace_back(as_string(d->data));
    }
  };
  p->run([&] {
    drain(p->a(), at_a);
    drain(p->b(), at_b);
    return !at_a.empty() && !at_b.empty();
  });
  EXPECT_EQ(at_b, std::vector<std::string>{"ping"});
  EXPECT_EQ(at_a, std::vector<std::string>{"pong"});

  auto ka = p->a().srtp_keying_material();
  auto kb = p->b().srtp_keying_material();
  ASSERT_TRUE(ka) << ka.error().to_string();
  ASSERT_TRUE(kb);
  EXPECT_EQ(ka->profile, "SRTP_AEAD_AES_128_GCM");
  EXPECT_EQ(ka->client_key, kb->client_key);
  EXPECT_EQ(ka->server_key, kb->server_key);
  EXPECT_EQ(ka->client_salt, kb->client_salt);
  EXPECT_EQ(ka->server_salt, kb->server_salt);
  EXPECT_NE(ka->client_key, ka->server_key);
  EXPECT_EQ(ka->client_key.size(), 16u);
  EXPECT_EQ(ka->client_salt.size(), 12u);

  auto remote = p->a().remote_certificate_der();
  ASSERT_TRUE(remote);
  EXPECT_EQ(*remote, p->b_cert_->der());

  p->a().close();
  EXPECT_EQ(p->a().state(), DtlsState::kClosed);
  p->run([&] { return p->b().state() == DtlsState::kClosed; });
  EXPECT_EQ(p->b().state(), DtlsState::kClosed);
  EXPECT_FALSE(p->a().send(as_bytes("late")));
}

// The secrets reach the configured callback as NSS key log lines (the runtime writes them to
// $SSLKEYLOGFILE); the core itself writes nothing.
TEST(DtlsTransport, KeyLogLinesGoToTheCallback) {
  auto a_cert = *Certificate::generate();
  auto b_cert = *Certificate::generate();
  std::vector<std::string> lines;
  DtlsConfig config;
  config.certificate = a_cert;
  config.key_log = [&](std::string_view line) { lines.emplace_back(line); };
  auto a = DtlsTransport::create(config);
  ASSERT_TRUE(a);
  auto b = make(b_cert);
  b->set_remote_fingerprints(a_cert->get_fingerprints(), Timestamp::seconds(1));
  Pair p(std::move(*a), std::move(b), 5);
  p.a().set_remote_fingerprints(b_cert->get_fingerprints(), p.now());
  p.a().start(DtlsRole::kClient, p.now());
  p.b().start(DtlsRole::kServer, p.now());
  ASSERT_TRUE(p.run([&] {
    return p.a().state() == DtlsState::kConnected && p.b().state() == DtlsState::kConnected;
  }));
  // DTLS 1.2: one CLIENT_RANDOM line with the 32-byte client random and 48-byte master secret.
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("CLIENT_RANDOM ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[0].size(), std::string_view("CLIENT_RANDOM ").size() + 64 + 1 + 96);
}

TEST(DtlsTransport, FingerprintMismatchFails) {
  auto p = connected_pair_setup(2);
  auto stranger = *Certificate::generate();
  p->a().set_remote_fingerprints(stranger->get_fingerprints(), p->now());
  p->a().start(DtlsRole::kClient, p->now());
  p->b().start(DtlsRole::kServer, p->now());
  p->run([&] { return p->a().state() == DtlsState::kFailed; }, Duration::seconds(5));
  ASSERT_EQ(p->a().state(), DtlsState::kFailed);
  std::optional<RTCError> error;
  while (auto e = p->a().poll_event()) {
    if (auto* s = std::get_if<DtlsStateChange>(&*e); s && s->error) error = s->error;
  }
  ASSERT_TRUE(error);
  EXPECT_EQ(error->error_detail(), RTCErrorDetailType::kFingerprintFailure);
}

TEST(DtlsTransport, WaitsForLateFingerprints) {
  auto p = connected_pair_setup(3);
  p->b().set_remote_fingerprints({}, p->now());  // b does not know a's fingerprint yet
  p->a().start(DtlsRole::kClient, p->now());
  p->b().start(DtlsRole::kServer, p->now());
  p->run([&] { return p->a().state() == DtlsState::kConnected; });
  EXPECT_EQ(p->b().state(), DtlsState::kConnecting);
  ASSERT_TRUE(p->a().send(as_bytes("early data")));
  p->run([] { return false; }, Duration::millis(50));
  std::size_t data_events = 0;
  while (auto e = p->b().poll_event()) data_events += std::holds_alternative<DtlsData>(*e);
  EXPECT_EQ(data_events, 0u);  // nothing delivered before the peer is verified
}

TEST(DtlsTransport, EarlyClientHelloIsHeldNotDropped) {
  auto p = connected_pair_setup(4);
  p->a().start(DtlsRole::kClient, p->now());
  // The server learns its role only after the ClientHello has arrived.
  auto hello = p->a().poll_transmit();
  ASSERT_TRUE(hello);
  p->b().handle_packet(*hello, p->now());
  EXPECT_FALSE(p->b().poll_transmit());
  p->b().start(DtlsRole::kServer, p->now());
  ASSERT_TRUE(p->run([&] { return both_connected(*p); }));
  // Connected in about two round trips, with no retransmission of the ClientHello.
  EXPECT_LT((p->now() - Timestamp::seconds(1)).ms(), 50);
}

class DtlsLossTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(DtlsLossTest, HandshakeSurvivesLossReorderingAndDuplication) {
  auto p = connected_pair_setup(GetParam(), {0.2, 0.1, true});
  const bool a_is_client = GetParam() % 2 == 0;
  p->a().start(a_is_client ? DtlsRole::kClient : DtlsRole::kServer, p->now());
  p->b().start(a_is_client ? DtlsRole::kServer : DtlsRole::kClient, p->now());
  ASSERT_TRUE(p->run([&] { return both_connected(*p); }))
      << to_string(p->a().state()) << " " << to_string(p->b().state());
  EXPECT_LT((p->now() - Timestamp::seconds(1)).seconds_f(), 30.0);
}

INSTANTIATE_TEST_SUITE_P(Seeds, DtlsLossTest, ::testing::Range<std::uint64_t>(10, 30));

TEST(DtlsTransport, RsaCertificateFragmentsToSmallMtu) {
  auto rsa = *Certificate::generate(KeyAlgorithm::rsa(4096));
  auto p = connected_pair_setup(5, {}, rsa, 576);
  p->a().start(DtlsRole::kClient, p->now());
  p->b().start(DtlsRole::kServer, p->now());
  ASSERT_TRUE(p->run([&] { return both_connected(*p); }));
  EXPECT_LE(p->max_datagram, 576u);
  EXPECT_GT(rsa->der().size(), 576u);  // the certificate alone needs fragmentation
}

TEST(DtlsTransport, SilentPeerTimesOut) {
  auto a = make(ecdsa_certificate());
  a->set_remote_fingerprints(ecdsa_certificate()->get_fingerprints(), Timestamp::zero());
  a->start(DtlsRole::kClient, Timestamp::zero());
  Timestamp now = Timestamp::zero();
  std::vector<std::int64_t> sends;
  while (auto next = a->next_timeout()) {
    while (a->poll_transmit()) sends.push_back(now.ms());
    now = *next;
    a->handle_timeout(now);
  }
  EXPECT_EQ(a->state(), DtlsState::kFailed);
  EXPECT_EQ(now.ms(), 30000);
  // Our schedule: at 0, then 100 ms doubling to a 3 s cap.
  ASSERT_GE(sends.size(), 8u);
  EXPECT_EQ(std::vector<std::int64_t>(sends.begin(), sends.begin() + 8),
            (std::vector<std::int64_t>{0, 100, 300, 700, 1500, 3100, 6100, 9100}));
}

TEST(DtlsTransport, ConfigErrors) {
  DtlsConfig config;
  EXPECT_EQ(DtlsTransport::create(config).error().type(), RTCErrorType::kInvalidAccessError);
  config.certificate = ecdsa_certificate();
  config.mtu = 100;
  EXPECT_EQ(DtlsTransport::create(config).error().type(), RTCErrorType::kRangeError);
  auto t = make(ecdsa_certificate());
  EXPECT_EQ(t->send(as_bytes("x")).error().type(), RTCErrorType::kInvalidStateError);
  EXPECT_FALSE(t->srtp_keying_material());
  // Cipher suites: ones OpenSSL does not know, and ones whose records rtcpp does not protect.
  config.mtu = 1200;
  for (const char* suites : {"NO-SUCH-SUITE", "AES128-SHA", "ECDHE-ECDSA-AES128-SHA",
                             "ECDHE-ECDSA-AES128-GCM-SHA256:AES256-SHA256"}) {
    config.cipher_suites = suites;
    auto refused = DtlsTransport::create(config);
    ASSERT_FALSE(refused) << suites;
    EXPECT_EQ(refused.error().type(), RTCErrorType::kInvalidAccessError) << suites;
  }
}

// Each suite rtcpp offers, with rtcpp's own epoch-1 records on both sides: OpenSSL checks the
// Finished we seal during the handshake and we open the one it sealed, so a key or nonce
// wrong in any way fails the handshake. Then data both ways, replays, forgeries and close.
class DtlsSuiteTest : public ::testing::TestWithParam<const char*> {};

TEST_P(DtlsSuiteTest, RecordsOfOursInBothDirections) {
  auto a_cert = *Certificate::generate();
  auto b_cert = *Certificate::generate();
  DtlsConfig config;
  config.cipher_suites = GetParam();
  config.certificate = a_cert;
  auto a = DtlsTransport::create(config);
  config.certificate = b_cert;
  auto b = DtlsTransport::create(config);
  ASSERT_TRUE(a && b);
  (*a)->set_remote_fingerprints(b_cert->get_fingerprints(), Timestamp::seconds(1));
  (*b)->set_remote_fingerprints(a_cert->get_fingerprints(), Timestamp::seconds(1));
  Pair p(std::move(*a), std::move(*b), 21);
  p.a().start(DtlsRole::kClient, p.now());
  p.b().start(DtlsRole::kServer, p.now());
  ASSERT_TRUE(p.run([&] { return both_connected(p); }));
  EXPECT_EQ(p.a().cipher_suite(), GetParam());
  EXPECT_EQ(p.b().cipher_suite(), GetParam());

  std::string big(16384, 'x');
  ASSERT_TRUE(p.a().send(as_bytes(big)));
  ASSERT_TRUE(p.b().send(as_bytes(std::string_view("pong"))));
  auto record_to_b = p.a().poll_transmit();
  ASSERT_TRUE(record_to_b);
  p.b().handle_packet(*record_to_b, p.now());
  p.b().handle_packet(*record_to_b, p.now());  // a replay: dropped
  Buffer forged = *record_to_b;
  forged[forged.size() - 1] ^= 1;
  forged[10] ^= 0x55;  // a number not seen yet, and a tag that does not match
  p.b().handle_packet(forged, p.now());
  EXPECT_EQ(p.b().discarded_datagrams(), 1u);
  std::vector<std::string> at_b;
  while (auto e = p.b().poll_event())
    if (auto* d = std::get_if<DtlsData>(&*e)) at_b.emplace_back(as_string(d->data));
  EXPECT_EQ(at_b, std::vector<std::string>{big});
  std::string at_a;
  ASSERT_TRUE(p.run([&] {
    while (auto e = p.a().poll_event())
      if (auto* d = std::get_if<DtlsData>(&*e)) at_a = as_string(d->data);
    return !at_a.empty();
  }));
  EXPECT_EQ(at_a, "pong");
  EXPECT_EQ(p.b().state(), DtlsState::kConnected);

  p.b().close();  // close_notify, sealed by us, opened by the peer
  ASSERT_TRUE(p.run([&] { return p.a().state() == DtlsState::kClosed; }));
}

INSTANTIATE_TEST_SUITE_P(Suites, DtlsSuiteTest,
                         ::testing::Values("ECDHE-ECDSA-AES128-GCM-SHA256",
                                           "ECDHE-ECDSA-AES256-GCM-SHA384",
                                           "ECDHE-ECDSA-CHACHA20-POLY1305"));

TEST(DtlsTransport, ForgedRecordsAreDiscardedAndTheConnectionLives) {
  auto p = connected_pair_setup(7);
  p->a().start(DtlsRole::kClient, p->now());
  p->b().start(DtlsRole::kServer, p->now());
  ASSERT_TRUE(p->run([&] { return both_connected(*p); }));
  // An alert in epoch 1 with a 2-byte body (shorter than AES-GCM's nonce and tag), alone and
  // behind a record whose length runs past the datagram, and a record with another version:
  // OpenSSL took the first two for fatal errors. Anyone can send them: none is authentic.
  const std::vector<std::vector<std::uint8_t>> forged = {
      {0x15, 0xfe, 0xfd, 0x00, 0x01, 0xcd, 0x61, 0xd8, 0xf1, 0x6a, 0xdf, 0x00, 0x02, 0x02, 0x28},
      {0x17, 0xfe, 0xfd, 0x00, 0x01, 0, 0, 0, 0, 0, 9, 0x00, 0x17, 1, 2, 3},
      {0x16, 0x03, 0x03, 0x00, 0x00, 0, 0, 0, 0, 0, 1, 0x00, 0x01, 0x01},
      {0x17, 0xfe, 0xfd, 0x00, 0x01, 0, 0, 0, 0, 0,  9,    0x40, 0x00, 0x15,
       0xfe, 0xfd, 0x00, 0x01, 0,    0, 0, 0, 0, 10, 0x00, 0x02, 0x02, 0x28}};
  for (const auto& d : forged) {
    p->a().handle_packet(BytesView(d.data(), d.size()), p->now());
    p->b().handle_packet(BytesView(d.data(), d.size()), p->now());
  }
  EXPECT_EQ(p->a().state(), DtlsState::kConnected);
  EXPECT_EQ(p->b().state(), DtlsState::kConnected);
  EXPECT_EQ(p->a().discarded_datagrams(), forged.size());
  ASSERT_TRUE(p->a().send(as_bytes("still here")));
  std::string got;
  p->run([&] {
    while (auto e = p->b().poll_event())
      if (auto* d = std::get_if<DtlsData>(&*e)) got = as_string(d->data);
    return !got.empty();
  });
  EXPECT_EQ(got, "still here");
}

// A handshake moved by hand, client `a` and server `b`, keeping every datagram the client sent.
// Returns false if it does not complete.
struct Handshake {
  std::vector<Buffer> from_client;
  std::vector<Buffer> from_server;
};

bool shuttle(DtlsTransport& client, DtlsTransport& server, Timestamp& now, Handshake& seen) {
  for (int round = 0; round < 20; ++round) {
    if (client.state() == DtlsState::kConnected && server.state() == DtlsState::kConnected)
      return true;
    bool moved = false;
    while (auto d = client.poll_transmit()) {
      seen.from_client.push_back(*d);
      server.handle_packet(*d, now);
      moved = true;
    }
    while (auto d = server.poll_transmit()) {
      seen.from_server.push_back(*d);
      client.handle_packet(*d, now);
      moved = true;
    }
    if (!moved) return false;
    now += Duration::millis(5);
  }
  return false;
}

std::vector<std::uint8_t> record(std::uint8_t type, std::uint16_t epoch, std::uint8_t seq,
                                 std::vector<std::uint8_t> body) {
  std::vector<std::uint8_t> r = {type,
                                 0xfe,
                                 0xfd,
                                 static_cast<std::uint8_t>(epoch >> 8),
                                 static_cast<std::uint8_t>(epoch),
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 seq,
                                 static_cast<std::uint8_t>(body.size() >> 8),
                                 static_cast<std::uint8_t>(body.size())};
  r.insert(r.end(), body.begin(), body.end());
  return r;
}

// RFC 6347 4.2.4: the server sends its final flight again only for the client's final flight
// sent again. After the handshake, handshake-type records from the right address that are
// not that (a ClientHello, forged or replayed, a forged Finished or Certificate, a
// change_cipher_spec) make it send nothing: no amplification for whoever can spoof them.
TEST(DtlsTransport, ForgedHandshakeRecordsAfterTheHandshakeGetNoFlight) {
  auto p = connected_pair_setup(8);
  Timestamp now = p->now();
  p->a().start(DtlsRole::kClient, now);
  p->b().start(DtlsRole::kServer, now);
  Handshake seen;
  ASSERT_TRUE(shuttle(p->a(), p->b(), now, seen));
  ASSERT_GE(seen.from_client.size(), 2u);

  std::vector<std::vector<std::uint8_t>> forged;
  // A ClientHello-shaped handshake message in epoch 0 (msg_type 1, message_seq 0).
  std::vector<std::uint8_t> hello = {1, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 40, 0xfe, 0xfd};
  hello.resize(12 + 40, 0x11);
  forged.push_back(record(22, 0, 50, hello));
  // A Finished-shaped record in epoch 1 that does not authenticate (AES-GCM would need the key).
  forged.push_back(record(22, 1, 51, std::vector<std::uint8_t>(40, 0x5a)));
  // A change_cipher_spec in epoch 0, and one followed by the forged Finished in one datagram.
  forged.push_back(record(20, 0, 52, {1}));
  auto both = record(20, 0, 53, {1});
  auto fin = record(22, 1, 54, std::vector<std::uint8_t>(40, 0xa5));
  both.insert(both.end(), fin.begin(), fin.end());
  forged.push_back(both);
  // A Certificate-shaped message in epoch 0 with the client flight's message_seq.
  std::vector<std::uint8_t> cert = {11, 0, 0, 8, 0, 1, 0, 0, 0, 0, 0, 8};
  cert.resize(12 + 8, 0);
  forged.push_back(record(22, 0, 55, cert));
  // The client's first flight (its ClientHello), replayed as it was.
  forged.emplace_back(seen.from_client.front().view().begin(),
                      seen.from_client.front().view().end());

  std::size_t sent = 0;
  for (const auto& d : forged) {
    now += Duration::millis(1);
    p->b().handle_packet(BytesView(d.data(), d.size()), now);
    p->b().handle_timeout(now);
    while (p->b().poll_transmit()) ++sent;
  }
  EXPECT_EQ(sent, 0u);
  EXPECT_EQ(p->b().state(), DtlsState::kConnected);
  // The connection still carries data.
  ASSERT_TRUE(p->a().send(as_bytes("after the forgeries")));
  std::string got;
  while (auto d = p->a().poll_transmit()) p->b().handle_packet(*d, now);
  while (auto e = p->b().poll_event()) {
    if (auto* data = std::get_if<DtlsData>(&*e)) got = as_string(data->data);
  }
  EXPECT_EQ(got, "after the forgeries");

  // The client's final flight replayed as it was cannot be told from the client sending it
  // again (ours repeats a flight byte for byte): answered, but a bounded number of times.
  const Buffer& final_flight = seen.from_client.back();
  for (int i = 0; i < 100; ++i) {
    p->b().handle_packet(final_flight, now);
    while (p->b().poll_transmit()) ++sent;
  }
  EXPECT_GT(sent, 0u);
  EXPECT_LE(sent, 10 * seen.from_server.size());
}

// The legitimate case: the server's final flight is lost, the client sends its final flight
// again on its timer, and the server answers with its final flight once per retransmission.
TEST(DtlsTransport, LostFinalFlightIsSentAgainForTheClientsRetransmission) {
  auto p = connected_pair_setup(9);
  Timestamp now = p->now();
  p->a().start(DtlsRole::kClient, now);
  p->b().start(DtlsRole::kServer, now);
  // Flight 1 to 4: ClientHello, then ServerHello .. ServerHelloDone.
  while (auto d = p->a().poll_transmit()) p->b().handle_packet(*d, now);
  while (auto d = p->b().poll_transmit()) p->a().handle_packet(*d, now);
  // Flight 5 reaches the server, which completes; its flight 6 is lost.
  while (auto d = p->a().poll_transmit()) p->b().handle_packet(*d, now);
  ASSERT_EQ(p->b().state(), DtlsState::kConnected);
  std::size_t lost = 0;
  while (p->b().poll_transmit()) ++lost;
  ASSERT_GT(lost, 0u);
  EXPECT_EQ(p->a().state(), DtlsState::kConnecting);
  // The client's timer: flight 5 again, all of it to the server.
  ASSERT_TRUE(p->a().next_timeout());
  now = *p->a().next_timeout();
  p->a().handle_timeout(now);
  std::size_t again = 0;
  while (auto d = p->a().poll_transmit()) {
    ++again;
    p->b().handle_packet(*d, now);
  }
  ASSERT_GT(again, 0u);
  std::size_t answered = 0;
  while (auto d = p->b().poll_transmit()) {
    ++answered;
    p->a().handle_packet(*d, now);
  }
  EXPECT_GT(answered, 0u);
  EXPECT_LE(answered, lost);
  EXPECT_EQ(p->a().state(), DtlsState::kConnected);
}

std::vector<Buffer> drain(DtlsTransport& t) {
  std::vector<Buffer> out;
  while (auto d = t.poll_transmit()) out.push_back(std::move(*d));
  return out;
}

TEST(DtlsTransport, ServerSendsItsFlightAgainWhenTheClientHelloComesAgain) {
  // RFC 6347 4.2.4: a retransmission of the flight we answered means ours was lost; it goes
  // again at once, not at our own timer (100 ms here).
  auto p = connected_pair_setup(10);
  const Timestamp start = p->now();
  p->a().start(DtlsRole::kClient, start);
  p->b().start(DtlsRole::kServer, start);
  const auto client_hello = drain(p->a());
  ASSERT_FALSE(client_hello.empty());
  for (const auto& d : client_hello) p->b().handle_packet(d, start);
  const auto server_flight = drain(p->b());  // lost
  ASSERT_FALSE(server_flight.empty());
  ASSERT_EQ(p->b().next_timeout(), start + Duration::millis(100));
  // The ClientHello again (as the client's timer would send it), before the server's timer.
  const Timestamp again = start + Duration::millis(60);
  for (const auto& d : client_hello) p->b().handle_packet(d, again);
  const auto resent = drain(p->b());
  ASSERT_EQ(resent.size(), server_flight.size());
  for (std::size_t i = 0; i < resent.size(); ++i)
    EXPECT_EQ(resent[i].size(), server_flight[i].size());
  // A copy right behind it (a flight in several datagrams, a network duplicate) draws none.
  for (const auto& d : client_hello) p->b().handle_packet(d, again + Duration::millis(5));
  EXPECT_TRUE(drain(p->b()).empty());
  // The client answers the server's flight with its next one; a copy of the server's flight
  // 10 ms later is not taken for a retransmission of it.
  for (const auto& d : resent) p->a().handle_packet(d, again);
  const auto client_flight = drain(p->a());
  ASSERT_FALSE(client_flight.empty());
  for (const auto& d : resent) p->a().handle_packet(d, again + Duration::millis(10));
  EXPECT_TRUE(drain(p->a()).empty());
  for (const auto& d : client_flight) p->b().handle_packet(d, again);
  ASSERT_TRUE(p->run([&] { return both_connected(*p); }));
}

TEST(DtlsTransport, ClientSendsItsFinalFlightAgainWhenServerDataComesFirst) {
  // The server completed and sent data, but its final flight was lost: the data shows the
  // client that its own flight arrived and the server's did not, so the client's final
  // flight goes again at once and draws the server's once more.
  auto p = connected_pair_setup(11);
  const Timestamp start = p->now();
  p->a().start(DtlsRole::kClient, start);
  p->b().start(DtlsRole::kServer, start);
  for (const auto& d : drain(p->a())) p->b().handle_packet(d, start);
  for (const auto& d : drain(p->b())) p->a().handle_packet(d, start);
  for (const auto& d : drain(p->a())) p->b().handle_packet(d, start);
  ASSERT_EQ(p->b().state(), DtlsState::kConnected);
  ASSERT_FALSE(drain(p->b()).empty());  // the final flight, lost
  ASSERT_TRUE(p->b().send(as_bytes(std::string_view("hello"))));
  const auto data = drain(p->b());
  ASSERT_EQ(data.size(), 1u);
  const Timestamp later = start + Duration::millis(60);  // before the client's 100 ms timer
  p->a().handle_packet(data[0], later);
  const auto resent = drain(p->a());
  ASSERT_FALSE(resent.empty());
  for (const auto& d : resent) p->b().handle_packet(d, later);
  for (const auto& d : drain(p->b())) p->a().handle_packet(d, later);
  EXPECT_EQ(p->a().state(), DtlsState::kConnected);
}

// The sequence number of a datagram's first record.
std::uint64_t record_sequence(const Buffer& datagram) {
  std::optional<std::uint64_t> first;
  for_each_record(datagram.view(), [&](const RecordView& r) {
    if (!first) first = r.sequence;
  });
  return first.value_or(0);
}

TEST(DtlsTransport, EachCopyOfAFlightCarriesNewRecordSequenceNumbers) {
  // RFC 6347 4.1.2.6: a peer drops a record whose sequence number it saw. A copy of a flight
  // must not look like a replay of the first, or a peer that got the first never answers it.
  auto p = connected_pair_setup(13);
  const Timestamp start = p->now();
  p->a().start(DtlsRole::kClient, start);
  const auto first = drain(p->a());
  ASSERT_EQ(first.size(), 1u);
  p->a().handle_timeout(start + Duration::millis(100));
  const auto second = drain(p->a());
  ASSERT_EQ(second.size(), 1u);
  ASSERT_EQ(first[0].size(), second[0].size());
  EXPECT_GT(record_sequence(second[0]), record_sequence(first[0]));
  // Everything else is the same bytes: the ClientHello itself is repeated, not remade.
  for (std::size_t i = 0; i < first[0].size(); ++i) {
    if (i >= 5 && i < 11) continue;
    EXPECT_EQ(first[0][i], second[0][i]) << "byte " << i;
  }
}

// The epoch-1 records of a datagram: (sequence number, record bytes).
std::vector<std::pair<std::uint64_t, Buffer>> protected_records(const Buffer& datagram) {
  std::vector<std::pair<std::uint64_t, Buffer>> out;
  for_each_record(datagram.view(), [&](const RecordView& r) {
    if (r.epoch == 1) out.emplace_back(r.sequence, Buffer(r.record));
  });
  return out;
}

TEST(DtlsTransport, EachCopyOfTheFinalFlightCarriesANewFinishedRecord) {
  // BoringSSL (Chromium) sends its final flight again only for a client Finished it has not
  // seen: each copy of ours must be a new epoch-1 record, not the first one repeated.
  auto p = connected_pair_setup(14);
  const Timestamp start = p->now();
  p->a().start(DtlsRole::kClient, start);
  p->b().start(DtlsRole::kServer, start);
  for (const auto& d : drain(p->a())) p->b().handle_packet(d, start);
  for (const auto& d : drain(p->b())) p->a().handle_packet(d, start);
  std::vector<std::vector<std::pair<std::uint64_t, Buffer>>> copies;
  Timestamp now = start;
  for (int i = 0; i < 3; ++i) {
    std::vector<std::pair<std::uint64_t, Buffer>> finished;
    for (const auto& d : drain(p->a()))
      for (auto& r : protected_records(d)) finished.push_back(std::move(r));
    ASSERT_EQ(finished.size(), 1u) << "copy " << i;
    copies.push_back(std::move(finished));
    ASSERT_TRUE(p->a().next_timeout());
    now = *p->a().next_timeout();
    p->a().handle_timeout(now);  // the copies before the last are lost
  }
  EXPECT_LT(copies[0][0].first, copies[1][0].first);
  EXPECT_LT(copies[1][0].first, copies[2][0].first);
  EXPECT_NE(copies[0][0].second, copies[1][0].second);
  // The last copy, alone, completes the handshake: OpenSSL reads our Finished record.
  for (const auto& d : drain(p->a())) p->b().handle_packet(d, now);
  EXPECT_EQ(p->b().state(), DtlsState::kConnected);
  for (const auto& d : drain(p->b())) p->a().handle_packet(d, now);
  EXPECT_EQ(p->a().state(), DtlsState::kConnected);
}

TEST(DtlsTransport, RetransmitNowSendsTheFlightAndRestartsTheTimer) {
  auto p = connected_pair_setup(12);
  const Timestamp start = p->now();
  p->a().start(DtlsRole::kClient, start);
  const auto first = drain(p->a());
  ASSERT_FALSE(first.empty());
  // Let the timer back off twice (100 ms, then 200 ms).
  p->a().handle_timeout(start + Duration::millis(100));
  p->a().handle_timeout(start + Duration::millis(300));
  EXPECT_EQ(drain(p->a()).size(), 2 * first.size());
  ASSERT_EQ(p->a().next_timeout(), start + Duration::millis(700));
  const Timestamp now = start + Duration::millis(350);
  p->a().retransmit_now(now);
  const auto again = drain(p->a());
  ASSERT_EQ(again.size(), first.size());
  EXPECT_EQ(again[0].size(), first[0].size());
  EXPECT_EQ(p->a().next_timeout(), now + Duration::millis(100));
  // Nothing to send before the handshake started or after it completed.
  auto idle = make(ecdsa_certificate());
  idle->retransmit_now(now);
  EXPECT_FALSE(idle->poll_transmit());
}

TEST(DtlsTransport, GarbageInputNeverCrashes) {
  auto p = connected_pair_setup(6);
  p->b().start(DtlsRole::kServer, p->now());
  SeededRandom rng(99);
  for (int i = 0; i < 200; ++i) {
    Buffer junk(static_cast<std::size_t>(rng.uniform(300) + 1));
    rng.fill(junk.mutable_view());
    junk[0] = static_cast<std::uint8_t>(20 + rng.uniform(44));
    p->b().handle_packet(junk, p->now());
  }
  // Still able to complete a real handshake afterwards, or failed cleanly.
  p->a().start(DtlsRole::kClient, p->now());
  p->run([&] { return both_connected(*p) || p->b().state() == DtlsState::kFailed; });
  EXPECT_TRUE(both_connected(*p) || p->b().state() == DtlsState::kFailed);
}

}  // namespace
}  // namespace rtcpp::dtls
