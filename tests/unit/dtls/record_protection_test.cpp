#include "dtls/record_protection.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rtcpp::dtls {
namespace {

Buffer filled(std::size_t size, std::uint8_t first) {
  Buffer b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(first + i);
  return b;
}

TEST(ReplayWindow, NewNumbersPassAndSeenOnesDoNot) {
  ReplayWindow w;
  EXPECT_TRUE(w.fresh(0));
  EXPECT_TRUE(w.fresh(1000));
  w.mark(5);
  EXPECT_FALSE(w.fresh(5));
  EXPECT_TRUE(w.fresh(4));
  EXPECT_TRUE(w.fresh(6));
  w.mark(3);  // late, within the window
  EXPECT_FALSE(w.fresh(3));
  EXPECT_TRUE(w.fresh(4));
  // Slide by less than a word, by a word and a bit, and past the whole window.
  w.mark(40);
  EXPECT_FALSE(w.fresh(3));
  EXPECT_FALSE(w.fresh(5));
  EXPECT_TRUE(w.fresh(4));
  w.mark(40 + 65);
  EXPECT_FALSE(w.fresh(3));
  EXPECT_FALSE(w.fresh(5));
  EXPECT_FALSE(w.fresh(40));
  EXPECT_TRUE(w.fresh(41));
  w.mark(40 + 65 + 190);  // 295: 5 is now 290 behind, past the window of 256
  EXPECT_FALSE(w.fresh(5));
  EXPECT_FALSE(w.fresh(38));   // 257 behind
  EXPECT_FALSE(w.fresh(105));  // seen, 190 behind
  EXPECT_TRUE(w.fresh(104));
  EXPECT_FALSE(w.fresh(40));  // seen, 255 behind: the window's last place
  EXPECT_TRUE(w.fresh(41));
}

TEST(ReplayWindow, EveryShiftKeepsTheBitsThatStayInside) {
  for (std::uint64_t shift = 1; shift < ReplayWindow::kSize + 3; ++shift) {
    ReplayWindow w;
    // Mark every third number of a full window, then slide.
    for (std::uint64_t s = 1000; s < 1000 + ReplayWindow::kSize; s += 3) w.mark(s);
    const std::uint64_t top = 1000 + ReplayWindow::kSize - 1 + shift;
    w.mark(top);
    for (std::uint64_t s = 1000; s < 1000 + ReplayWindow::kSize; ++s) {
      const bool inside = top - s < ReplayWindow::kSize;
      const bool marked = (s - 1000) % 3 == 0;
      EXPECT_EQ(w.fresh(s), inside && !marked) << "shift " << shift << " number " << s;
    }
  }
}

class RecordCipherTest : public ::testing::TestWithParam<RecordAead> {};

TEST_P(RecordCipherTest, SealedRecordsOpenAndAnyChangeIsRefused) {
  auto keys = derive_epoch_keys(GetParam(), "SHA256", filled(48, 1), filled(32, 2), filled(32, 3));
  ASSERT_TRUE(keys) << keys.error().to_string();
  auto client = RecordCipher::create(GetParam(), keys->client_write_key, keys->client_write_iv);
  auto server = RecordCipher::create(GetParam(), keys->server_write_key, keys->server_write_iv);
  auto reader = RecordCipher::create(GetParam(), keys->client_write_key, keys->client_write_iv);
  ASSERT_TRUE(client && server && reader);
  const std::size_t expected_overhead = GetParam() == RecordAead::kChaCha20Poly1305 ? 16 : 24;
  EXPECT_EQ(client->overhead(), expected_overhead);
  EXPECT_EQ(client->plaintext_offset(), kDtlsRecordHeaderSize + expected_overhead - 16);

  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{1200}, std::size_t{16384}}) {
    const Buffer plaintext = filled(size, 7);
    Buffer record(kDtlsRecordHeaderSize + size + client->overhead());
    ASSERT_TRUE(client->seal(23, 1, 77 + size, plaintext, record.data()));
    EXPECT_EQ(record[0], 23);
    EXPECT_EQ(record[1], 0xfe);
    EXPECT_EQ(record[2], 0xfd);
    EXPECT_EQ(record[4], 1);
    EXPECT_EQ((record[11] << 8) | record[12], static_cast<int>(size + client->overhead()));
    Buffer opened(size);
    ASSERT_TRUE(reader->open(record, opened.data())) << size;
    EXPECT_EQ(opened, plaintext);
    // The other direction's key does not open it.
    EXPECT_FALSE(server->open(record, opened.data()));
    // Sealing in place gives the same record.
    Buffer in_place(record.size());
    std::copy(plaintext.view().begin(), plaintext.view().end(),
              in_place.data() + client->plaintext_offset());
    ASSERT_TRUE(client->seal(23, 1, 77 + size,
                             BytesView(in_place.data() + client->plaintext_offset(), size),
                             in_place.data()));
    EXPECT_EQ(in_place, record);
    // Any changed byte (header: the additional data; body: nonce, ciphertext or tag) fails.
    for (std::size_t i = 0; i < record.size(); i += std::max<std::size_t>(1, record.size() / 97)) {
      if (i == 11 || i == 12) continue;  // the length: framing, checked below
      Buffer changed = record;
      changed[i] ^= 0x40;
      EXPECT_FALSE(reader->open(changed, opened.data())) << "byte " << i << " of " << size;
    }
    // A length field that disagrees with the record, a record shorter than the overhead.
    Buffer cut(record.view().subspan(0, record.size() - 1));
    EXPECT_FALSE(reader->open(cut, opened.data()));
    EXPECT_FALSE(reader->open(record.view().subspan(0, kDtlsRecordHeaderSize + 3), opened.data()));
  }
  // Numbers past 48 bits and records over 2^16 bytes are not sealed.
  Buffer record(kDtlsRecordHeaderSize + 1 + client->overhead());
  EXPECT_FALSE(client->seal(23, 1, kMaxRecordSequence + 1, filled(1, 0), record.data()));
}

INSTANTIATE_TEST_SUITE_P(Aeads, RecordCipherTest,
                         ::testing::Values(RecordAead::kAes128Gcm, RecordAead::kAes256Gcm,
                                           RecordAead::kChaCha20Poly1305));

TEST(EpochKeys, LengthsFollowTheSuite) {
  auto gcm = derive_epoch_keys(RecordAead::kAes128Gcm, "SHA256", filled(48, 1), filled(32, 2),
                               filled(32, 3));
  ASSERT_TRUE(gcm);
  EXPECT_EQ(gcm->client_write_key.size(), 16u);
  EXPECT_EQ(gcm->server_write_iv.size(), 4u);
  EXPECT_NE(gcm->client_write_key, gcm->server_write_key);
  auto gcm256 = derive_epoch_keys(RecordAead::kAes256Gcm, "SHA384", filled(48, 1), filled(32, 2),
                                  filled(32, 3));
  ASSERT_TRUE(gcm256);
  EXPECT_EQ(gcm256->server_write_key.size(), 32u);
  auto chacha = derive_epoch_keys(RecordAead::kChaCha20Poly1305, "SHA256", filled(48, 1),
                                  filled(32, 2), filled(32, 3));
  ASSERT_TRUE(chacha);
  EXPECT_EQ(chacha->client_write_key.size(), 32u);
  EXPECT_EQ(chacha->client_write_iv.size(), 12u);
  // RFC 5246 6.3: the same PRF output, cut differently: the AES-128 keys are the first
  // 32 bytes of the ChaCha20 block.
  EXPECT_EQ(gcm->client_write_key, Buffer(chacha->client_write_key.view().subspan(0, 16)));
  // The randoms swapped give other keys (the seed is server_random + client_random).
  auto swapped = derive_epoch_keys(RecordAead::kAes128Gcm, "SHA256", filled(48, 1), filled(32, 3),
                                   filled(32, 2));
  ASSERT_TRUE(swapped);
  EXPECT_NE(swapped->client_write_key, gcm->client_write_key);

  EXPECT_FALSE(
      derive_epoch_keys(RecordAead::kAes128Gcm, "SHA256", {}, filled(32, 2), filled(32, 3)));
  EXPECT_FALSE(derive_epoch_keys(RecordAead::kAes128Gcm, "SHA256", filled(48, 1), filled(31, 2),
                                 filled(32, 3)));
  EXPECT_FALSE(derive_epoch_keys(RecordAead::kAes128Gcm, "NO-SUCH-DIGEST", filled(48, 1),
                                 filled(32, 2), filled(32, 3)));
  EXPECT_FALSE(RecordCipher::create(RecordAead::kAes128Gcm, filled(15, 0), filled(4, 0)));
  EXPECT_FALSE(RecordCipher::create(RecordAead::kChaCha20Poly1305, filled(32, 0), filled(4, 0)));
}

}  // namespace
}  // namespace rtcpp::dtls
