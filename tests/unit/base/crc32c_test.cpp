#include "base/crc32c.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "base/random.hpp"

namespace rtcpp {
namespace {

// Check values from RFC 3720 appendix B.4 (iSCSI uses the same CRC32c as SCTP).
TEST(Crc32c, Rfc3720Vectors) {
  std::vector<std::uint8_t> zeros(32, 0x00);
  std::vector<std::uint8_t> ones(32, 0xFF);
  std::vector<std::uint8_t> incrementing(32);
  std::vector<std::uint8_t> decrementing(32);
  for (int i = 0; i < 32; ++i) {
    incrementing[i] = static_cast<std::uint8_t>(i);
    decrementing[i] = static_cast<std::uint8_t>(31 - i);
  }
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(crc32c(incrementing), 0x46DD794Eu);
  EXPECT_EQ(crc32c(decrementing), 0x113FDB5Cu);
}

TEST(Crc32c, CheckValue) {
  EXPECT_EQ(crc32c(as_bytes("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(BytesView{}), 0u);
}

TEST(Crc32c, TableAndHardwareAgreeOnEveryLengthAndAlignment) {
  SeededRandom rng(7);
  std::vector<std::uint8_t> data(4096 + 16);
  rng.fill(data);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t len : {0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4096}) {
      BytesView view(data.data() + offset, len);
      ASSERT_EQ(crc32c_extend_table(0, view), crc32c_extend_hardware(0, view))
          << "offset " << offset << " len " << len;
    }
  }
}

TEST(Crc32c, ExtendEqualsWhole) {
  SeededRandom rng(3);
  std::vector<std::uint8_t> data(1500);
  rng.fill(data);
  const auto whole = crc32c(data);
  for (std::size_t split : {0, 1, 12, 700, 1499, 1500}) {
    BytesView all(data);
    EXPECT_EQ(crc32c_extend(crc32c(all.first(split)), all.subspan(split)), whole);
    EXPECT_EQ(crc32c_extend_table(crc32c_extend_table(0, all.first(split)), all.subspan(split)),
              whole);
  }
}

TEST(Crc32c, DetectsSingleBitFlips) {
  std::vector<std::uint8_t> data(256, 0x5A);
  const auto reference = crc32c(data);
  for (std::size_t bit = 0; bit < data.size() * 8; bit += 37) {
    data[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_NE(crc32c(data), reference);
    data[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  }
}

}  // namespace
}  // namespace rtcpp
