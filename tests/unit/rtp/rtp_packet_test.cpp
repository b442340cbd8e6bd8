#include "rtp/rtp_packet.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/hex.hpp"

namespace rtcpp::rtp {
namespace {

Buffer hex(std::string_view text) {
  auto bytes = from_hex(text);
  EXPECT_TRUE(bytes) << text;
  return bytes ? std::move(*bytes) : Buffer{};
}

// The layout of a VP8 packet as Chromium sends it: one-byte header extensions (the ids its
// offer maps: 2 abs-send-time, 4 transport-wide-cc, 3 video orientation, 9 mid), marker set
// on the frame's last packet, then the VP8 payload descriptor with a 15-bit PictureID and the
// start of a key frame.
constexpr std::string_view kChromiumVp8Packet =
    "90e01234"               // V=2 X=1 CC=0 | M=1 PT=96 | sequence 0x1234
    "56789abc"               // timestamp
    "11223344"               // SSRC
    "bede0003"               // RFC 8285 one-byte form, 3 words
    "22aabbcc"               // id 2, 3 bytes: abs-send-time
    "410102"                 // id 4, 2 bytes: transport-wide sequence number 0x0102
    "3000"                   // id 3, 1 byte: video orientation 0
    "9030"                   // id 9, 1 byte: mid "0"
    "00"                     // padding to the word
    "90808123"               // VP8 descriptor: X S PID 0 | I | M PictureID 0x0123
    "1002009d012a8002e001";  // key frame tag, start code, 640x480

TEST(RtpPacket, ParsesAChromiumVp8Packet) {
  const Buffer bytes = hex(kChromiumVp8Packet);
  auto packet = parse_rtp_packet(bytes);
  ASSERT_TRUE(packet) << to_string(packet.error());
  EXPECT_TRUE(packet->marker);
  EXPECT_EQ(packet->payload_type, 96);
  EXPECT_EQ(packet->sequence_number, 0x1234);
  EXPECT_EQ(packet->timestamp, 0x56789abcu);
  EXPECT_EQ(packet->ssrc, 0x11223344u);
  EXPECT_EQ(packet->csrc_count, 0);
  EXPECT_TRUE(packet->has_one_byte_extensions());
  EXPECT_EQ(packet->header_size, 28u);
  EXPECT_EQ(to_hex(*packet->extension(2)), "aabbcc");
  EXPECT_EQ(to_hex(*packet->extension(4)), "0102");
  EXPECT_EQ(to_hex(*packet->extension(3)), "00");
  EXPECT_EQ(as_string(*packet->extension(9)), "0");
  EXPECT_FALSE(packet->extension(1));
  EXPECT_EQ(to_hex(packet->payload), "908081231002009d012a8002e001");
  EXPECT_EQ(packet->padding_size, 0u);

  std::vector<std::uint8_t> ids;
  auto it = packet->extensions();
  while (auto e = it.next()) ids.push_back(e->id);
  EXPECT_EQ(ids, (std::vector<std::uint8_t>{2, 4, 3, 9}));
}

TEST(RtpPacket, BuilderWritesTheSameBytes) {
  const Buffer abs_send_time = hex("aabbcc");
  const Buffer transport_seq = hex("0102");
  const Buffer orientation = hex("00");
  const Buffer payload = hex("908081231002009d012a8002e001");
  RtpPacketBuilder builder;
  builder.set_marker(true)
      .set_payload_type(96)
      .set_sequence_number(0x1234)
      .set_timestamp(0x56789abc)
      .set_ssrc(0x11223344)
      .add_extension(2, abs_send_time)
      .add_extension(4, transport_seq)
      .add_extension(3, orientation)
      .add_extension(9, as_bytes("0"))
      .set_payload(payload);
  EXPECT_FALSE(builder.uses_two_byte_extensions());
  Buffer out;
  ASSERT_TRUE(builder.write(out));
  EXPECT_EQ(to_hex(out), kChromiumVp8Packet);
  EXPECT_EQ(*builder.size(), out.size());
}

TEST(RtpPacket, MinimalPacket) {
  // RFC 3550 5.1 fixed header only, empty payload.
  const Buffer packet_bytes = hex("800000010000000200000003");
  auto packet = parse_rtp_packet(packet_bytes);
  ASSERT_TRUE(packet);
  EXPECT_FALSE(packet->marker);
  EXPECT_EQ(packet->payload_type, 0);
  EXPECT_EQ(packet->sequence_number, 1);
  EXPECT_FALSE(packet->has_extension);
  EXPECT_TRUE(packet->payload.empty());
}

TEST(RtpPacket, CsrcsAndPadding) {
  // CC=2, P=1: two CSRCs, 3 payload bytes, 4 bytes of padding (the count byte is 04).
  const Buffer bytes =
      hex("a26f000700000008000000090000000100000002"
          "010203"
          "00000004");
  auto packet = parse_rtp_packet(bytes);
  ASSERT_TRUE(packet) << to_string(packet.error());
  EXPECT_EQ(packet->payload_type, 0x6f);
  ASSERT_EQ(packet->csrc_count, 2);
  EXPECT_EQ(packet->csrcs[0], 1u);
  EXPECT_EQ(packet->csrcs[1], 2u);
  EXPECT_EQ(to_hex(packet->payload), "010203");
  EXPECT_EQ(packet->padding_size, 4u);

  RtpPacketBuilder builder;
  const Buffer payload = hex("010203");
  builder.set_payload_type(0x6f)
      .set_sequence_number(7)
      .set_timestamp(8)
      .set_ssrc(9)
      .add_csrc(1)
      .add_csrc(2)
      .set_payload(payload)
      .set_padding(4);
  Buffer out;
  ASSERT_TRUE(builder.write(out));
  EXPECT_EQ(to_hex(out), to_hex(bytes));
}

TEST(RtpPacket, PaddingOnlyPacket) {
  // A packet that is all padding (as sent for bandwidth probing) has an empty payload.
  const Buffer packet_bytes = hex("a0000001000000020000000300000004");
  auto packet = parse_rtp_packet(packet_bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->payload.empty());
  EXPECT_EQ(packet->padding_size, 4u);
}

TEST(RtpPacket, TwoByteFormWhenAnIdOrLengthNeedsIt) {
  const Buffer long_value(std::vector<std::uint8_t>(17, 0xAB));
  struct Case {
    std::uint8_t id;
    BytesView data;
  };
  const Buffer one = hex("01");
  for (const Case& c : {Case{15, one}, Case{1, BytesView{}}, Case{1, long_value}}) {
    RtpPacketBuilder builder;
    builder.set_payload_type(96).add_extension(c.id, c.data);
    EXPECT_TRUE(builder.uses_two_byte_extensions());
    Buffer out;
    ASSERT_TRUE(builder.write(out));
    auto packet = parse_rtp_packet(out);
    ASSERT_TRUE(packet);
    EXPECT_TRUE(packet->has_two_byte_extensions());
    ASSERT_TRUE(packet->extension(c.id));
    EXPECT_TRUE(equal_bytes(*packet->extension(c.id), c.data));
  }
}

TEST(RtpPacket, TwoByteFormBytes) {
  // RFC 8285 4.3: profile 0x100 + appbits, then id, length, data; a zero-length element.
  RtpPacketBuilder builder;
  const Buffer data = hex("aabb");
  builder.set_payload_type(96).add_extension(200, data).add_extension(7, BytesView{});
  Buffer out;
  ASSERT_TRUE(builder.write(out));
  EXPECT_EQ(to_hex(out),
            "906000000000000000000000"
            "10000002"
            "c802aabb"
            "07000000");
  auto packet = parse_rtp_packet(out);
  ASSERT_TRUE(packet);
  EXPECT_EQ(to_hex(*packet->extension(200)), "aabb");
  ASSERT_TRUE(packet->extension(7));
  EXPECT_TRUE(packet->extension(7)->empty());
}

TEST(RtpPacket, TwoByteFormAcceptsAppBits) {
  const Buffer packet_bytes =
      hex("906000000000000000000000"
          "100f0001"
          "05010100");
  auto packet = parse_rtp_packet(packet_bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->has_two_byte_extensions());
  EXPECT_EQ(to_hex(*packet->extension(5)), "01");
}

TEST(RtpPacket, OneByteFormSkipsPaddingAndStopsAtId15) {
  // Padding bytes between elements, then id 15, after which nothing counts (RFC 8285 4.2).
  const Buffer packet_bytes =
      hex("906000000000000000000000"
          "bede0002"
          "0010aa00"
          "f0200bcc");
  auto packet = parse_rtp_packet(packet_bytes);
  ASSERT_TRUE(packet) << to_string(packet.error());
  EXPECT_EQ(to_hex(*packet->extension(1)), "aa");
  EXPECT_FALSE(packet->extension(2));
  int count = 0;
  auto it = packet->extensions();
  while (it.next()) ++count;
  EXPECT_EQ(count, 1);
}

TEST(RtpPacket, OtherExtensionProfilesStayUninterpreted) {
  const Buffer packet_bytes =
      hex("906000000000000000000000"
          "abcd0001"
          "ffffffff"
          "77");
  auto packet = parse_rtp_packet(packet_bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->has_extension);
  EXPECT_EQ(packet->extension_profile, 0xabcd);
  EXPECT_EQ(to_hex(packet->extension_data), "ffffffff");
  EXPECT_FALSE(packet->has_one_byte_extensions());
  EXPECT_FALSE(packet->extensions().next());
  EXPECT_EQ(to_hex(packet->payload), "77");
}

TEST(RtpPacket, RejectsMalformedPackets) {
  struct Case {
    const char* hex;
    RtpParseError error;
  };
  const Case cases[] = {
      {"", RtpParseError::kTooShort},
      {"80000001000000020000", RtpParseError::kTooShort},  // truncated fixed header
      {"400000010000000200000003", RtpParseError::kBadVersion},
      {"c00000010000000200000003", RtpParseError::kBadVersion},
      // CC=2 with one CSRC present.
      {"8200000100000002000000030000000a", RtpParseError::kCsrcBeyondEnd},
      // CC=15 and nothing after the fixed header.
      {"8f0000010000000200000003", RtpParseError::kCsrcBeyondEnd},
      // X with the extension header cut short.
      {"900000010000000200000003bede", RtpParseError::kExtensionBeyondEnd},
      // Extension length 2 words, 1 present.
      {"900000010000000200000003bede000210aa0000", RtpParseError::kExtensionBeyondEnd},
      // Extension length 0xffff words.
      {"900000010000000200000003bedeffff", RtpParseError::kExtensionBeyondEnd},
      // One-byte element of 4 bytes (L=3) in a 4-byte block.
      {"900000010000000200000003bede000113aabbcc", RtpParseError::kBadExtension},
      // Two-byte element claiming 5 bytes in a 4-byte block.
      {"90000001000000020000000310000001 0105aabb", RtpParseError::kBadExtension},
      // Two-byte element header cut by the block end.
      {"9000000100000002000000031000000100000001", RtpParseError::kBadExtension},
      // P with nothing after the header.
      {"a00000010000000200000003", RtpParseError::kBadPadding},
      // P with a zero count.
      {"a0000001000000020000000301020300", RtpParseError::kBadPadding},
      // Padding larger than the packet after its header.
      {"a0000001000000020000000301020305", RtpParseError::kBadPadding},
      // Padding reaching into the extension.
      {"b00000010000000200000003bede000110aa000006", RtpParseError::kBadPadding},
  };
  for (const Case& c : cases) {
    std::string text(c.hex);
    std::erase(text, ' ');
    const Buffer bytes = hex(text);
    auto packet = parse_rtp_packet(bytes);
    ASSERT_FALSE(packet) << c.hex;
    EXPECT_EQ(packet.error(), c.error) << c.hex << ": " << to_string(packet.error());
  }
}

TEST(RtpPacket, EveryTruncationOfAValidPacketIsRejectedOrShorter) {
  // Cutting the Chromium packet anywhere inside its header never parses a header.
  const Buffer bytes = hex(kChromiumVp8Packet);
  for (std::size_t size = 0; size < 28; ++size) {
    EXPECT_FALSE(parse_rtp_packet(BytesView(bytes.data(), size))) << size;
  }
  for (std::size_t size = 28; size <= bytes.size(); ++size) {
    auto packet = parse_rtp_packet(BytesView(bytes.data(), size));
    ASSERT_TRUE(packet) << size;
    EXPECT_EQ(packet->payload.size(), size - 28);
  }
}

TEST(RtpPacket, BuilderRefusesWhatTheWireCannotCarry) {
  EXPECT_EQ(RtpPacketBuilder().set_payload_type(128).size().error(),
            RtpBuildError::kBadPayloadType);
  RtpPacketBuilder csrcs;
  for (int i = 0; i < 16; ++i) csrcs.add_csrc(static_cast<std::uint32_t>(i));
  EXPECT_EQ(csrcs.size().error(), RtpBuildError::kTooManyCsrcs);
  const Buffer data = hex("01");
  EXPECT_EQ(RtpPacketBuilder().add_extension(0, data).size().error(),
            RtpBuildError::kBadExtensionId);
  EXPECT_EQ(RtpPacketBuilder().add_extension(1, data).add_extension(1, data).size().error(),
            RtpBuildError::kDuplicateExtensionId);
  const Buffer too_long(std::vector<std::uint8_t>(256, 0));
  EXPECT_EQ(RtpPacketBuilder().add_extension(1, too_long).size().error(),
            RtpBuildError::kExtensionTooLong);
  RtpPacketBuilder many;
  for (int id = 1; id <= 17; ++id) many.add_extension(static_cast<std::uint8_t>(id), data);
  EXPECT_EQ(many.size().error(), RtpBuildError::kTooManyExtensions);

  // A fixed output too small takes nothing.
  std::uint8_t small[11] = {};
  EXPECT_EQ(RtpPacketBuilder().write(MutableBytesView(small)).error(), RtpBuildError::kNoRoom);
  std::uint8_t exact[12] = {};
  auto written = RtpPacketBuilder().set_sequence_number(5).write(MutableBytesView(exact));
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, 12u);
  EXPECT_EQ(to_hex(BytesView(exact)), "800000050000000000000000");
}

TEST(RtpPacket, RoundTripsEveryField) {
  const Buffer payload = hex("deadbeef");
  const Buffer e1 = hex("01020304050607080910111213141516");  // 16 bytes: still one-byte form
  const Buffer e2 = hex("ff");
  RtpPacketBuilder builder;
  builder.set_marker(true)
      .set_payload_type(127)
      .set_sequence_number(65535)
      .set_timestamp(0xffffffff)
      .set_ssrc(0xdeadbeef)
      .add_csrc(0xaaaaaaaa)
      .add_extension(14, e1)
      .add_extension(1, e2)
      .set_payload(payload)
      .set_padding(255);
  Buffer out;
  ASSERT_TRUE(builder.write(out));
  auto packet = parse_rtp_packet(out);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->marker);
  EXPECT_EQ(packet->payload_type, 127);
  EXPECT_EQ(packet->sequence_number, 65535);
  EXPECT_EQ(packet->timestamp, 0xffffffffu);
  EXPECT_EQ(packet->ssrc, 0xdeadbeefu);
  EXPECT_EQ(packet->csrcs[0], 0xaaaaaaaau);
  EXPECT_TRUE(packet->has_one_byte_extensions());
  EXPECT_TRUE(equal_bytes(*packet->extension(14), e1));
  EXPECT_TRUE(equal_bytes(*packet->extension(1), e2));
  EXPECT_TRUE(equal_bytes(packet->payload, payload));
  EXPECT_EQ(packet->padding_size, 255u);
}

TEST(RtpUnwrap, SequenceNumbersAcrossTheWrap) {
  SequenceNumberUnwrapper unwrapper;
  EXPECT_EQ(unwrapper.unwrap(65533), 65533);
  EXPECT_EQ(unwrapper.unwrap(65535), 65535);
  EXPECT_EQ(unwrapper.unwrap(1), 65537);
  EXPECT_EQ(unwrapper.unwrap(65534), 65534);  // reordered from before the wrap
  EXPECT_EQ(unwrapper.unwrap(2), 65538);
  // Three more full cycles, in steps under half the space.
  std::int64_t value = 0;
  for (int step = 0; step < 6; ++step)
    value = unwrapper.unwrap(static_cast<std::uint16_t>(2 + 32767 * (step + 1)));
  EXPECT_EQ(value, 65538 + 6 * 32767);
}

TEST(RtpUnwrap, TimestampsAcrossTheWrap) {
  TimestampUnwrapper unwrapper;
  EXPECT_EQ(unwrapper.unwrap(0xfffff000u), 0xfffff000);
  EXPECT_EQ(unwrapper.unwrap(0x00000b00u), 0x100000b00);
  EXPECT_EQ(unwrapper.unwrap(0xffffff00u), 0xffffff00);  // an older frame, reordered
  EXPECT_EQ(unwrapper.unwrap(0x00100000u), 0x100100000);
}

}  // namespace
}  // namespace rtcpp::rtp
