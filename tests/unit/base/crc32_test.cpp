#include "base/crc32.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "base/random.hpp"

namespace rtcpp {
namespace {

TEST(Crc32, CheckValues) {
  EXPECT_EQ(crc32(as_bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32(BytesView{}), 0u);
  EXPECT_EQ(crc32(as_bytes("The quick brown fox jumps over the lazy dog")), 0x414FA339u);
}

TEST(Crc32, ExtendEqualsWholeAtEverySplit) {
  std::vector<std::uint8_t> data(67);
  SeededRandom(4).fill(data);
  const auto whole = crc32(data);
  for (std::size_t split = 0; split <= data.size(); ++split) {
    BytesView all(data);
    ASSERT_EQ(crc32_extend(crc32(all.first(split)), all.subspan(split)), whole) << split;
  }
}

}  // namespace
}  // namespace rtcpp
