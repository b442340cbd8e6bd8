// Hostile STUN traffic into a live ICE agent (connectivity checks, responses, role
// conflicts), datagrams split by 2-byte length prefixes: never crash, never hang, bounded.
#include <cstdint>
#include <cstdlib>

#include "base/byte_reader.hpp"
#include "ice/agent.hpp"

using namespace rtcpp;
using namespace rtcpp::ice;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  SeededRandom rng(size);
  const SocketAddress local = *SocketAddress::parse("10.0.0.1:5000");
  const SocketAddress remote = *SocketAddress::parse("10.0.0.2:6000");
  IceAgent agent(IceConfig{}, IceRole::kControlling, {"abcd", "0123456789012345678901"}, rng);
  Timestamp now = Timestamp::seconds(1);
  agent.add_host_address(local, now);
  agent.finish_gathering(now);
  (void)agent.set_remote_credentials("wxyz", "zyxwvutsrqponmlkjihgfe", now);
  Candidate c = *Candidate::parse("candidate:1 1 udp 2130706431 10.0.0.2 6000 typ host");
  (void)agent.add_remote_candidate(c, now);
  ByteReader reader(BytesView(data, size));
  int steps = 0;
  while (!reader.empty() && steps++ < 256) {
    auto length = reader.read_u16();
    if (!length) break;
    auto payload = reader.read_bytes(std::min<std::size_t>(*length, reader.remaining()));
    if (!payload) break;
    now += Duration::millis(20);
    agent.handle_packet({remote, local, Buffer(*payload)}, now);
    agent.handle_timeout(now);
    while (agent.poll_transmit()) {
    }
    while (agent.poll_event()) {
    }
  }
  if (agent.pair_count() > IceConfig{}.max_pairs) std::abort();
  return 0;
}
