// What an SCTP association reports to its user (SctpAssociation::poll_event()).
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "base/bytes.hpp"
#include "base/ring_queue.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::sctp {

struct SctpConnected {};
struct SctpMessage {
  std::uint16_t stream = 0;
  std::uint32_t ppid = 0;
  Buffer data;
};
struct SctpClosed {
  std::optional<RTCError> error;  // set when the association was aborted or failed
};
// Streams whose sequence numbers were reset (RFC 6525). incoming: the peer reset its
// outgoing streams (our incoming ones), after everything it sent before was delivered;
// an empty list then means all streams. Otherwise: our own request succeeded, our outgoing
// SSNs restart at 0 and the streams accept messages again.
struct SctpStreamsReset {
  std::vector<std::uint16_t> streams;
  bool incoming = false;
};
// The peer refused (or could not perform) our request to reset these outgoing streams.
struct SctpStreamResetFailed {
  std::vector<std::uint16_t> streams;
};
// The peer restarted the association (RFC 9260 5.2.4 action A: it lost its state and
// connected again). Ours started over with it: new tags and TSNs, every stream at sequence
// number 0 both ways, and the messages that were queued or not yet acknowledged were dropped.
struct SctpRestarted {
  std::size_t messages_dropped = 0;
};
using SctpEvent = std::variant<SctpConnected, SctpMessage, SctpClosed, SctpStreamsReset,
                               SctpStreamResetFailed, SctpRestarted>;
using SctpEvents = RingQueue<SctpEvent>;

}  // namespace rtcpp::sctp
