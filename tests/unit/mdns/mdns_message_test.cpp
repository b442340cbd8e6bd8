#include "mdns/mdns_message.hpp"

#include <gtest/gtest.h>

namespace rtcpp::mdns {
namespace {

const std::string kName = "78485525-a46e-4d71-8a17-345e8ba3af6c.local";

void put_name(Buffer& b, std::string_view name) {
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    b.push_back(static_cast<std::uint8_t>(dot - start));
    for (std::size_t i = start; i < dot; ++i) b.push_back(static_cast<std::uint8_t>(name[i]));
    start = dot + 1;
  }
  b.push_back(0);
}

void put_u16(Buffer& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

// A response with an A record for kName (cache-flush class) and an AAAA one whose name is a
// compression pointer to the first.
Buffer response() {
  Buffer b;
  for (std::uint16_t v : {0, 0x8400, 0, 2, 0, 0}) put_u16(b, v);
  put_name(b, kName);
  for (std::uint16_t v : {1, 0x8001, 0, 120, 4}) put_u16(b, v);
  for (std::uint8_t v : {10, 9, 0, 1}) b.push_back(v);
  for (std::uint16_t v : {0xC00C, 28, 0x0001, 0, 120, 16}) put_u16(b, v);
  for (int i = 0; i < 15; ++i) b.push_back(0);
  b.push_back(1);
  return b;
}

TEST(Mdns, LocalHostnames) {
  EXPECT_TRUE(is_local_hostname(kName));
  EXPECT_TRUE(is_local_hostname("host-1.LOCAL"));
  EXPECT_FALSE(is_local_hostname(".local"));
  EXPECT_FALSE(is_local_hostname("a..local"));
  EXPECT_FALSE(is_local_hostname("10.0.0.1"));
  EXPECT_FALSE(is_local_hostname("a b.local"));
  EXPECT_FALSE(is_local_hostname("example.com"));
  EXPECT_FALSE(is_local_hostname(std::string(64, 'a') + ".local"));
  EXPECT_FALSE(is_local_hostname(std::string(300, 'a')));
}

TEST(Mdns, QueryAsksForBothFamiliesWithAUnicastAnswer) {
  auto query = build_query(kName, 0x1234);
  ASSERT_TRUE(query);
  const Buffer& q = *query;
  ASSERT_GT(q.size(), 12u);
  EXPECT_EQ(q[0], 0x12);
  EXPECT_EQ(q[1], 0x34);
  EXPECT_EQ(q[5], 2);  // two questions
  // First question: the name, then type A (1) and class IN with the QU bit (0x8001).
  const std::size_t name_length = kName.size() + 2;
  EXPECT_EQ(q[12], 36);  // the uuid label
  EXPECT_EQ(q[12 + name_length - 1], 0);
  EXPECT_EQ(q[12 + name_length + 1], 1);
  EXPECT_EQ(q[12 + name_length + 2], 0x80);
  EXPECT_EQ(q.size(), 12 + 2 * (name_length + 4));
  EXPECT_FALSE(build_query("example.com", 1));
}

TEST(Mdns, ParsesAddressRecordsWithCompression) {
  auto records = parse_response(response());
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].name, kName);
  EXPECT_EQ((*records)[0].address.to_string(), "10.9.0.1");
  EXPECT_EQ((*records)[0].ttl, 120u);
  EXPECT_EQ((*records)[1].name, kName);
  EXPECT_EQ((*records)[1].address.to_string(), "::1");
}

TEST(Mdns, RejectsQueriesAndMalformedResponses) {
  // Our own query, looped back: not a response.
  EXPECT_EQ(parse_response(*build_query(kName, 1)).error(), MdnsError::kNotResponse);
  // Every truncation is an error, never a crash.
  const Buffer full = response();
  for (std::size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(parse_response(BytesView(full.data(), n))) << n;
  }
  // A pointer to itself, and one pointing forwards: loops are refused.
  Buffer loop;
  for (std::uint16_t v : {0, 0x8400, 0, 1, 0, 0}) put_u16(loop, v);
  put_u16(loop, 0xC00C);
  for (std::uint16_t v : {1, 1, 0, 120, 4, 0, 0}) put_u16(loop, v);
  EXPECT_EQ(parse_response(loop).error(), MdnsError::kMalformed);
  Buffer forward = loop;
  forward[12] = 0xC0;
  forward[13] = 0x20;
  EXPECT_EQ(parse_response(forward).error(), MdnsError::kMalformed);
  // More records than anyone needs.
  Buffer many;
  for (std::uint16_t v : {0, 0x8400, 0, 1000, 0, 0}) put_u16(many, v);
  EXPECT_EQ(parse_response(many).error(), MdnsError::kMalformed);
}

}  // namespace
}  // namespace rtcpp::mdns
