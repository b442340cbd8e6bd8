// Hostile bytes into rtcpp's DTLS record framing and protection (record_framing.hpp,
// record_protection.hpp): each input is one datagram whose records are checked against a replay
// window and opened with fixed keys, as a connected transport does. The input also goes through
// seal and open as plaintext, which must give it back, and must not open once any byte of the
// record is changed. Byte 0 picks the AEAD.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "dtls/record_framing.hpp"
#include "dtls/record_protection.hpp"

using namespace rtcpp;
using namespace rtcpp::dtls;

namespace {

struct Ciphers {
  RecordCipher sealer;
  RecordCipher opener;
};

Ciphers make(RecordAead aead) {
  std::uint8_t master[48];
  std::uint8_t client_random[32];
  std::uint8_t server_random[32];
  for (std::size_t i = 0; i < sizeof master; ++i) master[i] = static_cast<std::uint8_t>(i);
  std::memset(client_random, 0xc1, sizeof client_random);
  std::memset(server_random, 0x5e, sizeof server_random);
  auto keys = derive_epoch_keys(aead, "SHA256", BytesView(master, sizeof master),
                                BytesView(client_random, 32), BytesView(server_random, 32));
  if (!keys) std::abort();
  auto sealer = RecordCipher::create(aead, keys->client_write_key, keys->client_write_iv);
  auto opener = RecordCipher::create(aead, keys->client_write_key, keys->client_write_iv);
  if (!sealer || !opener) std::abort();
  return {std::move(*sealer), std::move(*opener)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Ciphers ciphers[3] = {make(RecordAead::kAes128Gcm), make(RecordAead::kAes256Gcm),
                               make(RecordAead::kChaCha20Poly1305)};
  if (size == 0) return 0;
  Ciphers& c = ciphers[data[0] % 3];
  const BytesView datagram(data + 1, size - 1);

  ReplayWindow window;
  for_each_record(datagram, [&](const RecordView& r) {
    if (!window.fresh(r.sequence) || r.body.size() < c.opener.overhead()) return;
    Buffer plaintext(r.body.size() - c.opener.overhead());
    if (c.opener.open(r.record, plaintext.data())) window.mark(r.sequence);
  });

  const BytesView plaintext = datagram.subspan(0, std::min<std::size_t>(datagram.size(), 16384));
  const std::uint64_t sequence = size * 7919;
  Buffer record(kDtlsRecordHeaderSize + plaintext.size() + c.sealer.overhead());
  if (!c.sealer.seal(23, 1, sequence, plaintext, record.data())) std::abort();
  Buffer opened(plaintext.size());
  if (!c.opener.open(record, opened.data()) || !equal_bytes(opened.view(), plaintext)) std::abort();
  const std::size_t flip = (size * 31) % record.size();
  if (flip != 11 && flip != 12) {
    record[flip] ^= 0x01;
    if (c.opener.open(record, opened.data())) std::abort();
  }
  return 0;
}
