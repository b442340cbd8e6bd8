#include "ice/candidate.hpp"

#include <gtest/gtest.h>

namespace rtcpp::ice {
namespace {

TEST(Candidate, ParsesChromiumHostAndWritesItBackExactly) {
  const std::string line =
      "candidate:2472052021 1 udp 2122260223 127.0.0.1 39264 typ host generation 0 ufrag C/TQ "
      "network-id 1 network-cost 50";
  auto c = Candidate::parse(line);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->foundation, "2472052021");
  EXPECT_EQ(c->component, 1);
  EXPECT_EQ(c->protocol, TransportProtocol::kUdp);
  EXPECT_EQ(c->priority, 2122260223u);
  EXPECT_EQ(c->address, "127.0.0.1");
  EXPECT_EQ(c->port, 39264);
  EXPECT_EQ(c->type, CandidateType::kHost);
  EXPECT_EQ(c->generation, 0u);
  EXPECT_EQ(c->ufrag, "C/TQ");
  EXPECT_EQ(c->network_id, 1u);
  EXPECT_EQ(c->network_cost, 50u);
  EXPECT_EQ(c->socket_address()->to_string(), "127.0.0.1:39264");
  EXPECT_EQ(c->to_string(), line);
}

TEST(Candidate, ParsesFirefoxAndPion) {
  auto ff = Candidate::parse("candidate:0 1 UDP 2122187007 127.0.0.1 60983 typ host");
  ASSERT_TRUE(ff);
  EXPECT_EQ(ff->protocol, TransportProtocol::kUdp);
  EXPECT_EQ(ff->to_string(), "candidate:0 1 udp 2122187007 127.0.0.1 60983 typ host");
  auto pion =
      Candidate::parse("a=candidate:2878742611 1 udp 2130706431 127.0.0.1 38750 typ host\r\n");
  ASSERT_TRUE(pion);
  EXPECT_EQ(pion->port, 38750);
}

TEST(Candidate, ServerReflexiveRelayAndTcp) {
  const std::string srflx =
      "candidate:842163049 1 udp 1677729535 203.0.113.5 61000 typ srflx raddr 10.0.0.2 rport "
      "54321 generation 0 ufrag abcd network-cost 999";
  auto s = Candidate::parse(srflx);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->type, CandidateType::kServerReflexive);
  EXPECT_EQ(s->related_address, "10.0.0.2");
  EXPECT_EQ(s->related_port, 54321);
  EXPECT_EQ(s->to_string(), srflx);

  const std::string tcp =
      "candidate:1 1 tcp 1518280447 192.168.1.2 9 typ host tcptype active generation 0";
  auto t = Candidate::parse(tcp);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->protocol, TransportProtocol::kTcp);
  EXPECT_EQ(t->tcp_type, TcpType::kActive);
  EXPECT_EQ(t->to_string(), tcp);

  auto relay = Candidate::parse(
      "candidate:3 1 udp 41885439 198.51.100.9 50000 typ relay raddr 203.0.113.5 rport 61000");
  ASSERT_TRUE(relay);
  EXPECT_EQ(relay->type, CandidateType::kRelayed);
}

TEST(Candidate, MdnsHostnamesAndIpv6) {
  auto m = Candidate::parse(
      "candidate:1 1 udp 2113937151 3f2e1a6c-12ab-4cde-9f00-0123456789ab.local 51234 typ host "
      "generation 0");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is_mdns());
  EXPECT_FALSE(m->ip());
  EXPECT_FALSE(m->socket_address());
  auto v6 = Candidate::parse("candidate:5 1 udp 2122262783 2001:db8::5 40000 typ host");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->socket_address()->to_string(), "[2001:db8::5]:40000");
  EXPECT_FALSE(v6->is_mdns());
}

TEST(Candidate, KeepsUnknownExtensionsInOrder) {
  const std::string line = "candidate:7 1 udp 100 10.0.0.1 5000 typ host foo bar baz 1";
  auto c = Candidate::parse(line);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->extensions.size(), 2u);
  EXPECT_EQ(c->extensions[0].first, "foo");
  EXPECT_EQ(c->extensions[1].second, "1");
  EXPECT_EQ(c->to_string(), line);
}

TEST(Candidate, RejectsMalformed) {
  const char* bad[] = {
      "",
      "candidate:",
      "candidate:1 1 udp 100 10.0.0.1 5000 typ",                  // no type
      "candidate:1 1 udp 100 10.0.0.1 5000 type host",            // "typ" misspelt
      "candidate:1 1 sctp 100 10.0.0.1 5000 typ host",            // transport
      "candidate:1 0 udp 100 10.0.0.1 5000 typ host",             // component 0
      "candidate:1 257 udp 100 10.0.0.1 5000 typ host",           // component too big
      "candidate:1 1 udp 0 10.0.0.1 5000 typ host",               // priority 0
      "candidate:1 1 udp 4294967296 10.0.0.1 5000 typ host",      // priority overflow
      "candidate:1 1 udp -5 10.0.0.1 5000 typ host",              // negative
      "candidate:1 1 udp 100 10.0.0.1 65536 typ host",            // port overflow
      "candidate:1 1 udp 100 10.0.0.1 5000 typ bogus",            // type
      "candidate:1 1 udp 100 bad..host 5000 typ host",            // address
      "candidate:1 1 udp 100 10.0.0.1 5000 typ host generation",  // dangling
      "candidate:1 1 udp 100 10.0.0.1 5000 typ host rport x",     // rport
      "candidate:1 1 tcp 100 10.0.0.1 5000 typ host",             // tcp without tcptype
      "candidate:1 1 udp 100 10.0.0.1 5000 typ host tcptype active",
      "candidate:1 1 tcp 100 10.0.0.1 5000 typ host tcptype sideways",
      "candidate:abc#def 1 udp 100 10.0.0.1 5000 typ host",                      // foundation chars
      "candidate:123456789012345678901234567890123 1 udp 1 1.1.1.1 1 typ host",  // 33 chars
      "candidate:1 1 udp 100 10.0.0.1 5000 typ host  generation 0",              // double space
  };
  for (const char* text : bad) {
    auto c = Candidate::parse(text);
    EXPECT_FALSE(c) << text;
    if (!c) {
      EXPECT_EQ(c.error().type(), RTCErrorType::kSyntaxError);
    }
  }
  EXPECT_FALSE(Candidate::parse(std::string(2000, 'a')));
  std::string many = "candidate:1 1 udp 100 10.0.0.1 5000 typ host";
  for (int i = 0; i < 40; ++i) many += " x y";
  EXPECT_FALSE(Candidate::parse(many));
}

TEST(Candidate, PriorityFormula) {
  // RFC 8445 5.1.2.1 with the recommended preferences: a host candidate, local preference
  // 65535, component 1.
  EXPECT_EQ(compute_priority(recommended_type_preference(CandidateType::kHost), 65535, 1),
            2130706431u);
  EXPECT_EQ(compute_priority(recommended_type_preference(CandidateType::kRelayed), 65535, 1),
            16777215u);
  EXPECT_GT(compute_priority(100, 0, 1), compute_priority(100, 0, 2));
}

}  // namespace
TEST(Candidate, ALongestCandidateWithoutPrefixWritesBackIntoALineThatParses) {
  // Found by the ice_candidate fuzz target: 1020 bytes without "candidate:" parsed, and its
  // written form, 10 bytes longer, was refused as too long.
  std::string line = "c76 1 udp 2122206223 127.0.0.1 52906 typ host x ";
  line += std::string(kMaxCandidateLength - line.size(), 'y');
  ASSERT_EQ(line.size(), kMaxCandidateLength);
  auto c = Candidate::parse(line);
  ASSERT_TRUE(c) << c.error().message();
  auto again = Candidate::parse(c->to_string());
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(*again, *c);
  EXPECT_FALSE(Candidate::parse(line + "y"));
}

}  // namespace rtcpp::ice
