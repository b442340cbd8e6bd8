// RTCPeerConnection and RTCDataChannel through the public API only: two connections in one
// process over real loopback UDP, plus the W3C errors for calls in the wrong state.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/eventually.hpp"
#include "common/signaling.hpp"
#include "rtcpp/rtcpp.hpp"

namespace rtcpp {
namespace {

using namespace std::chrono_literals;

RTCConfiguration loopback_config() {
  RTCConfiguration config;
  config.gather_loopback = true;
  return config;
}

std::shared_ptr<RTCPeerConnection> make_pc(RTCConfiguration config = loopback_config()) {
  auto pc = RTCPeerConnection::create(std::move(config));
  EXPECT_TRUE(pc) << pc.error().to_string();
  return *pc;
}

// Waits (bounded) until pred holds.
using rtcpp::test_support::eventually;

using test_support::Signaling;

// Collects what one channel sees.
struct ChannelLog {
  std::mutex mutex;
  std::vector<RTCMessageEvent> messages;
  std::atomic<bool> opened{false};
  std::atomic<bool> closed{false};
  std::atomic<int> low_events{0};

  void attach(const std::shared_ptr<RTCDataChannel>& channel) {
    channel->on_open([this] { opened = true; });
    channel->on_message([this](const RTCMessageEvent& m) {
      std::lock_guard lock(mutex);
      messages.push_back(m);
    });
    channel->on_close([this] { closed = true; });
    channel->on_buffered_amount_low([this] { ++low_events; });
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
};

TEST(RTCPeerConnection, TwoConnectionsOpenAChannelAndExchangeMessages) {
  auto a = make_pc();
  auto b = make_pc();
  std::atomic<int> negotiation_needed{0};
  a->on_negotiation_needed([&] { ++negotiation_needed; });
  auto channel = a->create_data_channel("chat", {});
  ASSERT_TRUE(channel);
  EXPECT_EQ((*channel)->ready_state(), RTCDataChannelState::kConnecting);
  EXPECT_FALSE((*channel)->id().has_value());  // W3C: null until the DTLS role is known
  EXPECT_EQ((*channel)->send("too early").error().type(), RTCErrorType::kInvalidStateError);
  // The state is checked first (W3C 6.2.5), also for text that is not UTF-8.
  EXPECT_EQ((*channel)->send("\xFF").error().type(), RTCErrorType::kInvalidStateError);
  ASSERT_TRUE(eventually([&] { return negotiation_needed == 1; }));

  ChannelLog a_log;
  a_log.attach(*channel);
  std::mutex remote_mutex;
  std::shared_ptr<RTCDataChannel> remote;
  ChannelLog b_log;
  b->on_data_channel([&](std::shared_ptr<RTCDataChannel> c) {
    b_log.attach(c);
    c->on_message([&b_log, c](const RTCMessageEvent& m) {
      {
        std::lock_guard lock(b_log.mutex);
        b_log.messages.push_back(m);
      }
      // Echo from inside the handler: the blocking form completes at once on the loop.
      auto sent = m.binary ? c->send(std::span<const std::uint8_t>(m.data)) : c->send(m.text());
      EXPECT_TRUE(sent) << sent.error().to_string();
    });
    std::lock_guard lock(remote_mutex);
    remote = c;
  });

  Signaling signaling(a, b);
  signaling.negotiate();
  EXPECT_EQ(a->signaling_state(), RTCSignalingState::kStable);
  EXPECT_EQ(b->signaling_state(), RTCSignalingState::kStable);
  ASSERT_TRUE(eventually([&] { return a_log.opened.load(); }));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(remote_mutex);
    return remote != nullptr && b_log.opened.load();
  }));
  EXPECT_EQ(a->connection_state(), RTCPeerConnectionState::kConnected);
  EXPECT_EQ(b->connection_state(), RTCPeerConnectionState::kConnected);
  EXPECT_EQ(remote->label(), "chat");
  // a offered actpass and b answered active: b is the DTLS client and takes even ids, so a's
  // channel has an odd one (RFC 8832 6).
  ASSERT_TRUE((*channel)->id().has_value());
  EXPECT_EQ(*(*channel)->id() % 2, 1);
  EXPECT_EQ(remote->id(), (*channel)->id());

  const std::string text = "h\xC3\xA9llo \xF0\x9F\x8C\x8D";  // multi-byte UTF-8
  ASSERT_TRUE((*channel)->send(text));
  std::vector<std::uint8_t> binary(100000);
  for (std::size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<std::uint8_t>(i * 7);
  ASSERT_TRUE((*channel)->send(std::span<const std::uint8_t>(binary)));
  ASSERT_TRUE((*channel)->send(""));
  ASSERT_TRUE(eventually([&] { return a_log.count() == 3; }));
  {
    std::lock_guard lock(a_log.mutex);
    EXPECT_FALSE(a_log.messages[0].binary);
    EXPECT_EQ(a_log.messages[0].text(), text);
    EXPECT_TRUE(a_log.messages[1].binary);
    EXPECT_EQ(a_log.messages[1].data, binary);
    EXPECT_FALSE(a_log.messages[2].binary);
    EXPECT_TRUE(a_log.messages[2].data.empty());
  }

  // Larger than the peer's a=max-message-size: TypeError, and nothing is queued.
  ASSERT_TRUE(eventually([&] { return (*channel)->buffered_amount() == 0; }));
  const std::vector<std::uint8_t> oversized(262145);
  EXPECT_EQ((*channel)->send(std::span<const std::uint8_t>(oversized)).error().type(),
            RTCErrorType::kTypeError);
  EXPECT_EQ((*channel)->buffered_amount(), 0u);
  // A text message is UTF-8: anything else is a TypeError, and nothing is queued.
  for (const std::string_view bad :
       {std::string_view("caf\xC3"), std::string_view("\xC0\xAF"), std::string_view("\xED\xA0\x80"),
        std::string_view("\xF4\x90\x80\x80"), std::string_view("a\xFF")}) {
    auto refused = (*channel)->send(bad);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().type(), RTCErrorType::kTypeError);
  }
  EXPECT_EQ((*channel)->buffered_amount(), 0u);
  // The same bytes go as a binary message.
  ASSERT_TRUE((*channel)->send(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>("caf\xC3"), 4)));
  ASSERT_TRUE(eventually([&] { return a_log.count() == 4; }));
  {
    std::lock_guard lock(a_log.mutex);
    EXPECT_TRUE(a_log.messages[3].binary);
    EXPECT_EQ(a_log.messages[3].data.size(), 4u);
  }

  // The descriptions carry the candidates gathered so far.
  auto local = a->local_description();
  ASSERT_TRUE(local);
  EXPECT_NE(local->sdp.find("a=candidate:"), std::string::npos);
  EXPECT_EQ(a->can_trickle_ice_candidates(), true);
  auto sctp = a->sctp();
  ASSERT_TRUE(sctp);
  EXPECT_EQ(sctp->state(), RTCSctpTransportState::kConnected);
  EXPECT_EQ(sctp->transport()->state(), RTCDtlsTransportState::kConnected);
  const auto ice_state = sctp->transport()->ice_transport()->state();
  EXPECT_TRUE(ice_state == RTCIceTransportState::kConnected ||
              ice_state == RTCIceTransportState::kCompleted);
  EXPECT_EQ(sctp->transport()->ice_transport()->role(), RTCIceRole::kControlling);
  EXPECT_EQ(sctp->max_message_size(), 262144.0);
  EXPECT_TRUE(sctp->max_channels().has_value());
  // Two rtcpp ends negotiate I-DATA (RFC 8260); zero checksums (RFC 9653) are not offered
  // unless asked for (see ZeroChecksumsOnlyWhenBothAskForThem).
  EXPECT_TRUE(sctp->message_interleaving());
  EXPECT_FALSE(sctp->zero_checksum());
  EXPECT_EQ(sctp->transport()->get_remote_certificates().size(), 1u);
  const auto pair = sctp->transport()->ice_transport()->get_selected_candidate_pair();
  ASSERT_TRUE(pair.has_value());
  // Both families are gathered; with IPv6 there (loopback at least), RFC 8421 puts the pair
  // on it.
  if (local->sdp.find(" ::1 ") != std::string::npos) {
    EXPECT_NE(pair->local.address.value_or("").find(':'), std::string::npos);
    EXPECT_NE(pair->remote.address.value_or("").find(':'), std::string::npos);
  }
  EXPECT_NE(local->sdp.find(" 127.0.0.1 "), std::string::npos);

  a->close();
  EXPECT_EQ(a->signaling_state(), RTCSignalingState::kClosed);
  EXPECT_EQ(a->connection_state(), RTCPeerConnectionState::kClosed);
  EXPECT_EQ((*channel)->ready_state(), RTCDataChannelState::kClosed);
  // The peer learns through the SCTP ABORT: its channel closes.
  ASSERT_TRUE(eventually([&] { return b_log.closed.load(); }));
  EXPECT_EQ(a->create_offer().get().error().type(), RTCErrorType::kInvalidStateError);
  b->close();
}

std::string ice_ufrag_of(const std::optional<RTCSessionDescriptionInit>& d) {
  if (!d) return {};
  const auto at = d->sdp.find("a=ice-ufrag:");
  if (at == std::string::npos) return {};
  const auto start = at + std::string_view("a=ice-ufrag:").size();
  return d->sdp.substr(start, d->sdp.find_first_of("\r\n", start) - start);
}

TEST(RTCPeerConnection, IceRestartKeepsTheChannelsOpen) {
  auto a = make_pc();
  auto b = make_pc();
  auto channel = a->create_data_channel("during-restart", {});
  ASSERT_TRUE(channel);
  ChannelLog a_log;
  a_log.attach(*channel);
  b->on_data_channel([](std::shared_ptr<RTCDataChannel> c) {
    c->on_message([c](const RTCMessageEvent& m) { (void)c->send(m.text()); });
  });
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] { return a_log.opened.load(); }));
  std::atomic<int> a_pair_changes{0};
  std::atomic<int> b_pair_changes{0};
  a->sctp()->transport()->ice_transport()->on_selected_candidate_pair_change(
      [&] { ++a_pair_changes; });
  b->sctp()->transport()->ice_transport()->on_selected_candidate_pair_change(
      [&] { ++b_pair_changes; });
  std::atomic<int> negotiation_needed{0};
  a->on_negotiation_needed([&] { ++negotiation_needed; });

  // A restarts (restartIce), then B (iceRestart in its offer); messages flow all along.
  int sent = 0;
  std::string b_ufrag_before_last_restart;
  auto send_some = [&] {
    for (int i = 0; i < 20; ++i) ASSERT_TRUE((*channel)->send(std::to_string(sent++)));
  };
  for (int round = 0; round < 2; ++round) {
    const std::string a_ufrag = ice_ufrag_of(a->local_description());
    const std::string b_ufrag = ice_ufrag_of(b->local_description());
    b_ufrag_before_last_restart = b_ufrag;
    send_some();
    if (round == 0) {
      a->restart_ice();
      ASSERT_TRUE(eventually([&] { return negotiation_needed == 1; }));
      signaling.renegotiate();
    } else {
      RTCOfferOptions options;
      options.ice_restart = true;
      signaling.renegotiate(options, /*b_offers=*/true);
    }
    send_some();
    // Both sides have new credentials (the answerer too, JSEP 5.3.1) and select a new pair.
    EXPECT_NE(ice_ufrag_of(a->local_description()), a_ufrag);
    EXPECT_NE(ice_ufrag_of(b->local_description()), b_ufrag);
    ASSERT_TRUE(
        eventually([&] { return a_pair_changes == round + 1 && b_pair_changes == round + 1; }));
    EXPECT_EQ(a->connection_state(), RTCPeerConnectionState::kConnected);
    ASSERT_TRUE(
        eventually([&] { return a->ice_gathering_state() == RTCIceGatheringState::kComplete; }));
    send_some();
  }
  ASSERT_TRUE(eventually([&] { return a_log.count() == static_cast<std::size_t>(sent); }));
  {
    std::lock_guard lock(a_log.mutex);
    for (int i = 0; i < sent; ++i) ASSERT_EQ(a_log.messages[i].text(), std::to_string(i));
  }
  EXPECT_EQ(negotiation_needed, 1);
  EXPECT_EQ(a->connection_state(), RTCPeerConnectionState::kConnected);
  EXPECT_EQ(b->connection_state(), RTCPeerConnectionState::kConnected);
  // A candidate of the generation before the restart is ignored, one of no generation refused.
  auto stale = RTCIceCandidateInit{"candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host", "0", 0,
                                   std::string("zzzzzzzz")};
  EXPECT_EQ(a->add_ice_candidate(stale).get().error().type(), RTCErrorType::kOperationError);
  stale.username_fragment = b_ufrag_before_last_restart;
  EXPECT_TRUE(a->add_ice_candidate(stale).get());
  a->close();
  b->close();
}

TEST(RTCPeerConnection, CandidatePoolIsGatheredAheadAndSurfacedWithTheDescription) {
  auto config = loopback_config();
  config.ice_candidate_pool_size = 1;
  auto a = make_pc(config);
  auto b = make_pc(config);
  std::atomic<int> a_candidates{0};
  std::atomic<bool> a_gathering_done{false};
  a->on_ice_candidate([&](const RTCPeerConnectionIceEvent& e) {
    if (e.candidate) {
      ++a_candidates;
    } else {
      a_gathering_done = true;
    }
  });
  // The pool fills without events: gathering is surfaced by setLocalDescription (W3C 4.4.1.6).
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(a_candidates, 0);
  EXPECT_EQ(a->ice_gathering_state(), RTCIceGatheringState::kNew);
  auto channel = a->create_data_channel("pooled", {});
  ASSERT_TRUE(channel);
  ChannelLog log;
  log.attach(*channel);
  auto offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(a->set_local_description(*offer).get());
  // The pooled candidates and the end of gathering come at once.
  ASSERT_TRUE(eventually([&] { return a_gathering_done.load(); }, 1s));
  EXPECT_GT(a_candidates, 0);
  EXPECT_EQ(a->ice_gathering_state(), RTCIceGatheringState::kComplete);
  a->on_ice_candidate(nullptr);
  // b pooled as well, and becomes the controlled side when a's offer arrives.
  ASSERT_TRUE(b->set_remote_description(*a->local_description()).get());
  auto answer = b->create_answer().get();
  ASSERT_TRUE(answer);
  ASSERT_TRUE(b->set_local_description(*answer).get());
  ASSERT_TRUE(
      eventually([&] { return b->ice_gathering_state() == RTCIceGatheringState::kComplete; }, 1s));
  ASSERT_TRUE(a->set_remote_description(*b->local_description()).get());
  ASSERT_TRUE(eventually([&] { return log.opened.load(); }));
  EXPECT_EQ(a->sctp()->transport()->ice_transport()->role(), RTCIceRole::kControlling);
  EXPECT_EQ(b->sctp()->transport()->ice_transport()->role(), RTCIceRole::kControlled);
  // The pool size is fixed once a local description exists.
  auto changed = a->get_configuration();
  changed.ice_candidate_pool_size = 2;
  EXPECT_EQ(a->set_configuration(changed).error().type(), RTCErrorType::kInvalidModificationError);
  a->close();
  b->close();
}

TEST(RTCPeerConnection, NegotiatedChannelsAndBufferedAmountLow) {
  auto a = make_pc();
  auto b = make_pc();
  RTCDataChannelInit init;
  init.negotiated = true;
  init.id = 7;
  auto ca = a->create_data_channel("pre", init);
  auto cb = b->create_data_channel("pre", init);
  ASSERT_TRUE(ca && cb);
  EXPECT_EQ((*ca)->id(), std::optional<std::uint16_t>(7));
  ChannelLog la;
  ChannelLog lb;
  la.attach(*ca);
  lb.attach(*cb);
  (*ca)->set_buffered_amount_low_threshold(64 * 1024);
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] { return la.opened && lb.opened; }));

  // 8 MiB through a bounded window: bufferedAmount rises, and bufferedamountlow tells when
  // to go on, as a browser application writes it.
  const std::vector<std::uint8_t> chunk(64 * 1024, 0x5a);
  for (int i = 0; i < 128; ++i) {
    ASSERT_TRUE(eventually([&] { return (*ca)->buffered_amount() < 1024 * 1024; }));
    ASSERT_TRUE((*ca)->send(std::span<const std::uint8_t>(chunk)));
  }
  ASSERT_TRUE(eventually([&] { return lb.count() == 128; }, 30s));
  EXPECT_GE(la.low_events.load(), 1);
  EXPECT_TRUE(eventually([&] { return (*ca)->buffered_amount() == 0; }));

  auto report = a->get_stats().get();
  const RTCStats* transport = report.get("T01");
  ASSERT_NE(transport, nullptr);
  EXPECT_EQ(transport->get<std::string>("dtlsState"), "connected");
  EXPECT_GT(transport->get<std::uint64_t>("bytesSent").value_or(0), 8u * 1024 * 1024);
  ASSERT_TRUE(transport->get<std::string>("selectedCandidatePairId"));
  EXPECT_NE(report.get(*transport->get<std::string>("selectedCandidatePairId")), nullptr);
  bool saw_channel = false;
  for (const auto& [id, s] : report) {
    if (s.type != "data-channel") continue;
    saw_channel = true;
    EXPECT_EQ(s.get<std::uint64_t>("messagesSent"), 128u);
    EXPECT_EQ(s.get<std::string>("label"), "pre");
  }
  EXPECT_TRUE(saw_channel);
  const std::string json = report.to_json();
  EXPECT_EQ(json.front(), '{');
  EXPECT_NE(json.find("\"type\":\"candidate-pair\""), std::string::npos);
  EXPECT_NE(json.find("\"type\":\"certificate\""), std::string::npos);
  a->close();
  b->close();
}

TEST(RTCPeerConnection, SctpExtensionsCanBeTurnedOff) {
  auto a = make_pc();
  RTCConfiguration plain = loopback_config();
  plain.sctp_interleaving = false;
  plain.sctp_zero_checksum = false;
  auto b = make_pc(plain);
  RTCDataChannelInit init;
  init.negotiated = true;
  init.id = 3;
  auto ca = a->create_data_channel("plain", init);
  auto cb = b->create_data_channel("plain", init);
  ASSERT_TRUE(ca && cb);
  ChannelLog la;
  ChannelLog lb;
  la.attach(*ca);
  lb.attach(*cb);
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] { return la.opened && lb.opened; }));
  ASSERT_TRUE((*ca)->send(std::span<const std::uint8_t>(std::vector<std::uint8_t>(300000 / 2))));
  ASSERT_TRUE(eventually([&] { return lb.count() == 1; }));
  // Neither extension is used when one side does not offer it: DATA chunks and CRC32c.
  for (const auto& pc : {a, b}) {
    auto sctp = pc->sctp();
    ASSERT_TRUE(sctp);
    EXPECT_FALSE(sctp->message_interleaving());
    EXPECT_FALSE(sctp->zero_checksum());
  }
  // The transport exists now: the SCTP options cannot change any more.
  auto changed = b->get_configuration();
  changed.sctp_zero_checksum = true;
  EXPECT_EQ(b->set_configuration(changed).error().type(), RTCErrorType::kInvalidModificationError);
  changed = b->get_configuration();
  changed.turn_dual_stack = true;
  EXPECT_EQ(b->set_configuration(changed).error().type(), RTCErrorType::kInvalidModificationError);
  a->close();
  b->close();
}

// RFC 9653 zero checksums are off by default (some stacks ignore an INIT that offers them)
// and used when both ends turn them on.
TEST(RTCPeerConnection, ZeroChecksumsOnlyWhenBothAskForThem) {
  EXPECT_FALSE(RTCConfiguration{}.sctp_zero_checksum);
  EXPECT_TRUE(RTCConfiguration{}.sctp_interleaving);
  RTCConfiguration zero = loopback_config();
  zero.sctp_zero_checksum = true;
  for (const bool b_asks : {true, false}) {
    auto a = make_pc(zero);
    auto b = make_pc(b_asks ? zero : loopback_config());
    RTCDataChannelInit init;
    init.negotiated = true;
    init.id = 1;
    auto ca = a->create_data_channel("zero", init);
    auto cb = b->create_data_channel("zero", init);
    ASSERT_TRUE(ca && cb);
    ChannelLog la;
    ChannelLog lb;
    la.attach(*ca);
    lb.attach(*cb);
    Signaling signaling(a, b);
    signaling.negotiate();
    ASSERT_TRUE(eventually([&] { return la.opened && lb.opened; }));
    ASSERT_TRUE((*ca)->send("checked by DTLS alone"));
    ASSERT_TRUE(eventually([&] { return lb.count() == 1; }));
    for (const auto& pc : {a, b}) {
      auto sctp = pc->sctp();
      ASSERT_TRUE(sctp);
      EXPECT_EQ(sctp->zero_checksum(), b_asks);
      EXPECT_TRUE(sctp->message_interleaving());
    }
    a->close();
    b->close();
  }
}

TEST(RTCPeerConnection, CloseDeliversEverythingSentBeforeIt) {
  auto a = make_pc();
  auto b = make_pc();
  RTCDataChannelInit partial;
  partial.max_retransmits = 0;
  partial.ordered = false;
  auto unreliable = a->create_data_channel("unreliable", partial);
  auto channel = a->create_data_channel("file", {});
  ASSERT_TRUE(channel && unreliable);
  ChannelLog a_log;
  a_log.attach(*channel);
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<ChannelLog>> b_logs;
  std::map<std::string, std::shared_ptr<RTCDataChannel>> b_channels;
  std::atomic<int> closing_events{0};
  b->on_data_channel([&](std::shared_ptr<RTCDataChannel> c) {
    auto log = std::make_shared<ChannelLog>();
    log->attach(c);
    c->on_closing([&] { ++closing_events; });
    std::lock_guard lock(mutex);
    b_logs[c->label()] = log;
    b_channels[c->label()] = c;
  });
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] { return a_log.opened.load(); }));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return b_logs.size() == 2;
  }));
  {
    std::lock_guard lock(mutex);
    // The remote side sees the partial reliability the opener asked for (DCEP).
    EXPECT_EQ(b_channels["unreliable"]->max_retransmits(), std::optional<std::uint16_t>(0));
    EXPECT_FALSE(b_channels["unreliable"]->ordered());
  }
  for (int i = 0; i < 50; ++i) ASSERT_TRUE((*unreliable)->send("u" + std::to_string(i)));

  // 200 messages and close() at once: all 200 arrive before the close (RFC 8831 6.7).
  const std::vector<std::uint8_t> chunk(16 * 1024, 0x42);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE((*channel)->send(std::span<const std::uint8_t>(chunk)));
  (*channel)->close();
  // Closing until the peer has everything and reset its side (which may already be done by
  // the time the loop answers this query).
  const auto state_after_close = (*channel)->ready_state();
  EXPECT_TRUE(state_after_close == RTCDataChannelState::kClosing ||
              state_after_close == RTCDataChannelState::kClosed);
  EXPECT_EQ((*channel)->send("late").error().type(), RTCErrorType::kInvalidStateError);
  ASSERT_TRUE(eventually([&] { return a_log.closed.load(); }));
  std::shared_ptr<ChannelLog> remote;
  {
    std::lock_guard lock(mutex);
    remote = b_logs["file"];
  }
  ASSERT_TRUE(eventually([&] { return remote->closed.load(); }));
  EXPECT_EQ(remote->count(), 200u);
  EXPECT_EQ(closing_events.load(), 1);  // the side that did not call close() hears closing
  EXPECT_EQ((*channel)->ready_state(), RTCDataChannelState::kClosed);
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(b_channels["file"]->ready_state(), RTCDataChannelState::kClosed);
    EXPECT_EQ(b_logs["unreliable"]->count(), 50u);  // loopback loses nothing
  }
  // The connection and the other channel carry on.
  EXPECT_EQ((*unreliable)->ready_state(), RTCDataChannelState::kOpen);
  EXPECT_EQ(a->connection_state(), RTCPeerConnectionState::kConnected);
  a->close();
  b->close();
}

// W3C 4.3.3: connectionState follows the ICE and DTLS transports. When the peer closes, our
// DTLS transport is closed (close_notify) while ICE is still connected: that is "connected",
// not "connecting" or "new"; "closed" belongs to our own close().
TEST(RTCPeerConnection, PeerClosingLeavesTheStateConnected) {
  auto a = make_pc();
  auto b = make_pc();
  std::mutex mutex;
  std::vector<std::string> states;
  std::vector<std::string> ice_states;
  b->on_connection_state_change([&] {
    const auto state = b->connection_state();  // on the loop: completes at once
    std::lock_guard lock(mutex);
    states.emplace_back(to_string(state));
  });
  b->on_ice_connection_state_change([&] {
    const auto state = b->ice_connection_state();
    std::lock_guard lock(mutex);
    ice_states.emplace_back(to_string(state));
  });
  auto channel = a->create_data_channel("bye", {});
  ASSERT_TRUE(channel);
  ChannelLog a_log;
  a_log.attach(*channel);
  ChannelLog b_log;
  b->on_data_channel([&](std::shared_ptr<RTCDataChannel> c) { b_log.attach(c); });
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] { return a_log.opened && b_log.opened; }));
  ASSERT_TRUE(
      eventually([&] { return b->connection_state() == RTCPeerConnectionState::kConnected; }));
  auto sctp = b->sctp();
  ASSERT_TRUE(sctp);
  auto dtls = sctp->transport();
  std::atomic<bool> dtls_closed{false};
  dtls->on_state_change([&] {
    if (dtls->state() == RTCDtlsTransportState::kClosed) dtls_closed = true;
  });

  a->close();
  ASSERT_TRUE(eventually([&] { return b_log.closed.load(); }));  // the SCTP ABORT
  ASSERT_TRUE(eventually([&] { return dtls_closed.load(); }));   // the close_notify
  // Tasks run in order: whatever state change the close caused has been delivered by now.
  (void)b->get_stats().get();
  EXPECT_EQ(b->connection_state(), RTCPeerConnectionState::kConnected);
  const auto ice = b->ice_connection_state();
  EXPECT_TRUE(ice == RTCIceConnectionState::kConnected || ice == RTCIceConnectionState::kCompleted)
      << to_string(ice);
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(states, (std::vector<std::string>{"connecting", "connected"}));
    for (const auto& s : ice_states) EXPECT_NE(s, "closed");
  }
  b->close();
  EXPECT_EQ(b->connection_state(), RTCPeerConnectionState::kClosed);
  EXPECT_EQ(b->ice_connection_state(), RTCIceConnectionState::kClosed);
}

TEST(RTCPeerConnection, WrongStateCallsAreW3cErrors) {
  auto pc = make_pc();
  EXPECT_EQ(pc->signaling_state(), RTCSignalingState::kStable);
  EXPECT_EQ(pc->create_answer().get().error().type(), RTCErrorType::kInvalidStateError);
  EXPECT_EQ(pc->set_remote_description({RTCSdpType::kAnswer, "v=0\r\n"}).get().error().type(),
            RTCErrorType::kInvalidStateError);
  EXPECT_EQ(pc->set_local_description(RTCSessionDescriptionInit{RTCSdpType::kRollback, ""})
                .get()
                .error()
                .type(),
            RTCErrorType::kInvalidStateError);
  EXPECT_EQ(pc->add_ice_candidate({"candidate:1 1 udp 1 127.0.0.1 9 typ host", "0", 0, {}})
                .get()
                .error()
                .type(),
            RTCErrorType::kInvalidStateError);

  auto offer = pc->create_offer().get();
  ASSERT_TRUE(offer);
  auto edited = *offer;
  edited.sdp += "a=x-edited\r\n";
  EXPECT_EQ(pc->set_local_description(edited).get().error().type(),
            RTCErrorType::kInvalidModificationError);
  EXPECT_EQ(pc->signaling_state(), RTCSignalingState::kStable);
  ASSERT_TRUE(pc->set_local_description(*offer).get());
  EXPECT_EQ(pc->signaling_state(), RTCSignalingState::kHaveLocalOffer);
  EXPECT_TRUE(pc->pending_local_description().has_value());
  EXPECT_FALSE(pc->current_local_description().has_value());
  EXPECT_EQ(pc->create_answer().get().error().type(), RTCErrorType::kInvalidStateError);

  // Rollback returns to stable and forgets the offer.
  ASSERT_TRUE(
      pc->set_local_description(RTCSessionDescriptionInit{RTCSdpType::kRollback, ""}).get());
  EXPECT_EQ(pc->signaling_state(), RTCSignalingState::kStable);
  EXPECT_FALSE(pc->local_description().has_value());

  // A malformed remote description is an sdp-syntax-error and changes nothing.
  auto bad = pc->set_remote_description({RTCSdpType::kOffer, "v=0\r\nthis is not sdp\r\n"}).get();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().error_detail(), RTCErrorDetailType::kSdpSyntaxError);
  EXPECT_EQ(pc->signaling_state(), RTCSignalingState::kStable);
  EXPECT_FALSE(pc->remote_description().has_value());

  // Channel arguments.
  RTCDataChannelInit negotiated_without_id;
  negotiated_without_id.negotiated = true;
  EXPECT_EQ(pc->create_data_channel("x", negotiated_without_id).error().type(),
            RTCErrorType::kTypeError);
  RTCDataChannelInit both;
  both.max_retransmits = 1;
  both.max_packet_life_time = 100;
  EXPECT_EQ(pc->create_data_channel("x", both).error().type(), RTCErrorType::kTypeError);
  EXPECT_EQ(pc->create_data_channel(std::string(70000, 'l'), {}).error().type(),
            RTCErrorType::kTypeError);
  RTCDataChannelInit id_in_use;
  id_in_use.negotiated = true;
  id_in_use.id = 3;
  ASSERT_TRUE(pc->create_data_channel("x", id_in_use));
  EXPECT_EQ(pc->create_data_channel("y", id_in_use).error().type(), RTCErrorType::kOperationError);

  pc->close();
  EXPECT_EQ(pc->create_data_channel("z", {}).error().type(), RTCErrorType::kInvalidStateError);
  EXPECT_EQ(pc->set_remote_description({RTCSdpType::kOffer, "v=0\r\n"}).get().error().type(),
            RTCErrorType::kInvalidStateError);
}

TEST(RTCPeerConnection, AnswersBrowserOffersAndRejectsBadCandidates) {
  for (const char* name : {"chromium-offer-datachannel", "firefox-offer-datachannel",
                           "pion-offer-datachannel", "aiortc-offer-datachannel"}) {
    SCOPED_TRACE(name);
    std::ifstream in(std::string(RTCPP_TEST_DATA_DIR) + "/sdp/" + name + ".sdp", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto pc = make_pc();
    auto applied = pc->set_remote_description({RTCSdpType::kOffer, text.str()}).get();
    ASSERT_TRUE(applied) << applied.error().to_string();
    EXPECT_EQ(pc->signaling_state(), RTCSignalingState::kHaveRemoteOffer);
    auto answer = pc->create_answer().get();
    ASSERT_TRUE(answer) << answer.error().to_string();
    EXPECT_NE(answer->sdp.find("m=application"), std::string::npos);
    EXPECT_NE(answer->sdp.find("a=setup:active"), std::string::npos);
    // Implicit setLocalDescription applies the answer just made.
    ASSERT_TRUE(pc->set_local_description().get());
    EXPECT_EQ(pc->signaling_state(), RTCSignalingState::kStable);
    EXPECT_EQ(pc->current_local_description()->type, RTCSdpType::kAnswer);

    const auto mid = pc->remote_description()->sdp.find("a=mid:");
    ASSERT_NE(mid, std::string::npos);
    EXPECT_EQ(pc->add_ice_candidate({"candidate:garbage", "0", 0, {}}).get().error().type(),
              RTCErrorType::kOperationError);
    EXPECT_EQ(pc->add_ice_candidate({"candidate:1 1 udp 1 127.0.0.1 9 typ host", std::nullopt,
                                     std::nullopt, std::nullopt})
                  .get()
                  .error()
                  .type(),
              RTCErrorType::kTypeError);
    EXPECT_EQ(pc->add_ice_candidate({"candidate:1 1 udp 1 127.0.0.1 9 typ host", "no-such-mid",
                                     std::nullopt, std::nullopt})
                  .get()
                  .error()
                  .type(),
              RTCErrorType::kOperationError);
    EXPECT_TRUE(pc->add_ice_candidate({"", std::nullopt, 0, std::nullopt}).get());
  }
}

// A media-only offer is answered the way an endpoint answers sections it cannot receive:
// every section rejected in place (port 0, its mid kept), so nothing connects, and the
// signaling completes.
TEST(RTCPeerConnection, MediaOnlyOfferIsAnsweredReceivingEverySection) {
  for (const char* name : {"chromium-offer-media.sdp", "firefox-offer-media.sdp",
                           "pion-offer-media.sdp", "aiortc-offer-media.sdp"}) {
    SCOPED_TRACE(name);
    std::ifstream in(std::string(RTCPP_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto pc = make_pc();
    auto applied = pc->set_remote_description({RTCSdpType::kOffer, text.str()}).get();
    ASSERT_TRUE(applied) << applied.error().to_string();
    EXPECT_EQ(pc->signaling_state(), RTCSignalingState::kHaveRemoteOffer);
    EXPECT_TRUE(pc->add_ice_candidate({"candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host", "0",
                                       0, std::nullopt})
                    .get());
    auto answer = pc->create_answer().get();
    ASSERT_TRUE(answer) << answer.error().to_string();
    const std::string& sdp = answer->sdp;
    // JSEP 5.3.1: each section accepted, recvonly (the transceivers the offer made), bundled,
    // with the codecs rtcpp carries: Opus first for audio, VP8 first for video, then H.264,
    // AV1 and VP9; never the offer's red or ulpfec.
    EXPECT_NE(sdp.find("m=audio 9 "), std::string::npos) << sdp;
    EXPECT_NE(sdp.find("m=video 9 "), std::string::npos) << sdp;
    EXPECT_NE(sdp.find("a=group:BUNDLE "), std::string::npos) << sdp;
    std::size_t sections = 0;
    std::size_t recvonly = 0;
    for (std::size_t at = 0; (at = sdp.find("\r\nm=", at)) != std::string::npos; ++at) ++sections;
    for (std::size_t at = 0; (at = sdp.find("a=recvonly", at)) != std::string::npos; ++at)
      ++recvonly;
    EXPECT_EQ(recvonly, sections) << sdp;
    EXPECT_NE(sdp.find("opus/48000/2"), std::string::npos) << sdp;
    EXPECT_NE(sdp.find("VP8/90000"), std::string::npos) << sdp;
    EXPECT_LT(sdp.find("VP8/90000"), sdp.find("H264/90000")) << sdp;
    EXPECT_EQ(sdp.find("red/90000"), std::string::npos) << sdp;
    EXPECT_EQ(sdp.find("ulpfec"), std::string::npos) << sdp;
    EXPECT_EQ(sdp.find("a=ssrc:"), std::string::npos) << sdp;  // nothing to send
    ASSERT_TRUE(pc->set_local_description(*answer).get());
    EXPECT_EQ(pc->signaling_state(), RTCSignalingState::kStable);
    EXPECT_EQ(pc->sctp(), nullptr);
    pc->close();
  }
}

TEST(RTCPeerConnection, ConfigurationIsValidated) {
  RTCConfiguration bad_url;
  bad_url.ice_servers.push_back({{"http://example.com"}, "", ""});
  EXPECT_EQ(RTCPeerConnection::create(bad_url).error().type(), RTCErrorType::kSyntaxError);
  RTCConfiguration turn_without_credentials;
  turn_without_credentials.ice_servers.push_back({{"turn:127.0.0.1:3478"}, "", ""});
  EXPECT_EQ(RTCPeerConnection::create(turn_without_credentials).error().type(),
            RTCErrorType::kInvalidAccessError);
  RTCConfiguration stun_query;
  stun_query.ice_servers.push_back({{"stun:127.0.0.1?transport=udp"}, "", ""});
  EXPECT_EQ(RTCPeerConnection::create(stun_query).error().type(), RTCErrorType::kSyntaxError);

  RTCConfiguration good;
  good.ice_servers.push_back({{"stun:127.0.0.1:3478", "turn:[::1]:3478?transport=tcp"}, "u", "p"});
  auto pc = RTCPeerConnection::create(good);
  ASSERT_TRUE(pc) << pc.error().to_string();
  auto current = (*pc)->get_configuration();
  EXPECT_EQ(current.ice_servers.size(), 1u);
  EXPECT_EQ(current.certificates.size(), 1u);  // generated
  auto changed = current;
  changed.bundle_policy = RTCBundlePolicy::kMaxCompat;
  EXPECT_EQ((*pc)->set_configuration(changed).error().type(),
            RTCErrorType::kInvalidModificationError);
  auto other_cert = RTCCertificate::generate();
  ASSERT_TRUE(other_cert);
  changed = current;
  changed.certificates = {*other_cert};
  EXPECT_EQ((*pc)->set_configuration(changed).error().type(),
            RTCErrorType::kInvalidModificationError);
  changed = current;
  changed.ice_servers.clear();
  EXPECT_TRUE((*pc)->set_configuration(changed));
  EXPECT_TRUE((*pc)->get_configuration().ice_servers.empty());
}

TEST(RTCPeerConnection, CallbackFormsRunOnTheLoopThread) {
  auto pc = make_pc();
  std::promise<std::thread::id> where;
  pc->create_offer([&](Result<RTCSessionDescriptionInit> offer) {
    EXPECT_TRUE(offer);
    where.set_value(std::this_thread::get_id());
  });
  auto future = where.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  EXPECT_NE(future.get(), std::this_thread::get_id());
}

}  // namespace
}  // namespace rtcpp
