// A peer that loses its SCTP state and connects again (RFC 9260 5.2.2, 5.2.4): the INIT it
// sends to the established association changes nothing by itself; the COOKIE ECHO whose
// tie-tags name the association in use restarts it; replayed or foreign cookies do not.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/random.hpp"
#include "sctp/association.hpp"

namespace rtcpp::sctp {
namespace {

BytesView text(const std::string& s) {
  return BytesView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

std::string as_text(const Buffer& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Packets move between `a` and whichever association plays the peer, without loss, in the
// order they are produced; the clock moves 1 ms per round.
class SctpRestart : public ::testing::Test {
 protected:
  SctpRestart() : a_(config_, rng_), b_(std::make_unique<SctpAssociation>(config_, rng_)) {}

  // Exchanges packets until neither side has any, running the timers due within 300 ms (the
  // delayed SACK) whenever both are quiet; returns what `a` sent.
  std::vector<Buffer> pump(SctpAssociation& peer) {
    std::vector<Buffer> from_a;
    bool moved = true;
    while (moved) {
      moved = false;
      while (auto p = a_.poll_transmit()) {
        from_a.push_back(*p);
        peer.handle_packet(*p, now_);
        moved = true;
      }
      while (auto p = peer.poll_transmit()) {
        a_.handle_packet(*p, now_);
        moved = true;
      }
      now_ += Duration::millis(1);
      if (moved) continue;
      for (SctpAssociation* side : {&a_, &peer}) {
        const auto due = side->next_timeout();
        if (due && *due <= now_ + Duration::millis(300)) {
          now_ = std::max(now_, *due);
          side->handle_timeout(now_);
          moved = true;
        }
      }
    }
    return from_a;
  }

  template <typename Event>
  static std::vector<Event> events_of(SctpAssociation& x) {
    std::vector<Event> found;
    while (auto e = x.poll_event()) {
      if (auto* wanted = std::get_if<Event>(&*e)) found.push_back(std::move(*wanted));
    }
    return found;
  }

  void connect_a_and_b() {
    a_.connect(now_);
    b_->connect(now_);
    pump(*b_);
    ASSERT_EQ(a_.state(), SctpAssociation::State::kEstablished);
    ASSERT_EQ(b_->state(), SctpAssociation::State::kEstablished);
    ASSERT_EQ(events_of<SctpConnected>(a_).size(), 1u);
    ASSERT_EQ(events_of<SctpConnected>(*b_).size(), 1u);
  }

  // `a` and `to` exchange one message each way; returns whether both arrived intact.
  bool exchange(SctpAssociation& peer, const std::string& from_a, const std::string& to_a) {
    if (!a_.send(1, 51, text(from_a)) || !peer.send(1, 51, text(to_a))) return false;
    pump(peer);
    auto at_peer = events_of<SctpMessage>(peer);
    auto at_a = events_of<SctpMessage>(a_);
    return at_peer.size() == 1 && as_text(at_peer[0].data) == from_a && at_a.size() == 1 &&
           as_text(at_a[0].data) == to_a;
  }

  // `peer` connects to `a` (INIT, INIT ACK) and returns its COOKIE ECHO packet, not delivered.
  std::optional<Buffer> cookie_echo_from(SctpAssociation& peer) {
    peer.connect(now_);
    auto init = peer.poll_transmit();
    if (!init) return std::nullopt;
    a_.handle_packet(*init, now_);
    auto init_ack = a_.poll_transmit();
    if (!init_ack) return std::nullopt;
    peer.handle_packet(*init_ack, now_);
    return peer.poll_transmit();
  }

  SeededRandom rng_{11};
  SctpConfig config_;
  SctpAssociation a_;
  std::unique_ptr<SctpAssociation> b_;
  Timestamp now_ = Timestamp::seconds(1);
};

TEST_F(SctpRestart, RestartedPeerConnectsAgainAndStreamsStartOver) {
  connect_a_and_b();
  ASSERT_TRUE(exchange(*b_, "before", "before too"));
  // Two messages `a` sends that the old peer never acknowledges.
  ASSERT_TRUE(a_.send(1, 51, text("lost one")));
  ASSERT_TRUE(a_.send(2, 51, text("lost two")));
  ASSERT_GT(a_.total_buffered(), 0u);

  // The peer loses everything and connects again from the same ports.
  SctpAssociation restarted(config_, rng_);
  restarted.connect(now_);
  const auto from_a = pump(restarted);
  ASSERT_EQ(restarted.state(), SctpAssociation::State::kEstablished);
  EXPECT_EQ(a_.state(), SctpAssociation::State::kEstablished);
  EXPECT_GE(from_a.size(), 2u);  // INIT ACK, COOKIE ACK
  auto restarts = events_of<SctpRestarted>(a_);
  ASSERT_EQ(restarts.size(), 1u);
  EXPECT_EQ(restarts[0].messages_dropped, 2u);
  EXPECT_EQ(a_.total_buffered(), 0u);
  EXPECT_EQ(a_.buffered_amount(1), 0u);
  EXPECT_EQ(events_of<SctpConnected>(restarted).size(), 1u);

  // Both sides start every stream at sequence number 0: ordered messages flow at once.
  ASSERT_TRUE(exchange(restarted, "after", "after too"));
  ASSERT_TRUE(exchange(restarted, "and again", "and again too"));
}

TEST_F(SctpRestart, InitOnTheEstablishedAssociationChangesNothingByItself) {
  connect_a_and_b();
  SctpAssociation restarted(config_, rng_);
  restarted.connect(now_);
  auto init = restarted.poll_transmit();
  ASSERT_TRUE(init.has_value());
  a_.handle_packet(*init, now_);
  auto init_ack = a_.poll_transmit();
  ASSERT_TRUE(init_ack.has_value());  // answered, with a cookie that would prove a restart
  // The COOKIE ECHO never comes: the association in use goes on undisturbed.
  EXPECT_TRUE(events_of<SctpRestarted>(a_).empty());
  ASSERT_TRUE(exchange(*b_, "still", "here"));
  EXPECT_EQ(a_.state(), SctpAssociation::State::kEstablished);
}

TEST_F(SctpRestart, CookieOfAnEarlierRestartIsDiscarded) {
  connect_a_and_b();
  // A first restart, recording the peer's COOKIE ECHO packet.
  SctpAssociation first(config_, rng_);
  auto cookie_echo = cookie_echo_from(first);
  ASSERT_TRUE(cookie_echo.has_value());
  a_.handle_packet(*cookie_echo, now_);
  ASSERT_EQ(events_of<SctpRestarted>(a_).size(), 1u);
  pump(first);
  ASSERT_EQ(first.state(), SctpAssociation::State::kEstablished);
  // A second one.
  SctpAssociation second(config_, rng_);
  second.connect(now_);
  pump(second);
  ASSERT_EQ(second.state(), SctpAssociation::State::kEstablished);
  ASSERT_EQ(events_of<SctpRestarted>(a_).size(), 1u);
  ASSERT_TRUE(exchange(second, "one", "two"));

  // The first COOKIE ECHO again: its tie-tags name an association that is gone.
  a_.handle_packet(*cookie_echo, now_);
  EXPECT_TRUE(events_of<SctpRestarted>(a_).empty());
  ASSERT_TRUE(exchange(second, "three", "four"));
}

TEST_F(SctpRestart, CookieWithAnotherTagThanThePacketIsDiscarded) {
  connect_a_and_b();
  SctpAssociation restarted(config_, rng_);
  auto cookie_echo = cookie_echo_from(restarted);
  ASSERT_TRUE(cookie_echo.has_value());
  // The verification tag (bytes 4-7) no longer is the one the INIT ACK gave; the checksum
  // becomes zero, which this end accepts (RFC 9653), so that only the tag is wrong.
  Buffer forged = *cookie_echo;
  forged[4] ^= 0x5a;
  for (int i = 8; i < 12; ++i) forged[i] = 0;
  a_.handle_packet(forged, now_);
  EXPECT_TRUE(events_of<SctpRestarted>(a_).empty());
  ASSERT_TRUE(exchange(*b_, "not", "restarted"));
}

TEST_F(SctpRestart, NoRestartWhileShuttingDown) {
  connect_a_and_b();
  SctpAssociation restarted(config_, rng_);
  auto cookie_echo = cookie_echo_from(restarted);
  ASSERT_TRUE(cookie_echo.has_value());
  ASSERT_TRUE(a_.send(1, 51, text("pending")));
  a_.shutdown(now_);
  a_.handle_packet(*cookie_echo, now_);
  EXPECT_TRUE(events_of<SctpRestarted>(a_).empty());
  // The shutdown with the old peer completes.
  pump(*b_);
  EXPECT_EQ(a_.state(), SctpAssociation::State::kClosed);
}

}  // namespace
}  // namespace rtcpp::sctp
