#include "sctp/handshake.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"

namespace rtcpp::sctp {
namespace {

constexpr std::uint8_t kCookieVersion = 3;
constexpr std::size_t kCookieBodySize = 1 + 4 * 7 + 2 * 2 + 1 + 8;
constexpr std::size_t kCookieSize = kCookieBodySize + 32;
constexpr Duration kCookieLifetime = Duration::seconds(60);

void hmac_sha256(const Handshake::Secret& key, BytesView data, std::uint8_t* out) {
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out,
       &length);
}

}  // namespace

void add_extension_parameters(InitChunk& init, std::uint8_t extensions, ExtensionValues& v) {
  const bool forward_tsn = (extensions & extension::kForwardTsn) != 0;
  if (forward_tsn)  // RFC 3758 3.3.1
    init.parameters.push_back({param_type::kForwardTsnSupported, {}});
  // RFC 5061 4.2.7 Supported Extensions: the chunk types we understand beyond RFC 9260.
  std::size_t n = 0;
  if (forward_tsn) v.chunks[n++] = chunk_type::kForwardTsn;
  if (extensions & extension::kReconfig) v.chunks[n++] = chunk_type::kReConfig;
  if (extensions & extension::kIData) {
    v.chunks[n++] = chunk_type::kIData;  // RFC 8260 2.2.1
    // RFC 8260 2.3.1: partial reliability over I-DATA takes I-FORWARD-TSN.
    if (forward_tsn) v.chunks[n++] = chunk_type::kIForwardTsn;
  }
  if (n > 0)
    init.parameters.push_back({param_type::kSupportedExtensions, BytesView(v.chunks.data(), n)});
  if (extensions & extension::kZeroChecksum) {  // RFC 9653 5.1
    store_be32(v.edmid.data(), kEdmidSctpOverDtls);
    init.parameters.push_back({param_type::kZeroChecksumAcceptable, v.edmid});
  }
}

std::uint8_t advertised_extensions(const InitChunk& init) {
  std::uint8_t ext = 0;
  if (init.find(param_type::kForwardTsnSupported) != nullptr) ext |= extension::kForwardTsn;
  if (const Parameter* p = init.find(param_type::kSupportedExtensions)) {
    for (const std::uint8_t type : p->value) {
      if (type == chunk_type::kForwardTsn) ext |= extension::kForwardTsn;
      if (type == chunk_type::kReConfig) ext |= extension::kReconfig;
      if (type == chunk_type::kIData) ext |= extension::kIData;
      if (type == chunk_type::kIForwardTsn) ext |= extension::kIForwardTsn;
    }
  }
  // RFC 9653 5.1: only a method we use ourselves counts (ours is DTLS).
  if (const Parameter* p = init.find(param_type::kZeroChecksumAcceptable)) {
    if (parse_zero_checksum_acceptable(*p) == kEdmidSctpOverDtls) ext |= extension::kZeroChecksum;
  }
  return ext;
}

Buffer init_packet(std::uint8_t type, const InitParameters& ours, BytesView cookie,
                   const CommonHeader& header, std::size_t mtu) {
  InitChunk init;
  init.initiate_tag = ours.tag;
  init.a_rwnd = ours.a_rwnd;
  init.outbound_streams = ours.streams;
  init.inbound_streams = ours.streams;
  init.initial_tsn = ours.initial_tsn;
  if (!cookie.empty()) init.parameters.push_back({param_type::kStateCookie, cookie});
  ExtensionValues values;
  add_extension_parameters(init, ours.extensions, values);
  Buffer packet;
  PacketBuilder b(packet, header, mtu);
  init.write_to(b, type);
  b.finish();
  return packet;
}

CookieEchoAction classify_cookie_echo(const CookieContents& cookie, AssociationTags tags,
                                      bool established, bool restart_allowed, bool cookie_echoed) {
  const bool local_match = cookie.our_tag == tags.local;
  const bool peer_match = cookie.peer.initiate_tag == tags.peer;
  if (established) {
    if (local_match && peer_match) return CookieEchoAction::kAckAgain;
    if (!local_match && !peer_match && cookie.local_tie_tag == tags.local &&
        cookie.peer_tie_tag == tags.peer && restart_allowed)
      return CookieEchoAction::kRestart;
    // A late or replayed cookie (cases B and C), or a restart while shutting down.
    return CookieEchoAction::kDiscard;
  }
  if (!local_match) return CookieEchoAction::kDiscard;
  if (cookie_echoed && !peer_match) return CookieEchoAction::kDiscard;
  return CookieEchoAction::kAccept;
}

Buffer Handshake::make_cookie(const CookieContents& contents, Timestamp now) {
  cookie_time_ = now;
  const InitChunk& peer = contents.peer;
  Buffer cookie;
  ByteWriter w(cookie);
  w.write_u8(kCookieVersion);
  w.write_u32(peer.initiate_tag);
  w.write_u32(contents.our_tag);
  w.write_u32(peer.initial_tsn);
  w.write_u32(contents.our_initial_tsn);
  w.write_u32(contents.local_tie_tag);
  w.write_u32(contents.peer_tie_tag);
  w.write_u32(peer.a_rwnd);
  w.write_u16(peer.outbound_streams);
  w.write_u16(peer.inbound_streams);
  w.write_u8(contents.extensions);
  w.write_u64(static_cast<std::uint64_t>(cookie_time_.us()));
  std::uint8_t mac[32];
  hmac_sha256(secret_, cookie.view(), mac);
  w.write_bytes(BytesView(mac, 32));
  return cookie;
}

std::optional<CookieContents> Handshake::open_cookie(BytesView cookie, Timestamp now) const {
  if (cookie.size() != kCookieSize || cookie[0] != kCookieVersion) return std::nullopt;
  std::uint8_t mac[32];
  hmac_sha256(secret_, cookie.first(kCookieBodySize), mac);
  if (CRYPTO_memcmp(mac, cookie.data() + kCookieBodySize, 32) != 0) return std::nullopt;
  ByteReader r(cookie.subspan(1));
  CookieContents contents;
  contents.peer.initiate_tag = *r.read_u32();
  contents.our_tag = *r.read_u32();
  contents.peer.initial_tsn = *r.read_u32();
  contents.our_initial_tsn = *r.read_u32();
  contents.local_tie_tag = *r.read_u32();
  contents.peer_tie_tag = *r.read_u32();
  contents.peer.a_rwnd = *r.read_u32();
  contents.peer.outbound_streams = *r.read_u16();
  contents.peer.inbound_streams = *r.read_u16();
  contents.extensions = *r.read_u8();
  const auto created = Timestamp::micros(static_cast<std::int64_t>(*r.read_u64()));
  // RFC 9260 5.1.5: a stale cookie is refused.
  if (now - created > kCookieLifetime) return std::nullopt;
  return contents;
}

void Handshake::start_t1(const Buffer& packet, Timestamp now, Duration timeout) {
  packet_ = packet;
  t1_.reset_attempts();
  t1_.start(now, timeout);
}

void Handshake::stop_t1() {
  t1_.stop();
  packet_.clear();
}

const Buffer* Handshake::on_t1_expiry(Timestamp now, int max_retransmits, Duration initial,
                                      Duration max) {
  if (t1_.add_attempt() > max_retransmits) return nullptr;
  t1_.start(now, Timer::backed_off(initial, t1_.attempts(), max));
  return &packet_;
}

}  // namespace rtcpp::sctp
