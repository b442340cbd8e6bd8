// Hostile TURN server responses into a live TURN client. The input is a sequence of chunks,
// each a 2-byte length and that many bytes: a control byte, then either a raw datagram from
// the server, or (control bits 0/1) a message type and attribute TLVs that the driver turns
// into a response to the client's latest request, signed with the key of user/pass at realm
// "rtcpp.test", so the fuzzer gets past transaction matching and integrity. Never crash,
// never hang, stay within the configured bounds.
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "base/byte_reader.hpp"
#include "stun/stun_auth.hpp"
#include "turn/turn_client.hpp"

using namespace rtcpp;
using namespace rtcpp::turn;

namespace {

const SocketAddress kBase = *SocketAddress::parse("10.0.0.1:5000");
const SocketAddress kServer = *SocketAddress::parse("198.51.100.1:3478");

// Re-encodes attribute TLVs from the fuzzer behind a header of our choosing.
std::optional<Buffer> build(std::uint16_t type, const stun::TransactionId& id, BytesView body,
                            bool sign, const Buffer& key) {
  const auto cls = static_cast<stun::StunClass>(((type >> 4) & 1) | ((type >> 7) & 2));
  const auto method =
      static_cast<std::uint16_t>((type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80));
  stun::StunMessageBuilder b(cls, method, id);
  ByteReader reader(body);
  int attributes = 0;
  while (reader.remaining() >= 4 && attributes++ < 32) {
    const auto attr_type = *reader.read_u16();
    const auto length = *reader.read_u16();
    auto value = reader.read_bytes(std::min<std::size_t>(length, reader.remaining()));
    if (!value) break;
    b.add_bytes(attr_type, *value);
    (void)reader.skip(std::min<std::size_t>((4 - length % 4) % 4, reader.remaining()));
  }
  if (sign) b.add_message_integrity(key);
  b.add_fingerprint();
  return b.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Buffer kKey = *stun::long_term_key_md5("user", "rtcpp.test", "pass");
  SeededRandom rng(1);
  TurnClientConfig config;
  config.max_permissions = 4;
  config.max_channels = 4;
  TurnClient client(config, {kServer, "user", "pass", TurnTransport::kUdp, "turn:fuzz"}, kBase,
                    rng);
  Timestamp now = Timestamp::seconds(1);
  client.allocate(now);
  stun::TransactionId last_id{};
  ByteReader reader(BytesView(data, size));
  int steps = 0;
  std::uint8_t peer = 1;
  while (!reader.empty() && steps++ < 128) {
    while (auto d = client.poll_transmit()) {
      if (stun::is_stun_message(d->payload)) {
        auto msg = stun::StunMessage::parse(d->payload);
        if (msg && msg->message_class() == stun::StunClass::kRequest)
          last_id = msg->transaction_id();
      }
    }
    while (client.poll_event()) {
    }
    auto length = reader.read_u16();
    if (!length) break;
    auto chunk = reader.read_bytes(std::min<std::size_t>(*length, reader.remaining()));
    if (!chunk || chunk->empty()) continue;
    const std::uint8_t control = (*chunk)[0];
    BytesView rest = chunk->subspan(1);
    if ((control & 4) != 0) now += Duration::seconds(61);
    if ((control & 8) != 0) {
      // Some data for a peer: permissions and channels get requested.
      (void)client.wrap(SocketAddress(IpAddress::v4(192, 0, 2, peer), 4000), rest, now);
      peer = static_cast<std::uint8_t>(peer % 8 + 1);
    }
    if ((control & 3) != 0 && rest.size() >= 2) {
      const auto type = static_cast<std::uint16_t>((rest[0] << 8) | rest[1]);
      if (auto msg = build(type, last_id, rest.subspan(2), (control & 2) != 0, kKey))
        (void)client.handle_packet(*msg, now);
    } else {
      (void)client.handle_packet(rest, now);
    }
    client.handle_timeout(now);
    if ((control & 16) != 0) client.close(now);
  }
  if (client.permission_count() > config.max_permissions ||
      client.channel_count() > config.max_channels)
    std::abort();
  return 0;
}
