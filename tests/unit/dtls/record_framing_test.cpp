#include "dtls/record_framing.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rtcpp::dtls {
namespace {

// A record with the given type, epoch, sequence number and body.
std::vector<std::uint8_t> record(std::uint8_t type, std::uint16_t epoch, std::uint64_t sequence,
                                 std::size_t body_size, std::uint8_t fill = 0xab) {
  std::vector<std::uint8_t> r(kDtlsRecordHeaderSize + body_size, fill);
  r[0] = type;
  r[1] = 0xfe;
  r[2] = 0xfd;
  r[3] = static_cast<std::uint8_t>(epoch >> 8);
  r[4] = static_cast<std::uint8_t>(epoch);
  write_record_sequence(r.data(), sequence);
  r[11] = static_cast<std::uint8_t>(body_size >> 8);
  r[12] = static_cast<std::uint8_t>(body_size);
  return r;
}

std::vector<std::uint8_t> concat(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

BytesView view(const std::vector<std::uint8_t>& v) {
  return BytesView(v.data(), v.size());
}

TEST(RecordFraming, WalksEachRecordWithItsFields) {
  const auto datagram =
      concat({record(kContentHandshake, 0, 7, 20), record(kContentChangeCipherSpec, 0, 8, 1),
              record(kContentHandshake, 1, 0xa1b2c3d4e5f6, 40, 0x11)});
  std::vector<RecordView> seen;
  for_each_record(view(datagram), [&](const RecordView& r) { seen.push_back(r); });
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].type, kContentHandshake);
  EXPECT_EQ(seen[0].epoch, 0);
  EXPECT_EQ(seen[0].sequence, 7u);
  EXPECT_EQ(seen[0].offset, 0u);
  EXPECT_EQ(seen[0].record.size(), kDtlsRecordHeaderSize + 20);
  EXPECT_EQ(seen[0].body.size(), 20u);
  EXPECT_EQ(seen[1].type, kContentChangeCipherSpec);
  EXPECT_EQ(seen[1].offset, kDtlsRecordHeaderSize + 20);
  EXPECT_EQ(seen[2].epoch, 1);
  EXPECT_EQ(seen[2].sequence, 0xa1b2c3d4e5f6u);
  EXPECT_EQ(seen[2].offset, 2 * kDtlsRecordHeaderSize + 21);
  EXPECT_EQ(seen[2].body.size(), 40u);
  EXPECT_EQ(seen[2].body[0], 0x11);
  EXPECT_EQ(seen[2].record.data() + kDtlsRecordHeaderSize, seen[2].body.data());
  EXPECT_TRUE(well_framed(view(datagram), 24));
}

TEST(RecordFraming, StopsAtARecordThatRunsPastTheDatagram) {
  auto datagram =
      concat({record(kContentHandshake, 0, 1, 10), record(kContentHandshake, 0, 2, 10)});
  datagram.pop_back();
  int count = 0;
  for_each_record(view(datagram), [&](const RecordView&) { ++count; });
  EXPECT_EQ(count, 1);
  EXPECT_FALSE(well_framed(view(datagram), 16));
}

TEST(RecordFraming, RefusesWhatDtls12DoesNotSend) {
  EXPECT_TRUE(well_framed(view(record(kContentApplicationData, 1, 0, 24)), 24));
  // A protected record too short for the cipher's nonce and tag.
  EXPECT_FALSE(well_framed(view(record(kContentApplicationData, 1, 0, 23)), 24));
  EXPECT_TRUE(well_framed(view(record(kContentHandshake, 0, 0, 0)), 24));
  auto bad_type = record(19, 0, 0, 4);
  EXPECT_FALSE(well_framed(view(bad_type), 16));
  bad_type[0] = 26;
  EXPECT_FALSE(well_framed(view(bad_type), 16));
  auto tls = record(kContentHandshake, 0, 0, 4);
  tls[1] = 0x03;
  tls[2] = 0x03;
  EXPECT_FALSE(well_framed(view(tls), 16));
  auto dtls13 = record(kContentHandshake, 0, 0, 4);
  dtls13[2] = 0xfc;
  EXPECT_FALSE(well_framed(view(dtls13), 16));
  // Bytes after the last record that make no header.
  auto trailing = record(kContentHandshake, 0, 0, 4);
  trailing.push_back(0x16);
  EXPECT_FALSE(well_framed(view(trailing), 16));
}

TEST(RecordFraming, WritesA48BitSequenceNumberAndNothingElse) {
  auto r = record(kContentHandshake, 0, 0, 4, 0x5a);
  const auto before = r;
  write_record_sequence(r.data(), 0xffffffffffffu);
  for (std::size_t i = 5; i < 11; ++i) EXPECT_EQ(r[i], 0xff);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (i < 5 || i >= 11) {
      EXPECT_EQ(r[i], before[i]) << i;
    }
  }
  std::uint64_t read = 0;
  for_each_record(view(r), [&](const RecordView& v) { read = v.sequence; });
  EXPECT_EQ(read, kMaxRecordSequence);
}

}  // namespace
}  // namespace rtcpp::dtls
