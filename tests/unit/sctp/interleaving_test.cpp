// I-DATA and I-FORWARD-TSN (RFC 8260) and zero checksums (RFC 9653) at the wire: one
// association against a peer played by hand, so that every chunk it receives is chosen
// here (including hostile ones) and every packet it sends can be read.
#include <gtest/gtest.h>

#include <functional>

#include "base/byte_reader.hpp"
#include "sctp/association.hpp"

namespace rtcpp::sctp {
namespace {

constexpr std::uint32_t kPeerTag = 0x5eed5eed;
constexpr std::uint32_t kPeerTsn = 1000;

struct PeerOptions {
  std::vector<std::uint8_t> extensions = {chunk_type::kForwardTsn, chunk_type::kReConfig,
                                          chunk_type::kIData, chunk_type::kIForwardTsn};
  std::optional<std::uint32_t> edmid = kEdmidSctpOverDtls;
};

// The association under test, established by a handshake written by hand (INIT with the
// peer's extensions, COOKIE ECHO).
class HandPeer {
 public:
  explicit HandPeer(SctpConfig config = {}, PeerOptions peer = {}) : rng_(41), s_(config, rng_) {
    const Buffer extensions(BytesView(peer.extensions.data(), peer.extensions.size()));
    std::uint8_t edmid[4];
    store_be32(edmid, peer.edmid.value_or(0));
    InitChunk init;
    init.initiate_tag = kPeerTag;
    init.a_rwnd = 1 << 20;
    init.outbound_streams = 16;
    init.inbound_streams = 16;
    init.initial_tsn = kPeerTsn;
    init.parameters.push_back({param_type::kForwardTsnSupported, {}});
    init.parameters.push_back({param_type::kSupportedExtensions, extensions});
    if (peer.edmid) init.parameters.push_back({param_type::kZeroChecksumAcceptable, edmid});
    Buffer packet;
    PacketBuilder b(packet, {5000, 5000, 0}, 1200);
    init.write_to(b, chunk_type::kInit);
    b.finish();
    s_.handle_packet(packet, now_);
    auto ack_packet = s_.poll_transmit();
    if (!ack_packet) return;
    init_ack = *ack_packet;
    auto parsed = parse_packet(init_ack, ChecksumMode::kVerify);  // always with its CRC32c
    if (!parsed) return;
    auto ack = InitChunk::parse(parsed->chunks[0]);
    if (!ack) return;
    tag_ = ack->initiate_tag;
    tsn_ = ack->initial_tsn;
    const Parameter* cookie = ack->find(param_type::kStateCookie);
    if (cookie == nullptr) return;
    const Buffer cookie_copy(cookie->value);
    inject([&](PacketBuilder& pb) { pb.add_chunk(chunk_type::kCookieEcho, 0, cookie_copy); });
    sent.clear();
  }

  SctpAssociation& s() { return s_; }
  bool established() const { return connected_; }
  // The association's own initial TSN (its first DATA chunk carries it).
  std::uint32_t own_tsn() const { return tsn_; }

  // Hands the association one packet, written by `write`, with its tag.
  void inject(const std::function<void(PacketBuilder&)>& write, bool zero_checksum = false,
              std::optional<std::uint32_t> tag = std::nullopt) {
    Buffer packet;
    PacketBuilder b(packet, {5000, 5000, tag.value_or(tag_)}, 1 << 16);
    write(b);
    b.finish(zero_checksum);
    s_.handle_packet(packet, now_);
    collect();
  }
  // One I-DATA chunk from the peer, its TSN `k` after the peer's initial one.
  void idata(std::uint32_t k, std::uint16_t stream, std::uint32_t mid, std::uint32_t ppid_or_fsn,
             bool b, bool e, BytesView payload, bool unordered = false) {
    inject([&](PacketBuilder& pb) {
      IDataChunk{kPeerTsn + k, stream, mid, ppid_or_fsn, b, e, unordered, false, payload}.write_to(
          pb);
    });
  }
  void advance(Duration d) {
    now_ += d;
    s_.handle_timeout(now_);
    collect();
  }
  void collect() {
    while (auto p = s_.poll_transmit()) sent.push_back(std::move(*p));
    while (auto e = s_.poll_event()) {
      if (auto* m = std::get_if<SctpMessage>(&*e)) messages.push_back(std::move(*m));
      if (auto* c = std::get_if<SctpClosed>(&*e)) closed.push_back(*c);
      if (auto* r = std::get_if<SctpStreamsReset>(&*e)) resets.push_back(*r);
      if (std::holds_alternative<SctpConnected>(*e)) connected_ = true;
    }
  }
  // Chunks of one type in what the association sent, oldest first.
  std::vector<ChunkView> chunks(std::uint8_t type) const {
    std::vector<ChunkView> out;
    for (const auto& p : sent) {
      auto parsed = parse_packet(p, ChecksumMode::kAcceptZero);
      if (!parsed) continue;
      for (const auto& c : parsed->chunks)
        if (c.type == type) out.push_back(c);
    }
    return out;
  }
  // The error cause of the ABORT sent, if one was.
  std::optional<std::uint16_t> abort_cause() const {
    for (const auto& c : chunks(chunk_type::kAbort)) {
      auto causes = parse_parameters(c.value);
      if (causes && !causes->empty()) return causes->front().type;
      return 0;
    }
    return std::nullopt;
  }
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& m : messages) out.emplace_back(as_string(m.data));
    return out;
  }

  Buffer init_ack;
  std::vector<Buffer> sent;
  std::vector<SctpMessage> messages;
  std::vector<SctpClosed> closed;
  std::vector<SctpStreamsReset> resets;

 private:
  SeededRandom rng_;
  SctpAssociation s_;
  Timestamp now_ = Timestamp::seconds(5);
  std::uint32_t tag_ = 0;
  std::uint32_t tsn_ = 0;
  bool connected_ = false;
};

BytesView text(const char* s) {
  return as_bytes(std::string_view(s));
}

std::vector<std::uint8_t> listed_extensions(const Buffer& init_packet) {
  auto parsed = parse_packet(init_packet, ChecksumMode::kVerify);
  auto init = InitChunk::parse(parsed->chunks[0]);
  const Parameter* p = init->find(param_type::kSupportedExtensions);
  if (p == nullptr) return {};
  return {p->value.begin(), p->value.end()};
}

TEST(SctpInterleaving, NegotiatedThroughSupportedExtensions) {
  SctpConfig zero;
  zero.zero_checksum = true;  // asked for here, not left to the default
  HandPeer both(zero);
  ASSERT_TRUE(both.established());
  EXPECT_TRUE(both.s().interleaving());
  EXPECT_TRUE(both.s().partial_reliability());
  EXPECT_TRUE(both.s().zero_checksum());
  // Our INIT ACK lists I-DATA and I-FORWARD-TSN, and the DTLS method for zero checksums.
  EXPECT_EQ(listed_extensions(both.init_ack),
            (std::vector<std::uint8_t>{chunk_type::kForwardTsn, chunk_type::kReConfig,
                                       chunk_type::kIData, chunk_type::kIForwardTsn}));
  auto parsed = parse_packet(both.init_ack, ChecksumMode::kVerify);
  auto ack = InitChunk::parse(parsed->chunks[0]);
  ASSERT_NE(ack->find(param_type::kZeroChecksumAcceptable), nullptr);
  EXPECT_EQ(parse_zero_checksum_acceptable(*ack->find(param_type::kZeroChecksumAcceptable)),
            std::optional<std::uint32_t>(kEdmidSctpOverDtls));

  // A peer whose INIT has no Zero Checksum Acceptable parameter gets none in the INIT ACK
  // (pion/sctp 1.8 rejects an INIT ACK with a parameter it does not know).
  HandPeer plain(zero, {{chunk_type::kForwardTsn, chunk_type::kReConfig}, std::nullopt});
  ASSERT_TRUE(plain.established());
  EXPECT_FALSE(plain.s().zero_checksum());
  auto plain_ack = InitChunk::parse(parse_packet(plain.init_ack, ChecksumMode::kVerify)->chunks[0]);
  EXPECT_EQ(plain_ack->find(param_type::kZeroChecksumAcceptable), nullptr);

  // A peer without I-DATA, with another error detection method: DATA and CRC32c.
  HandPeer old({}, {{chunk_type::kForwardTsn, chunk_type::kReConfig}, 2});
  ASSERT_TRUE(old.established());
  EXPECT_FALSE(old.s().interleaving());
  EXPECT_TRUE(old.s().partial_reliability());
  EXPECT_FALSE(old.s().zero_checksum());

  // I-DATA without I-FORWARD-TSN: no partial reliability (FORWARD-TSN cannot follow I-DATA).
  HandPeer no_iforward({}, {{chunk_type::kForwardTsn, chunk_type::kIData}, {}});
  ASSERT_TRUE(no_iforward.established());
  EXPECT_TRUE(no_iforward.s().interleaving());
  EXPECT_FALSE(no_iforward.s().partial_reliability());

  // Switched off here: neither listed nor used, whatever the peer lists.
  SctpConfig off;
  off.interleaving = false;
  off.zero_checksum = false;
  HandPeer local_off(off);
  ASSERT_TRUE(local_off.established());
  EXPECT_FALSE(local_off.s().interleaving());
  EXPECT_FALSE(local_off.s().zero_checksum());
  EXPECT_EQ(listed_extensions(local_off.init_ack),
            (std::vector<std::uint8_t>{chunk_type::kForwardTsn, chunk_type::kReConfig}));
  parsed = parse_packet(local_off.init_ack, ChecksumMode::kVerify);
  EXPECT_EQ(InitChunk::parse(parsed->chunks[0])->find(param_type::kZeroChecksumAcceptable),
            nullptr);
}

TEST(SctpZeroChecksum, SentWhenThePeerAcceptsItAcceptedOnceAnnounced) {
  const std::uint8_t info[4] = {1, 2, 3, 4};
  auto heartbeat = [&](PacketBuilder& b) { b.add_chunk(chunk_type::kHeartbeat, 0, info); };
  HandPeer peer;
  ASSERT_TRUE(peer.established());
  ASSERT_TRUE(peer.s().send(1, 51, text("zero")));
  peer.collect();
  ASSERT_EQ(peer.sent.size(), 1u);
  EXPECT_EQ(load_be32(peer.sent[0].data() + 8), 0u);
  EXPECT_FALSE(parse_packet(peer.sent[0], ChecksumMode::kVerify));
  ASSERT_EQ(peer.chunks(chunk_type::kIData).size(), 1u);
  // Zero and a correct CRC32c are both accepted; anything else is dropped.
  peer.sent.clear();
  peer.inject(heartbeat, true);
  EXPECT_EQ(peer.chunks(chunk_type::kHeartbeatAck).size(), 1u);
  peer.inject(heartbeat, false);
  EXPECT_EQ(peer.chunks(chunk_type::kHeartbeatAck).size(), 2u);
  Buffer wrong;
  PacketBuilder wb(wrong, {5000, 5000, 0}, 1200);
  heartbeat(wb);
  wb.finish();
  store_be32(wrong.data() + 4, load_be32(peer.init_ack.data() + 16));  // our tag (from INIT ACK)
  wrong[8] ^= 0x40;
  peer.s().handle_packet(wrong, Timestamp::seconds(5));
  peer.collect();
  EXPECT_EQ(peer.chunks(chunk_type::kHeartbeatAck).size(), 2u);

  // A peer that does not accept zero gets a CRC32c on everything; we still accept its zero
  // checksums, having announced that we would (RFC 9653 5.3).
  HandPeer crc({}, {PeerOptions{}.extensions, std::nullopt});
  ASSERT_TRUE(crc.established());
  EXPECT_FALSE(crc.s().zero_checksum());
  ASSERT_TRUE(crc.s().send(1, 51, text("crc")));
  crc.collect();
  ASSERT_EQ(crc.sent.size(), 1u);
  EXPECT_TRUE(parse_packet(crc.sent[0], ChecksumMode::kVerify));
  crc.inject(heartbeat, true);
  EXPECT_EQ(crc.chunks(chunk_type::kHeartbeatAck).size(), 1u);
  ASSERT_TRUE(parse_packet(crc.sent.back(), ChecksumMode::kVerify));

  // Switched off: a zero checksum is a wrong one.
  SctpConfig off;
  off.zero_checksum = false;
  HandPeer strict(off);
  ASSERT_TRUE(strict.established());
  strict.inject(heartbeat, true);
  EXPECT_TRUE(strict.chunks(chunk_type::kHeartbeatAck).empty());
  strict.inject(heartbeat, false);
  EXPECT_EQ(strict.chunks(chunk_type::kHeartbeatAck).size(), 1u);
}

TEST(SctpZeroChecksum, AnInitNeedsItsCrc) {
  // RFC 9653 5.2: a packet with an INIT carries a correct CRC32c; one with zero is dropped.
  auto init_packet = [](bool zero) {
    InitChunk init;
    init.initiate_tag = kPeerTag;
    init.a_rwnd = 1 << 20;
    init.outbound_streams = 16;
    init.inbound_streams = 16;
    init.initial_tsn = kPeerTsn;
    Buffer packet;
    PacketBuilder b(packet, {5000, 5000, 0}, 1200);
    init.write_to(b, chunk_type::kInit);
    b.finish(zero);
    return packet;
  };
  SeededRandom rng(3);
  SctpAssociation s({}, rng);
  s.handle_packet(init_packet(true), Timestamp::seconds(1));
  EXPECT_FALSE(s.poll_transmit());
  s.handle_packet(init_packet(false), Timestamp::seconds(1));
  auto ack = s.poll_transmit();
  ASSERT_TRUE(ack);
  EXPECT_TRUE(parse_packet(*ack, ChecksumMode::kVerify));
}

TEST(SctpInterleaving, TheWrongDataOrForwardTsnKindAborts) {
  const Buffer payload = Buffer::from_string("x");
  // RFC 8260 2.2.1: DATA after I-DATA was negotiated, and the reverse, abort the association
  // with a Protocol Violation; so does the FORWARD-TSN kind that does not fit.
  HandPeer data_on_idata;
  data_on_idata.inject([&](PacketBuilder& b) {
    DataChunk{kPeerTsn, 1, 0, 51, true, true, false, false, payload}.write_to(b);
  });
  EXPECT_EQ(data_on_idata.abort_cause(), std::optional<std::uint16_t>(13));
  ASSERT_EQ(data_on_idata.closed.size(), 1u);
  EXPECT_TRUE(data_on_idata.closed[0].error);
  EXPECT_EQ(data_on_idata.s().state(), SctpAssociation::State::kClosed);

  HandPeer ftsn_on_idata;
  ftsn_on_idata.inject([&](PacketBuilder& b) { ForwardTsnChunk{kPeerTsn, {}}.write_to(b, false); });
  EXPECT_EQ(ftsn_on_idata.abort_cause(), std::optional<std::uint16_t>(13));

  const PeerOptions old{{chunk_type::kForwardTsn, chunk_type::kReConfig}, {}};
  HandPeer idata_on_data({}, old);
  idata_on_data.idata(0, 1, 0, 51, true, true, payload);
  EXPECT_EQ(idata_on_data.abort_cause(), std::optional<std::uint16_t>(13));

  HandPeer iftsn_on_data({}, old);
  iftsn_on_data.inject([&](PacketBuilder& b) { ForwardTsnChunk{kPeerTsn, {}}.write_to(b, true); });
  EXPECT_EQ(iftsn_on_data.abort_cause(), std::optional<std::uint16_t>(13));

  // A malformed I-DATA (no user data) too.
  HandPeer empty;
  empty.inject([&](PacketBuilder& b) {
    b.add_chunk(chunk_type::kIData, 3, Buffer(IDataChunk::kHeaderSize));
  });
  EXPECT_EQ(empty.abort_cause(), std::optional<std::uint16_t>(13));
}

TEST(SctpInterleaving, ReassemblesInterleavedFragmentsAndDeliversByMid) {
  HandPeer peer;
  ASSERT_TRUE(peer.established());
  peer.idata(0, 1, 0, 51, true, false, text("he"));       // stream 1, MID 0, FSN 0
  peer.idata(1, 2, 0, 52, true, true, text("solo"));      // stream 2: whole
  peer.idata(2, 1, 1, 53, true, true, text("next"));      // stream 1, MID 1: waits for MID 0
  peer.idata(3, 3, 7, 1, false, true, text("ld"), true);  // unordered MID 7, FSN 1
  peer.idata(4, 1, 0, 2, false, true, text("lo"));        // stream 1, MID 0, FSN 2
  EXPECT_EQ(peer.texts(), (std::vector<std::string>{"solo"}));
  EXPECT_EQ(peer.s().received_buffered(), 10u);
  peer.idata(5, 3, 7, 54, true, false, text("wor"), true);  // unordered MID 7, FSN 0
  peer.idata(6, 1, 0, 1, false, false, text("l"));          // stream 1, MID 0, FSN 1
  EXPECT_EQ(peer.texts(), (std::vector<std::string>{"solo", "world", "hello", "next"}));
  EXPECT_EQ(peer.messages[1].ppid, 54u);
  EXPECT_EQ(peer.messages[2].ppid, 51u);
  EXPECT_EQ(peer.messages[2].stream, 1);
  EXPECT_EQ(peer.s().received_buffered(), 0u);
  // A fragment of a message already delivered, under a new TSN: acknowledged, dropped.
  peer.idata(7, 1, 0, 51, true, true, text("again"));
  peer.idata(8, 1, 2, 55, true, false, text("a"));
  peer.idata(9, 1, 2, 55, true, false, text("b"));  // FSN 0 twice: the second is ignored
  peer.idata(10, 1, 2, 1, false, true, text("c"));
  EXPECT_EQ(peer.texts().back(), "ac");
  EXPECT_EQ(peer.messages.size(), 5u);
  EXPECT_EQ(peer.s().state(), SctpAssociation::State::kEstablished);
  // Everything is acknowledged.
  peer.advance(Duration::seconds(1));
  auto sacks = peer.chunks(chunk_type::kSack);
  ASSERT_FALSE(sacks.empty());
  EXPECT_EQ(SackChunk::parse(sacks.back())->cumulative_tsn_ack, kPeerTsn + 10);
}

TEST(SctpInterleaving, FragmentsAheadWaitAndRecycledBuffersStartEmpty) {
  HandPeer peer;
  ASSERT_TRUE(peer.established());
  // Buffers given back with old bytes in them: a message reassembled into one has only its own.
  for (int i = 0; i < 3; ++i) peer.s().recycle_buffer(Buffer::from_string("stale bytes"));
  peer.idata(0, 1, 0, 51, true, false, text("ab"));  // FSN 0
  peer.idata(1, 1, 0, 3, false, false, text("gh"));  // FSN 3, two ahead
  peer.idata(2, 1, 0, 2, false, false, text("ef"));  // FSN 2
  peer.idata(3, 1, 0, 3, false, false, text("xx"));  // FSN 3 again: ignored
  peer.idata(4, 1, 0, 1, false, false, text("cd"));  // FSN 1: 0 to 3 now in order
  EXPECT_TRUE(peer.texts().empty());
  peer.idata(5, 1, 0, 4, false, true, text("ij"));   // FSN 4, the end
  peer.idata(6, 2, 0, 52, true, true, text("one"));  // a whole message, into a recycled buffer
  EXPECT_EQ(peer.texts(), (std::vector<std::string>{"abcdefghij", "one"}));
  EXPECT_EQ(peer.s().received_buffered(), 0u);
  EXPECT_EQ(peer.s().state(), SctpAssociation::State::kEstablished);
}

TEST(SctpInterleaving, HostileFragmentsAbortInsteadOfGrowing) {
  SctpConfig config;
  config.max_message_size = 2000;
  const Buffer kilo(1000);
  {  // An FSN that only a message past max-message-size can have.
    HandPeer peer(config);
    peer.idata(0, 1, 0, 2001, false, false, text("x"));
    EXPECT_EQ(peer.abort_cause(), std::optional<std::uint16_t>(13));
  }
  {  // FSN 0 on a fragment that is not the first.
    HandPeer peer(config);
    peer.idata(0, 1, 0, 0, false, true, text("x"));
    EXPECT_EQ(peer.abort_cause(), std::optional<std::uint16_t>(13));
  }
  {  // A fragment after the message's end.
    HandPeer peer(config);
    peer.idata(0, 1, 0, 51, true, false, text("a"));
    peer.idata(1, 1, 0, 2, false, true, text("c"));
    peer.idata(2, 1, 0, 3, false, false, text("d"));
    EXPECT_EQ(peer.abort_cause(), std::optional<std::uint16_t>(13));
  }
  {  // An end before fragments already received.
    HandPeer peer(config);
    peer.idata(0, 1, 0, 3, false, false, text("d"));
    peer.idata(1, 1, 0, 2, false, true, text("c"));
    EXPECT_EQ(peer.abort_cause(), std::optional<std::uint16_t>(13));
  }
  {  // More than max-message-size in one message.
    HandPeer peer(config);
    peer.idata(0, 1, 0, 51, true, false, kilo);
    peer.idata(1, 1, 0, 1, false, false, kilo);
    EXPECT_FALSE(peer.abort_cause());
    peer.idata(2, 1, 0, 2, false, true, text("x"));
    EXPECT_TRUE(peer.abort_cause());
    ASSERT_EQ(peer.closed.size(), 1u);
  }
}

TEST(SctpInterleaving, ReceiveMemoryStaysWithinTheWindow) {
  SctpConfig config;
  config.receive_window = 64 * 1024;
  config.max_message_size = 64 * 1024;
  const Buffer kilo(1000);
  {
    // Out of order (TSN 0 missing), first fragments of ever new MIDs: beyond the window they
    // are dropped unacknowledged, nothing else happens.
    HandPeer peer(config);
    for (std::uint32_t k = 1; k <= 200; ++k) peer.idata(k, 1, k * 1000, 51, true, false, kilo);
    EXPECT_LE(peer.s().received_buffered(), config.receive_window);
    EXPECT_GE(peer.s().received_buffered(), config.receive_window - 1000);
    EXPECT_FALSE(peer.abort_cause());
    // In order, they are taken past the window for a while (the window has to drain), then a
    // peer that never completes anything is cut off.
    // (TSNs 1 to 65 came already: duplicates.)
    for (std::uint32_t k = 0; k <= 600 && !peer.abort_cause(); ++k)
      peer.idata(k, 2, k, 51, true, false, kilo, true);
    EXPECT_EQ(peer.abort_cause(), std::optional<std::uint16_t>(4));  // Out of Resource
    EXPECT_LE(peer.s().received_buffered(), config.receive_window + config.max_message_size);
  }
  {
    // Tiny fragments: their number is bounded as well as their bytes.
    HandPeer peer(config);
    std::uint32_t k = 0;
    for (; k < 100000 && !peer.abort_cause(); ++k) peer.idata(k, 3, k, 51, true, false, text("."));
    EXPECT_EQ(peer.abort_cause(), std::optional<std::uint16_t>(4));
    EXPECT_LE(k, 2049u);
  }
  {
    // Complete ordered messages far ahead of a MID that never comes.
    HandPeer peer(config);
    std::uint32_t k = 0;
    for (; k < 1000 && !peer.abort_cause(); ++k) peer.idata(k, 4, k + 1, 51, true, true, kilo);
    EXPECT_EQ(peer.abort_cause(), std::optional<std::uint16_t>(4));
    EXPECT_TRUE(peer.messages.empty());
    EXPECT_LT(k, 200u);
  }
}

TEST(SctpInterleaving, IForwardTsnDropsAbandonedMessagesAndUnblocksStreams) {
  HandPeer peer;
  ASSERT_TRUE(peer.established());
  peer.idata(0, 1, 0, 51, true, false, text("lost"));        // ordered MID 0, rest abandoned
  peer.idata(2, 1, 1, 51, true, true, text("kept"));         // ordered MID 1, waits
  peer.idata(3, 2, 5, 51, true, false, text("gone"), true);  // unordered MID 5, rest abandoned
  peer.idata(5, 2, 6, 51, true, true, text("free"), true);   // unordered MID 6, whole
  EXPECT_EQ(peer.texts(), (std::vector<std::string>{"free"}));
  EXPECT_EQ(peer.s().received_buffered(), 12u);
  // TSN 1 (the rest of MID 0) and 4 (the rest of unordered MID 5) are abandoned.
  peer.inject([&](PacketBuilder& b) {
    ForwardTsnChunk{kPeerTsn + 4, {{1, false, 0}, {2, true, 5}}}.write_to(b, true);
  });
  EXPECT_EQ(peer.texts(), (std::vector<std::string>{"free", "kept"}));
  EXPECT_EQ(peer.s().received_buffered(), 0u);
  // A fragment of the abandoned unordered message arriving late is dropped.
  peer.idata(6, 2, 5, 1, false, true, text("late"), true);
  EXPECT_EQ(peer.s().received_buffered(), 0u);
  EXPECT_EQ(peer.messages.size(), 2u);
  // The ordered stream goes on after the skipped MID.
  peer.idata(7, 1, 2, 51, true, true, text("on"));
  EXPECT_EQ(peer.texts().back(), "on");
  // An I-FORWARD-TSN out of date changes nothing; one for an unknown stream is ignored.
  peer.inject([&](PacketBuilder& b) {
    ForwardTsnChunk{kPeerTsn + 3, {{1, false, 9}}}.write_to(b, true);
  });
  peer.inject([&](PacketBuilder& b) {
    ForwardTsnChunk{kPeerTsn + 8, {{40000, false, 9}, {1, false, 0x80000000}}}.write_to(b, true);
  });
  EXPECT_EQ(peer.s().state(), SctpAssociation::State::kEstablished);
  peer.advance(Duration::seconds(1));
  auto sacks = peer.chunks(chunk_type::kSack);
  ASSERT_FALSE(sacks.empty());
  EXPECT_EQ(SackChunk::parse(sacks.back())->cumulative_tsn_ack, kPeerTsn + 8);
}

TEST(SctpInterleaving, IncomingStreamResetRestartsMids) {
  HandPeer peer;
  ASSERT_TRUE(peer.established());
  peer.idata(0, 1, 0, 51, true, true, text("m0"));
  peer.idata(1, 1, 1, 51, true, true, text("m1"));
  peer.idata(2, 1, 3, 51, true, true, text("m3"));  // waits for a MID 2 never sent
  peer.idata(3, 1, 4, 51, true, false, text("p"));  // partial
  // RFC 6525: the peer's first request carries its initial TSN as sequence number.
  Buffer params;
  OutgoingResetRequest{kPeerTsn, 0, kPeerTsn + 3, {1}}.append_to(params);
  peer.inject([&](PacketBuilder& b) { b.add_chunk(chunk_type::kReConfig, 0, params); });
  ASSERT_EQ(peer.resets.size(), 1u);
  EXPECT_TRUE(peer.resets[0].incoming);
  // What waited of the old sequence was delivered (complete) or dropped (partial).
  EXPECT_EQ(peer.texts(), (std::vector<std::string>{"m0", "m1", "m3"}));
  EXPECT_EQ(peer.s().received_buffered(), 0u);
  // RFC 8260 2.3.2: MID 0 again.
  peer.idata(4, 1, 0, 51, true, true, text("new0"));
  EXPECT_EQ(peer.texts().back(), "new0");
}

// The I-DATA chunks the association sent, in order.
std::vector<IDataChunk> sent_idata(const HandPeer& peer) {
  std::vector<IDataChunk> out;
  for (const auto& c : peer.chunks(chunk_type::kIData)) out.push_back(*IDataChunk::parse(c));
  return out;
}

TEST(SctpInterleaving, StreamsTakeTurnsOneFragmentEach) {
  SctpConfig config;
  config.max_message_size = 1 << 20;
  HandPeer peer(config);
  ASSERT_TRUE(peer.established());
  const Buffer big(1 << 20);
  ASSERT_TRUE(peer.s().send(1, 53, big));
  ASSERT_TRUE(peer.s().send(2, 51, text("small")));
  ASSERT_TRUE(peer.s().send(3, 51, text("tiny"), {.unordered = true}));
  peer.collect();
  const auto chunks = sent_idata(peer);
  ASSERT_GE(chunks.size(), 3u);
  // Stream 1's first fragment, then the two small messages right behind it.
  EXPECT_EQ(chunks[0].stream_id, 1);
  EXPECT_TRUE(chunks[0].beginning && !chunks[0].end);
  EXPECT_EQ(chunks[0].ppid_or_fsn, 53u);
  EXPECT_EQ(chunks[1].stream_id, 2);
  EXPECT_TRUE(chunks[1].beginning && chunks[1].end);
  EXPECT_EQ(chunks[1].ppid_or_fsn, 51u);
  EXPECT_EQ(chunks[2].stream_id, 3);
  EXPECT_TRUE(chunks[2].unordered);
  // TSNs run on; stream 1's FSNs count up from 0 under one MID.
  std::uint32_t fsn = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].tsn, peer.own_tsn() + i);
    if (chunks[i].stream_id != 1) continue;
    EXPECT_EQ(chunks[i].message_id, 0u);
    EXPECT_EQ(chunks[i].fsn(), fsn++);
  }
  EXPECT_GT(fsn, 1u);

  // With DATA the small message waits for the whole big one.
  HandPeer old(config, {{chunk_type::kForwardTsn, chunk_type::kReConfig}, {}});
  ASSERT_TRUE(old.s().send(1, 53, big));
  ASSERT_TRUE(old.s().send(2, 51, text("small")));
  old.collect();
  const auto data = old.chunks(chunk_type::kData);
  ASSERT_GE(data.size(), 3u);
  for (const auto& c : data) EXPECT_EQ(DataChunk::parse(c)->stream_id, 1);
}

TEST(SctpInterleaving, MidsCountPerStreamAndOrderingAndRestartAfterAReset) {
  HandPeer peer;
  ASSERT_TRUE(peer.established());
  ASSERT_TRUE(peer.s().send(1, 51, text("o0")));
  ASSERT_TRUE(peer.s().send(1, 51, text("u0"), {.unordered = true}));
  ASSERT_TRUE(peer.s().send(1, 51, text("o1")));
  ASSERT_TRUE(peer.s().send(2, 51, text("s2")));
  ASSERT_TRUE(peer.s().send(1, 51, text("u1"), {.unordered = true}));
  peer.collect();
  auto chunks = sent_idata(peer);
  ASSERT_EQ(chunks.size(), 5u);
  std::map<std::string, std::uint32_t> mid;
  for (const auto& c : chunks) mid[std::string(as_string(c.payload))] = c.message_id;
  EXPECT_EQ(mid["o0"], 0u);
  EXPECT_EQ(mid["o1"], 1u);
  EXPECT_EQ(mid["u0"], 0u);
  EXPECT_EQ(mid["u1"], 1u);
  EXPECT_EQ(mid["s2"], 0u);
  // Acknowledge, reset stream 1 and answer the request: its MIDs restart at 0.
  peer.inject([&](PacketBuilder& b) {
    SackChunk{peer.own_tsn() + 4, 1 << 20, {}, {}}.write_to(b);
  });
  const std::uint16_t one[] = {1};
  ASSERT_TRUE(peer.s().reset_streams(one));
  peer.sent.clear();
  peer.advance(Duration::millis(1));
  auto reconfig = peer.chunks(chunk_type::kReConfig);
  ASSERT_EQ(reconfig.size(), 1u);
  auto request = OutgoingResetRequest::parse(parse_parameters(reconfig[0].value)->front());
  ASSERT_TRUE(request);
  EXPECT_EQ(request->sender_last_tsn, peer.own_tsn() + 4);
  Buffer response;
  ReconfigResponse{request->request_sequence, ReconfigResponse::Result::kSuccessPerformed}
      .append_to(response);
  peer.inject([&](PacketBuilder& b) { b.add_chunk(chunk_type::kReConfig, 0, response); });
  ASSERT_EQ(peer.resets.size(), 1u);
  EXPECT_FALSE(peer.resets[0].incoming);
  peer.sent.clear();
  ASSERT_TRUE(peer.s().send(1, 51, text("o0'")));
  ASSERT_TRUE(peer.s().send(1, 51, text("u0'"), {.unordered = true}));
  ASSERT_TRUE(peer.s().send(2, 51, text("s2'")));
  peer.collect();
  chunks = sent_idata(peer);
  ASSERT_EQ(chunks.size(), 3u);
  mid.clear();
  for (const auto& c : chunks) mid[std::string(as_string(c.payload))] = c.message_id;
  EXPECT_EQ(mid["o0'"], 0u);
  EXPECT_EQ(mid["u0'"], 0u);
  EXPECT_EQ(mid["s2'"], 1u);  // stream 2 was not reset
}

TEST(SctpInterleaving, ForwardTsnNeverNamesASequenceEndedByAReset) {
  // Abandoned chunks of stream 1's old sequence are still unacknowledged (the peer's SACKs
  // are lost) when the reset succeeds and a message of stream 2 is abandoned: the next
  // FORWARD-TSN must not name stream 1's old SSN or MID, or the peer would skip that many
  // messages of the new sequence.
  for (const bool interleaved : {true, false}) {
    SCOPED_TRACE(interleaved);
    PeerOptions options;
    if (!interleaved) options.extensions = {chunk_type::kForwardTsn, chunk_type::kReConfig};
    HandPeer peer({}, options);
    ASSERT_TRUE(peer.established());
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(peer.s().send(1, 51, text("old"), {.max_retransmits = 0}));
    peer.collect();
    peer.advance(Duration::millis(600));  // T3: the three are abandoned
    const std::uint8_t kind = interleaved ? chunk_type::kIForwardTsn : chunk_type::kForwardTsn;
    auto forward = peer.chunks(kind);
    ASSERT_FALSE(forward.empty());
    auto f = ForwardTsnChunk::parse(forward.back(), interleaved);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->new_cumulative_tsn, peer.own_tsn() + 2);
    ASSERT_EQ(f->skipped.size(), 1u);
    EXPECT_EQ(f->skipped[0].stream_id, 1);
    EXPECT_EQ(f->skipped[0].sequence, 2u);
    const std::uint16_t one[] = {1};
    ASSERT_TRUE(peer.s().reset_streams(one));
    peer.sent.clear();
    peer.collect();
    auto reconfig = peer.chunks(chunk_type::kReConfig);
    ASSERT_EQ(reconfig.size(), 1u);
    auto request = OutgoingResetRequest::parse(parse_parameters(reconfig[0].value)->front());
    ASSERT_TRUE(request);
    Buffer response;
    ReconfigResponse{request->request_sequence, ReconfigResponse::Result::kSuccessPerformed}
        .append_to(response);
    peer.inject([&](PacketBuilder& b) { b.add_chunk(chunk_type::kReConfig, 0, response); });
    ASSERT_EQ(peer.resets.size(), 1u);
    peer.sent.clear();
    ASSERT_TRUE(peer.s().send(2, 51, text("new"), {.max_retransmits = 0}));
    peer.collect();
    peer.advance(Duration::seconds(3));
    forward = peer.chunks(kind);
    ASSERT_FALSE(forward.empty());
    f = ForwardTsnChunk::parse(forward.back(), interleaved);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->new_cumulative_tsn, peer.own_tsn() + 3);
    ASSERT_EQ(f->skipped.size(), 1u);
    EXPECT_EQ(f->skipped[0].stream_id, 2);
    EXPECT_EQ(f->skipped[0].sequence, 0u);
  }
}

}  // namespace
}  // namespace rtcpp::sctp
