#include "base/byte_writer.hpp"

#include <gtest/gtest.h>

#include "base/byte_reader.hpp"

namespace rtcpp {
namespace {

TEST(ByteWriter, FixedModeWritesBigEndian) {
  std::uint8_t out[16] = {};
  ByteWriter w(out);
  EXPECT_TRUE(w.write_u8(0x01));
  EXPECT_TRUE(w.write_u16(0x0203));
  EXPECT_TRUE(w.write_u24(0x040506));
  EXPECT_TRUE(w.write_u32(0x0708090a));
  EXPECT_TRUE(w.write_u48(0x0b0c0d0e0f10));
  EXPECT_FALSE(w.write_u8(0x11));  // full
  const std::uint8_t expected[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  ASSERT_EQ(w.position(), 16u);
  EXPECT_TRUE(equal_bytes(w.written(), expected));
}

TEST(ByteWriter, OverflowWritesNothingAndStaysFailed) {
  std::uint8_t out[3] = {0xEE, 0xEE, 0xEE};
  ByteWriter w(out);
  EXPECT_TRUE(w.write_u16(0x1234));
  EXPECT_FALSE(w.write_u16(0x5678));
  EXPECT_EQ(out[2], 0xEE);  // the failed write touched nothing
  EXPECT_FALSE(w.ok());
  EXPECT_FALSE(w.write_u8(0x01));  // sticky failure: even a fitting write is refused
  EXPECT_EQ(out[2], 0xEE);
  EXPECT_EQ(w.position(), 2u);
}

TEST(ByteWriter, GrowingModeAppendsToBuffer) {
  Buffer buf = {0xAA};
  ByteWriter w(buf);
  EXPECT_EQ(w.position(), 1u);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(w.write_u32(static_cast<std::uint32_t>(i)));
  EXPECT_TRUE(w.ok());
  ASSERT_EQ(buf.size(), 4001u);
  ByteReader r(buf);
  EXPECT_EQ(*r.read_u8(), 0xAA);
  for (std::uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(*r.read_u32(), i);
}

TEST(ByteWriter, PaddingAndPatching) {
  Buffer buf;
  ByteWriter w(buf);
  ASSERT_TRUE(w.write_u16(0));  // length placeholder
  ASSERT_TRUE(w.write_bytes(as_bytes("abc")));
  ASSERT_TRUE(w.pad_to(4));
  EXPECT_EQ(w.position(), 8u);
  ASSERT_TRUE(w.patch_u16(0, 3));
  EXPECT_EQ(load_be16(buf.data()), 3);
  EXPECT_EQ(buf[5], 0);
  EXPECT_EQ(buf[7], 0);
  EXPECT_FALSE(w.patch_u16(7, 1));  // would write past the end
  EXPECT_FALSE(w.patch_u32(100, 1));
  ASSERT_TRUE(w.patch_u32(4, 0x01020304));
  EXPECT_EQ(load_be32(buf.data() + 4), 0x01020304u);
}

TEST(ByteWriter, ReserveBeyondFixedCapacityFails) {
  std::uint8_t out[8];
  ByteWriter w(out);
  EXPECT_EQ(w.reserve(9), nullptr);
  EXPECT_FALSE(w.ok());
  ByteWriter w2(out);
  EXPECT_NE(w2.reserve(8), nullptr);
  EXPECT_EQ(w2.remaining(), 0u);
  EXPECT_TRUE(w2.write_bytes(BytesView{}));  // empty writes always fit
  EXPECT_TRUE(w2.write_zeros(0));
}

TEST(ByteWriter, RoundTripsWithReader) {
  Buffer buf;
  ByteWriter w(buf);
  w.write_u64(0x0123456789abcdefULL);
  w.write_u24(0xfedcba);
  w.write_bytes(as_bytes("hi"));
  ASSERT_TRUE(w.ok());
  ByteReader r(buf);
  EXPECT_EQ(*r.read_u64(), 0x0123456789abcdefULL);
  EXPECT_EQ(*r.read_u24(), 0xfedcbau);
  EXPECT_EQ(as_string(*r.read_bytes(2)), "hi");
  EXPECT_TRUE(r.empty());
}

}  // namespace
}  // namespace rtcpp
