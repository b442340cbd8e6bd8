// Transport-wide congestion control, both halves driven by the input: the receiver records any
// sequence of arrivals (duplicates, reordering, wraps, jumps) and its feedback messages are
// always well formed (contiguous from one message to the next, within the size limit, written
// and parsed back the same); the sender takes any feedback without reporting a packet twice
// or one it never sent; the bandwidth estimator fed those results keeps its rate within its
// bounds.
//
// Input: records of 6 bytes [operation | sequence (16) | time step (16) | size], the
// operation choosing between an arrival, a packet sent, feedback taken and fed to the sender,
// and raw bytes parsed as feedback. An arrival's sequence number is a signed step from the
// last one unless its top bit asks for a jump to the rest (jumps make thousands of statuses).

#include <cstdint>
#include <cstdlib>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"
#include "rtp/bandwidth_estimator.hpp"
#include "rtp/rtcp_packet.hpp"
#include "rtp/transport_cc.hpp"

using namespace rtcpp;
using namespace rtcpp::rtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteReader reader(BytesView(data, size));
  TransportCcReceiver receiver;
  TransportCcSender sender;
  const BandwidthEstimatorConfig bounds;
  BandwidthEstimator estimator(bounds);
  Timestamp now = Timestamp::seconds(1);
  std::uint64_t sent = 0;
  std::uint64_t results = 0;
  std::uint16_t last_arrival = 0;
  while (reader.remaining() >= 6) {
    const std::uint8_t operation = *reader.read_u8();
    const std::uint16_t sequence = *reader.read_u16();
    const std::uint16_t step = *reader.read_u16();
    const std::uint8_t bytes = *reader.read_u8();
    // Time mostly moves forward; a high bit makes a long silence.
    now += Duration::micros((step & 0x8000) != 0 ? std::int64_t{step} * 1000 : step);
    switch (operation % 4) {
      case 0:
        last_arrival = (sequence & 0x8000) != 0
                           ? static_cast<std::uint16_t>(sequence << 1)
                           : static_cast<std::uint16_t>(last_arrival +
                                                        static_cast<std::int8_t>(sequence & 0xFF));
        receiver.on_packet(last_arrival, now - Duration::micros(bytes * 100), 0x1234);
        break;
      case 1:
        sender.on_packet_sent(bytes, now);
        ++sent;
        break;
      case 2: {
        const auto messages = receiver.take_feedback(0x5678, now);
        std::optional<std::uint16_t> expected;
        for (const auto& message : messages) {
          if (message.deltas.empty()) std::abort();
          if (expected && message.base_sequence != *expected) std::abort();
          expected = static_cast<std::uint16_t>(message.base_sequence + message.deltas.size());
          Buffer out;
          ByteWriter writer(out);
          if (!write_rtcp(message, writer) || out.size() > TransportCcReceiver::kMaxMessageSize)
            std::abort();
          auto parsed = parse_rtcp_compound(out);
          if (!parsed || parsed->messages.size() != 1 ||
              !(std::get<TransportFeedback>(parsed->messages[0]) == message))
            std::abort();
          // The feedback of some other transport, as far as the sender knows.
          const auto matched = sender.on_feedback(message);
          estimator.on_transport_results(matched, now);
          results += matched.size();
        }
        if (receiver.feedback_due(now)) std::abort();
        break;
      }
      default: {
        // The next bytes (up to `bytes` of them) as a compound from the network.
        auto raw = reader.read_bytes(std::min<std::size_t>(bytes, reader.remaining()));
        if (!raw) break;
        auto compound = parse_rtcp_compound(*raw);
        if (!compound) break;
        for (const auto& message : compound->messages) {
          if (const auto* feedback = std::get_if<TransportFeedback>(&message)) {
            const auto matched = sender.on_feedback(*feedback);
            estimator.on_transport_results(matched, now);
            results += matched.size();
          }
        }
        break;
      }
    }
    // Each packet sent is reported received at most once and lost at most once.
    if (sender.packets_reported_received() + sender.packets_reported_lost() > sent) std::abort();
    if (results > 2 * sent) std::abort();
    if (estimator.target_bps() < bounds.min_bps || estimator.target_bps() > bounds.max_bps)
      std::abort();
  }
  return 0;
}
