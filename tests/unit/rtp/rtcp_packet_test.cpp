#include "rtp/rtcp_packet.hpp"

#include <gtest/gtest.h>

#include <string>

#include "base/hex.hpp"

namespace rtcpp::rtp {
namespace {

Buffer hex(std::string text) {
  std::erase(text, ' ');
  auto bytes = from_hex(text, '\0', 1 << 16);
  EXPECT_TRUE(bytes) << text;
  return bytes ? std::move(*bytes) : Buffer{};
}

Buffer write(const RtcpMessage& message) {
  Buffer out;
  ByteWriter writer(out);
  EXPECT_TRUE(write_rtcp(message, writer));
  EXPECT_EQ(out.size(), rtcp_size(message));
  return out;
}

template <typename T>
T parse_one(BytesView bytes) {
  auto compound = parse_rtcp_compound(bytes);
  EXPECT_TRUE(compound) << (compound ? "" : to_string(compound.error()));
  if (!compound || compound->messages.size() != 1 ||
      !std::holds_alternative<T>(compound->messages[0])) {
    ADD_FAILURE() << "not one message of the expected type";
    return T{};
  }
  return std::get<T>(compound->messages[0]);
}

// A sender's regular compound (RFC 3550 6.1): an SR with one report block, then an SDES with
// its CNAME, each byte checked by hand.
const char* const kSrSdesCompound =
    "81c8000c"          // V=2 RC=1 PT=200 length 12 (52 bytes)
    "11223344"          // sender SSRC
    "e7a1b2c3d4e5f607"  // NTP timestamp
    "00015f90"          // RTP timestamp 90000
    "0000000a"          // packet count 10
    "00000fa0"          // octet count 4000
    "55667788"          // report block: source
    "40fffffe"          // fraction lost 64/256, cumulative lost -2
    "0001000f"          // extended highest sequence 65551
    "00000020"          // jitter 32
    "b2c3d4e5"          // LSR
    "00010000"          // DLSR: one second
    "81ca0003"          // V=2 SC=1 PT=202 length 3 (16 bytes)
    "11223344"          // chunk SSRC
    "0104 61626364"     // CNAME "abcd"
    "0000";             // end of list and padding to the word

TEST(Rtcp, ParsesASenderCompound) {
  auto compound = parse_rtcp_compound(hex(kSrSdesCompound));
  ASSERT_TRUE(compound) << to_string(compound.error());
  ASSERT_EQ(compound->messages.size(), 2u);
  const auto& sr = std::get<SenderReport>(compound->messages[0]);
  EXPECT_EQ(sr.sender_ssrc, 0x11223344u);
  EXPECT_EQ(sr.ntp_timestamp, 0xe7a1b2c3d4e5f607u);
  EXPECT_EQ(sr.rtp_timestamp, 90000u);
  EXPECT_EQ(sr.packet_count, 10u);
  EXPECT_EQ(sr.octet_count, 4000u);
  ASSERT_EQ(sr.report_blocks.size(), 1u);
  const ReportBlock& block = sr.report_blocks[0];
  EXPECT_EQ(block.ssrc, 0x55667788u);
  EXPECT_EQ(block.fraction_lost, 0x40);
  EXPECT_EQ(block.cumulative_lost, -2);
  EXPECT_EQ(block.extended_highest_sequence, 65551u);
  EXPECT_EQ(block.jitter, 32u);
  EXPECT_EQ(block.last_sender_report, 0xb2c3d4e5u);
  EXPECT_EQ(block.delay_since_last_sender_report, 65536u);
  const auto& sdes = std::get<SourceDescription>(compound->messages[1]);
  ASSERT_EQ(sdes.chunks.size(), 1u);
  EXPECT_EQ(sdes.chunks[0].ssrc, 0x11223344u);
  EXPECT_EQ(sdes.chunks[0].cname(), "abcd");
  EXPECT_EQ(compound->unknown_skipped, 0u);
  EXPECT_EQ(compound->malformed_skipped, 0u);
}

TEST(Rtcp, WritesTheSameCompound) {
  SenderReport sr;
  sr.sender_ssrc = 0x11223344;
  sr.ntp_timestamp = 0xe7a1b2c3d4e5f607;
  sr.rtp_timestamp = 90000;
  sr.packet_count = 10;
  sr.octet_count = 4000;
  sr.report_blocks.push_back({0x55667788, 0x40, -2, 65551, 32, 0xb2c3d4e5, 65536});
  SourceDescription sdes;
  sdes.chunks.push_back({0x11223344, {{sdes_item::kCname, "abcd"}}});
  Buffer out;
  ByteWriter writer(out);
  ASSERT_TRUE(sr.write_to(writer));
  ASSERT_TRUE(sdes.write_to(writer));
  EXPECT_EQ(to_hex(out), to_hex(hex(kSrSdesCompound)));
}

TEST(Rtcp, ReceiverReportRoundTrip) {
  ReceiverReport rr;
  rr.sender_ssrc = 1;
  for (std::uint32_t i = 0; i < 31; ++i) {
    rr.report_blocks.push_back({i, 255, i % 2 == 0 ? 0x7fffff : -0x800000, i, i, i, i});
  }
  const Buffer bytes = write(rr);
  EXPECT_EQ(bytes.size(), 8 + 31 * 24u);
  EXPECT_EQ(to_hex(BytesView(bytes).first(4)), "9fc900bb");
  EXPECT_EQ(parse_one<ReceiverReport>(bytes), rr);

  // An empty RR (RC=0) is what a receiver sends before it has heard anything.
  const Buffer empty = write(ReceiverReport{7, {}});
  EXPECT_EQ(to_hex(empty), "80c9000100000007");
  EXPECT_EQ(parse_one<ReceiverReport>(empty).sender_ssrc, 7u);
}

TEST(Rtcp, CumulativeLostIsClampedTo24Bits) {
  ReceiverReport rr{1, {{2, 0, 0x1000000, 0, 0, 0, 0}}};
  EXPECT_EQ(parse_one<ReceiverReport>(write(rr)).report_blocks[0].cumulative_lost, 0x7fffff);
  rr.report_blocks[0].cumulative_lost = -0x1000000;
  EXPECT_EQ(parse_one<ReceiverReport>(write(rr)).report_blocks[0].cumulative_lost, -0x800000);
}

TEST(Rtcp, SenderReportIgnoresProfileExtensions) {
  // RC=0 and 8 bytes of profile-specific extension after the sender info (length 8).
  auto sr = parse_one<SenderReport>(
      hex("80c80008 00000001 0000000000000000 00000000 00000000 00000000 aaaaaaaa bbbbbbbb"));
  EXPECT_EQ(sr.sender_ssrc, 1u);
  EXPECT_TRUE(sr.report_blocks.empty());
}

TEST(Rtcp, SdesItemsAndChunks) {
  SourceDescription sdes;
  sdes.chunks.push_back({1, {{sdes_item::kCname, "user@host"}, {6, "rtcpp"}}});
  sdes.chunks.push_back({2, {}});  // no items: four null octets
  sdes.chunks.push_back({3, {{sdes_item::kCname, std::string(255, 'x')}}});
  const Buffer bytes = write(sdes);
  const auto parsed = parse_one<SourceDescription>(bytes);
  EXPECT_EQ(parsed, sdes);
  EXPECT_EQ(parsed.chunks[0].cname(), "user@host");
  EXPECT_FALSE(parsed.chunks[1].cname());

  // Chunk ends exactly on a word after its null octet: 4 + 2 + 1 + 1 = 8 bytes.
  const Buffer tight = write(SourceDescription{{{9, {{sdes_item::kCname, "a"}}}}});
  EXPECT_EQ(to_hex(tight), "81ca00020000000901016100");
}

TEST(Rtcp, Goodbye) {
  Goodbye bye{{0x11111111, 0x22222222}, "camera off"};
  const Buffer bytes = write(bye);
  // 4 + 8 + (1 + 10, padded to 12).
  EXPECT_EQ(to_hex(bytes),
            "82cb00051111111122222222"
            "0a63616d657261206f666600");
  EXPECT_EQ(parse_one<Goodbye>(bytes), bye);
  // Without a reason.
  EXPECT_EQ(to_hex(write(Goodbye{{5}, ""})), "81cb000100000005");
}

TEST(Rtcp, GenericNack) {
  // RFC 4585 6.2.1: PID 100 with BLP bits for 101, 105 and 116; 117 needs a new item.
  const std::uint16_t lost[] = {100, 101, 105, 116, 117, 300};
  const GenericNack nack = GenericNack::from_lost_packets(1, 2, lost);
  ASSERT_EQ(nack.items.size(), 3u);
  EXPECT_EQ(nack.items[0], (NackItem{100, 0x8011}));
  EXPECT_EQ(nack.items[1], (NackItem{117, 0}));
  EXPECT_EQ(nack.items[2], (NackItem{300, 0}));
  EXPECT_EQ(nack.lost_packets(), std::vector<std::uint16_t>(std::begin(lost), std::end(lost)));
  const Buffer bytes = write(nack);
  EXPECT_EQ(to_hex(bytes),
            "81cd00050000000100000002"
            "0064801100750000012c0000");
  EXPECT_EQ(parse_one<GenericNack>(bytes), nack);
}

TEST(Rtcp, GenericNackAcrossTheWrap) {
  const std::uint16_t lost[] = {65534, 65535, 0, 14};
  const GenericNack nack = GenericNack::from_lost_packets(1, 2, lost);
  ASSERT_EQ(nack.items.size(), 1u);
  EXPECT_EQ(nack.items[0], (NackItem{65534, 0x8003}));
  EXPECT_EQ(nack.lost_packets(), std::vector<std::uint16_t>(std::begin(lost), std::end(lost)));
}

TEST(Rtcp, PictureLossIndication) {
  const Buffer bytes = write(PictureLossIndication{0x01020304, 0x05060708});
  EXPECT_EQ(to_hex(bytes), "81ce00020102030405060708");
  EXPECT_EQ(parse_one<PictureLossIndication>(bytes),
            (PictureLossIndication{0x01020304, 0x05060708}));
}

TEST(Rtcp, FullIntraRequest) {
  FullIntraRequest fir{0x01020304, {{0x0a0b0c0d, 7}, {0x11121314, 255}}};
  const Buffer bytes = write(fir);
  EXPECT_EQ(to_hex(bytes),
            "84ce00060102030400000000"
            "0a0b0c0d07000000"
            "11121314ff000000");
  EXPECT_EQ(parse_one<FullIntraRequest>(bytes), fir);
  // The media source field is ignored on input, and the reserved bits too.
  auto parsed = parse_one<FullIntraRequest>(hex("84ce0004 01020304 99999999 0a0b0c0d 07ffffff"));
  EXPECT_EQ(parsed, (FullIntraRequest{0x01020304, {{0x0a0b0c0d, 7}}}));
}

TEST(Rtcp, ReducedSizeFeedbackAlone) {
  // RFC 5506: a compound need not start with SR or RR.
  auto compound = parse_rtcp_compound(hex("81ce0002 00000001 00000002"));
  ASSERT_TRUE(compound);
  ASSERT_EQ(compound->messages.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<PictureLossIndication>(compound->messages[0]));
}

TEST(Rtcp, UnknownTypesAreSkipped) {
  // RR, APP, REMB (PSFB FMT 15), a transport-cc message too short to read (RTPFB FMT 15), XR,
  // then a PLI.
  const Buffer bytes =
      hex("80c90001 00000001"
          "80cc0002 00000001 6e616d65"
          "8fce0004 00000001 00000000 52454d42 01000001"
          "8fcd0002 00000001 00000002"
          "80cf0001 00000001"
          "81ce0002 00000001 00000002");
  auto compound = parse_rtcp_compound(bytes);
  ASSERT_TRUE(compound) << to_string(compound.error());
  ASSERT_EQ(compound->messages.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<ReceiverReport>(compound->messages[0]));
  EXPECT_TRUE(std::holds_alternative<PictureLossIndication>(compound->messages[1]));
  EXPECT_EQ(compound->unknown_skipped, 3u);
  EXPECT_EQ(compound->malformed_skipped, 1u);
}

TEST(Rtcp, PaddingIsStripped) {
  // An RR with 4 bytes of padding (P set, count 4 in the last byte).
  auto compound = parse_rtcp_compound(hex("a0c90002 00000009 00000004"));
  ASSERT_TRUE(compound) << to_string(compound.error());
  EXPECT_EQ(std::get<ReceiverReport>(compound->messages[0]).sender_ssrc, 9u);
}

TEST(Rtcp, HeadersThatLieRejectTheCompound) {
  struct Case {
    const char* hex;
    RtcpParseError error;
  };
  const Case cases[] = {
      {"", RtcpParseError::kTooShort},
      {"80c900", RtcpParseError::kTooShort},
      {"40c90001 00000001", RtcpParseError::kBadVersion},
      // Length 2 (12 bytes) with 8 present.
      {"80c90002 00000001", RtcpParseError::kLengthBeyondEnd},
      // Length 0xffff.
      {"80c9ffff 00000001", RtcpParseError::kLengthBeyondEnd},
      // A valid RR and 2 stray bytes.
      {"80c90001 00000001 8000", RtcpParseError::kTooShort},
      // A valid RR and a second packet whose length lies.
      {"80c90001 00000001 81ce0005 00000001 00000002", RtcpParseError::kLengthBeyondEnd},
      // Padding count 0.
      {"a0c90001 00000000", RtcpParseError::kBadPadding},
      // Padding count larger than the body.
      {"a0c90001 00000009", RtcpParseError::kBadPadding},
  };
  for (const Case& c : cases) {
    auto compound = parse_rtcp_compound(hex(c.hex));
    ASSERT_FALSE(compound) << c.hex;
    EXPECT_EQ(compound.error(), c.error) << c.hex << ": " << to_string(compound.error());
  }
}

TEST(Rtcp, TooManyPacketsInOneCompound) {
  std::string text;
  for (std::size_t i = 0; i <= kMaxRtcpPacketsPerCompound; ++i) text += "80cc0000";
  auto compound = parse_rtcp_compound(hex(text));
  ASSERT_FALSE(compound);
  EXPECT_EQ(compound.error(), RtcpParseError::kTooManyPackets);
}

TEST(Rtcp, MalformedBodiesAreSkippedAndCounted) {
  const char* bodies[] = {
      "81c80006 00000001 0000000000000000 00000000 00000000 00000000",       // SR RC=1, no block
      "82c90007 00000001 000000000000000000000000000000000000000000000000",  // RR RC=2, one
      "81c90000",                                                            // RR without its SSRC
      "81ca0002 00000001 01056162",            // SDES item longer than the packet
      "81ca0002 00000001 01016162",            // SDES list never ends
      "81ca0001 00000001",                     // SDES chunk without its null octet
      "82ca0003 00000001 01016100 00000002",   // SDES second chunk never ends
      "82cb0001 00000001",                     // BYE SC=2 with one SSRC
      "81cb0002 00000001 05616263",            // BYE reason longer than the packet
      "81cd0002 00000001 00000002",            // NACK without items
      "a1cd0003 00000001 00000002 0001 0002",  // NACK item cut (2 bytes, then padding)
      "81ce0001 00000001",                     // PLI without the media SSRC
      "84ce0002 00000001 00000000",            // FIR without entries
      "84ce0003 00000001 00000000 00000001",   // FIR entry cut in half
  };
  for (const char* body : bodies) {
    const Buffer bytes = hex(body);
    auto compound = parse_rtcp_compound(bytes);
    ASSERT_TRUE(compound) << body << ": " << to_string(compound.error());
    EXPECT_TRUE(compound->messages.empty()) << body;
    EXPECT_EQ(compound->malformed_skipped, 1u) << body;
  }
}

TEST(Rtcp, TypedParsersRefuseOtherTypes) {
  const Buffer packets_bytes = hex("81ce0002 00000001 00000002");
  auto packets = split_rtcp_compound(packets_bytes);
  ASSERT_TRUE(packets);
  const RtcpPacketView& pli = (*packets)[0];
  EXPECT_EQ(SenderReport::parse(pli).error(), RtcpParseError::kWrongType);
  EXPECT_EQ(GenericNack::parse(pli).error(), RtcpParseError::kWrongType);
  EXPECT_EQ(FullIntraRequest::parse(pli).error(), RtcpParseError::kWrongType);
  EXPECT_TRUE(PictureLossIndication::parse(pli));
}

TEST(Rtcp, WalkerStopsAfterAnError) {
  const Buffer bytes = hex("80c90001 00000001 80c90009");
  RtcpCompoundReader reader(bytes);
  auto first = reader.next();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->type, rtcp_type::kReceiverReport);
  auto second = reader.next();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), RtcpParseError::kLengthBeyondEnd);
  auto after = reader.next();
  ASSERT_TRUE(after);
  EXPECT_FALSE(*after);
}

TEST(Rtcp, WritersRefuseWhatTheWireCannotCarry) {
  Buffer out;
  ByteWriter writer(out);
  ReceiverReport rr{1, std::vector<ReportBlock>(32)};
  EXPECT_FALSE(rr.write_to(writer));
  EXPECT_FALSE(
      (SourceDescription{{{1, {{sdes_item::kCname, std::string(256, 'x')}}}}}.write_to(writer)));
  EXPECT_FALSE((SourceDescription{{{1, {{0, "x"}}}}}.write_to(writer)));
  EXPECT_FALSE((Goodbye{{1}, std::string(256, 'x')}.write_to(writer)));
  EXPECT_FALSE((GenericNack{1, 2, {}}.write_to(writer)));
  EXPECT_FALSE((FullIntraRequest{1, {}}.write_to(writer)));
  EXPECT_TRUE(out.empty());

  // A fixed output too small for the packet takes none of it.
  std::uint8_t small[11] = {};
  ByteWriter fixed{MutableBytesView(small)};
  EXPECT_FALSE((PictureLossIndication{1, 2}.write_to(fixed)));
  EXPECT_EQ(fixed.position(), 0u);
}

}  // namespace
}  // namespace rtcpp::rtp
