#include "base/byte_reader.hpp"

#include <gtest/gtest.h>

namespace rtcpp {
namespace {

TEST(ByteReader, ReadsBigEndianFields) {
  const std::uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                               0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
                               0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
  ByteReader r(data);
  EXPECT_EQ(*r.read_u8(), 0x01);
  EXPECT_EQ(*r.read_u16(), 0x0203);
  EXPECT_EQ(*r.read_u24(), 0x040506u);
  EXPECT_EQ(*r.read_u32(), 0x0708090au);
  EXPECT_EQ(*r.read_u48(), 0x0b0c0d0e0f10ull);
  EXPECT_EQ(*r.read_u64(), 0x1112131415161718ull);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.position(), sizeof data);
}

TEST(ByteReader, ReadPastEndIsAnErrorAndConsumesNothing) {
  const std::uint8_t data[] = {0xAA, 0xBB, 0xCC};
  ByteReader r(data);
  auto v = r.read_u32();
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error(), ReadError::kTruncated);
  EXPECT_EQ(r.position(), 0u);
  EXPECT_EQ(*r.read_u16(), 0xAABB);
  EXPECT_FALSE(r.read_u16());
  EXPECT_EQ(*r.read_u8(), 0xCC);
  EXPECT_FALSE(r.read_u8());
  EXPECT_FALSE(r.peek_u8());
  EXPECT_FALSE(r.read_u64());
}

TEST(ByteReader, EmptyInputFailsEveryRead) {
  ByteReader r(BytesView{});
  EXPECT_FALSE(r.read_u8());
  EXPECT_FALSE(r.read_u16());
  EXPECT_FALSE(r.read_u24());
  EXPECT_FALSE(r.read_u32());
  EXPECT_FALSE(r.read_u48());
  EXPECT_FALSE(r.read_u64());
  EXPECT_TRUE(r.read_bytes(0));
  EXPECT_FALSE(r.read_bytes(1));
  EXPECT_FALSE(r.skip(1));
}

TEST(ByteReader, ReadBytesReturnsAViewIntoTheInput) {
  const std::uint8_t data[] = {1, 2, 3, 4, 5};
  ByteReader r(data);
  ASSERT_TRUE(r.skip(1));
  auto view = r.read_bytes(3);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->data(), data + 1);
  EXPECT_EQ(view->size(), 3u);
  EXPECT_FALSE(r.read_bytes(2));
  EXPECT_EQ(r.remaining(), 1u);
  EXPECT_EQ(r.rest()[0], 5);
}

TEST(ByteReader, HugeLengthDoesNotOverflow) {
  const std::uint8_t data[] = {1, 2};
  ByteReader r(data);
  ASSERT_TRUE(r.skip(1));
  EXPECT_FALSE(r.read_bytes(SIZE_MAX));
  EXPECT_FALSE(r.skip(SIZE_MAX));
  EXPECT_EQ(r.position(), 1u);
}

TEST(ByteReader, AlignSkipsPaddingFromStart) {
  const std::uint8_t data[] = {1, 0, 0, 0, 2, 0, 0};
  ByteReader r(data);
  ASSERT_TRUE(r.read_u8());
  ASSERT_TRUE(r.align(4));
  EXPECT_EQ(r.position(), 4u);
  ASSERT_TRUE(r.align(4));  // already aligned: no-op
  EXPECT_EQ(r.position(), 4u);
  ASSERT_TRUE(r.read_u8());
  EXPECT_FALSE(r.align(4));  // needs 3, only 2 left
  EXPECT_EQ(r.position(), 5u);
}

TEST(ByteReader, SubReaderIsBoundedAndAdvancesParent) {
  const std::uint8_t data[] = {0, 2, 0xAB, 0xCD, 0xEF};
  ByteReader r(data);
  const auto length = *r.read_u16();
  auto sub = r.sub_reader(length);
  ASSERT_TRUE(sub);
  EXPECT_EQ(*sub->read_u16(), 0xABCD);
  EXPECT_FALSE(sub->read_u8());  // cannot read into the parent's remaining byte
  EXPECT_EQ(*r.read_u8(), 0xEF);
}

TEST(ByteReader, ReadIntoCopies) {
  const std::uint8_t data[] = {9, 8, 7};
  ByteReader r(data);
  std::uint8_t out[2] = {};
  ASSERT_TRUE(r.read_into(out));
  EXPECT_EQ(out[0], 9);
  EXPECT_EQ(out[1], 8);
  EXPECT_FALSE(r.read_into(out));
  EXPECT_EQ(r.remaining(), 1u);
}

TEST(ByteReader, LoadStoreHelpersRoundTrip) {
  std::uint8_t buf[4];
  store_be32(buf, 0xDEADBEEF);
  EXPECT_EQ(buf[0], 0xDE);
  EXPECT_EQ(load_be32(buf), 0xDEADBEEFu);
  store_be16(buf, 0x1234);
  EXPECT_EQ(load_be16(buf), 0x1234);
}

}  // namespace
}  // namespace rtcpp
