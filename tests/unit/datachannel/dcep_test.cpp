#include "datachannel/dcep.hpp"

#include <gtest/gtest.h>

#include "base/hex.hpp"

namespace rtcpp::datachannel {
namespace {

TEST(Dcep, OpenWireFormat) {
  DataChannelOpen open;
  open.ordered = false;
  open.reliability = Reliability::kPartialReliableRetransmit;
  open.priority = 256;
  open.reliability_parameter = 3;
  open.label = "chat";
  open.protocol = "x";
  // RFC 8832 5.1: type 0x03, channel type 0x81, priority, parameter, lengths, label, protocol.
  EXPECT_EQ(to_hex(serialize(open)), "0381010000000003000400016368617478");
}

TEST(Dcep, RoundTripsEveryChannelType) {
  for (bool ordered : {true, false}) {
    for (auto rel : {Reliability::kReliable, Reliability::kPartialReliableRetransmit,
                     Reliability::kPartialReliableTimed}) {
      DataChannelOpen open;
      open.ordered = ordered;
      open.reliability = rel;
      open.reliability_parameter = rel == Reliability::kReliable ? 0 : 1500;
      open.label = "l\xc3\xa9";  // UTF-8
      open.protocol = "";
      auto parsed = parse_dcep(serialize(open));
      ASSERT_TRUE(parsed);
      ASSERT_TRUE(std::holds_alternative<DataChannelOpen>(*parsed));
      EXPECT_EQ(std::get<DataChannelOpen>(*parsed), open);
    }
  }
}

TEST(Dcep, InvalidUtf8InTheLabelIsReplaced) {
  // Label "a\xff" and protocol "\xc3": not UTF-8, as RFC 8832 5.1 asks.
  auto bytes = from_hex("03000000000000000002000161ffc3");
  ASSERT_TRUE(bytes);
  auto parsed = parse_dcep(*bytes);
  ASSERT_TRUE(parsed);
  const auto& open = std::get<DataChannelOpen>(*parsed);
  EXPECT_EQ(open.label, "a\xEF\xBF\xBD");
  EXPECT_EQ(open.protocol, "\xEF\xBF\xBD");
}

TEST(Dcep, Ack) {
  const Buffer ack = serialize(DataChannelAck{});
  EXPECT_EQ(to_hex(ack), "02");
  auto parsed = parse_dcep(ack);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(std::holds_alternative<DataChannelAck>(*parsed));
}

TEST(Dcep, RejectsGarbage) {
  const char* bad[] = {
      "",                            // empty
      "04",                          // unknown type
      "0200",                        // ACK with trailing byte
      "0300",                        // truncated OPEN
      "03000100000000000005000061",  // label longer than the message
      "0303010000000000000000",      // unknown channel type 0x03
      "03000100000000000000000000",  // trailing bytes
  };
  for (const char* hex : bad) {
    auto bytes = from_hex(hex);
    ASSERT_TRUE(bytes);
    EXPECT_FALSE(parse_dcep(*bytes)) << hex;
  }
}

}  // namespace
}  // namespace rtcpp::datachannel
