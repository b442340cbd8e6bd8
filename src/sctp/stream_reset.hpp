// Stream reconfiguration (RFC 6525): our Outgoing SSN Reset Requests (one outstanding at a
// time, retransmitted on their own timer) and the answers to the peer's, whose reset waits
// until the data it sent before has arrived (5.2.2). The association applies the resets to
// its send and receive state.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "base/byte_reader.hpp"
#include "base/bytes.hpp"
#include "base/time.hpp"
#include "base/timer.hpp"
#include "sctp/packet.hpp"
#include "sctp/types.hpp"

namespace rtcpp::sctp {

class StreamResetter {
 public:
  // Request sequence numbers start at the initial TSNs (RFC 6525 5.1.1).
  void start_outgoing(std::uint32_t our_initial_tsn) noexcept {
    next_request_sequence_ = our_initial_tsn;
  }
  void start_incoming(std::uint32_t peer_initial_tsn) noexcept {
    peer_next_request_sequence_ = peer_initial_tsn;
  }

  // --- Our requests ---

  // Streams to reset once what is queued on them has a TSN. send() is refused on them until
  // the peer answered.
  void request(std::span<const std::uint16_t> streams);
  bool is_resetting(std::uint16_t stream) const { return resetting_.count(stream) != 0; }
  // Whether a request can go out now: none outstanding, and a stream waiting whose queue is
  // empty (`has_queued(stream)` tells).
  template <typename HasQueued>
  bool ready(HasQueued&& has_queued) const {
    if (outstanding_ || pending_.empty()) return false;
    for (const std::uint16_t s : pending_)
      if (!has_queued(s)) return true;
    return false;
  }
  // Makes the request of the streams whose queues are empty (up to a bound; the others keep
  // waiting), naming `last_tsn`, the last TSN assigned (RFC 8831 6.7).
  template <typename HasQueued>
  void make_request(Tsn last_tsn, HasQueued&& has_queued) {
    Outstanding request{next_request_sequence_++, last_tsn, {}};
    std::vector<std::uint16_t> waiting;
    for (const std::uint16_t s : pending_) {
      if (!has_queued(s) && request.streams.size() < kMaxStreamsPerRequest) {
        request.streams.push_back(s);
      } else {
        waiting.push_back(s);
      }
    }
    pending_ = std::move(waiting);
    outstanding_ = std::move(request);
    timer_.reset_attempts();
  }
  bool outstanding() const noexcept { return outstanding_.has_value(); }
  // The RE-CONFIG parameters of the outstanding request (sent again on each expiry); the
  // timer backs off from `rto`, at most to `rto_max`.
  bool write_request(Buffer& params, Timestamp now, Duration rto, Duration rto_max);
  Timer& timer() noexcept { return timer_; }
  const Timer& timer() const noexcept { return timer_; }

  struct Outcome {
    enum Kind : std::uint8_t { kNone, kPerformed, kFailed } kind = kNone;
    std::vector<std::uint16_t> streams;
    Tsn last_tsn;  // kPerformed: the last TSN of the old sequence
  };
  // The peer's response to our request: In Progress asks again after `rto` (RFC 6525 5.2.7).
  Outcome on_response(const ReconfigResponse& response, Timestamp now, Duration rto);
  // The association closed: no more retransmissions.
  void stop() noexcept { timer_.stop(); }

  // --- A RE-CONFIG chunk received ---

  // Its parameters, each answered in `responses` (requests) or handed over: Outgoing SSN
  // Reset Requests to `on_request(request)`, which returns the result; responses to
  // `on_response(response)`. The other requests are refused (RFC 6525 4.4, Denied). False
  // for a malformed chunk.
  template <typename OnRequest, typename OnResponse>
  bool handle_reconfig(BytesView value, Buffer& responses, OnRequest&& on_request,
                       OnResponse&& on_response);

  // --- The peer's requests ---

  struct Decision {
    ReconfigResponse::Result result;
    bool perform_now = false;  // reset these streams now (else deferred, or refused)
  };
  // streams_valid: every stream named is one of ours; cumulative: our cumulative TSN.
  Decision on_request(const OutgoingResetRequest& request, bool streams_valid, Tsn last_tsn,
                      Tsn cumulative);
  // A deferred reset whose data has all arrived (cumulative past its last TSN): its streams,
  // to reset now.
  std::optional<std::vector<std::uint16_t>> take_due_incoming(Tsn cumulative);

 private:
  static constexpr std::size_t kMaxStreamsPerRequest = 256;
  struct Outstanding {
    std::uint32_t sequence = 0;
    Tsn last_tsn;
    std::vector<std::uint16_t> streams;
  };
  std::set<std::uint16_t> resetting_;  // pending or outstanding
  std::vector<std::uint16_t> pending_;
  std::optional<Outstanding> outstanding_;
  std::uint32_t next_request_sequence_ = 0;
  Timer timer_;
  // The peer's: the next request sequence number expected, the answer given to the last one
  // (repeated when it is retransmitted) and the one waiting for data (at most).
  std::uint32_t peer_next_request_sequence_ = 0;
  ReconfigResponse::Result last_result_ = ReconfigResponse::Result::kSuccessNothingToDo;
  std::optional<Outstanding> incoming_deferred_;
};

template <typename OnRequest, typename OnResponse>
bool StreamResetter::handle_reconfig(BytesView value, Buffer& responses, OnRequest&& on_request,
                                     OnResponse&& on_response) {
  auto params = parse_parameters(value);
  if (!params || params->empty() || params->size() > kMaxReconfigParameters) return false;
  for (const auto& p : *params) {
    switch (p.type) {
      case param_type::kOutgoingSsnResetRequest: {
        auto request = OutgoingResetRequest::parse(p);
        if (!request) break;
        const ReconfigResponse::Result result = on_request(*request);
        ReconfigResponse{request->request_sequence, result}.append_to(responses);
        break;
      }
      case param_type::kReconfigurationResponse: {
        auto response = ReconfigResponse::parse(p);
        if (response) on_response(*response);
        break;
      }
      case param_type::kIncomingSsnResetRequest:
      case param_type::kSsnTsnResetRequest:
      case param_type::kAddOutgoingStreamsRequest:
      case param_type::kAddIncomingStreamsRequest:
        // Not implemented: refused, the request sequence number being their first field.
        if (p.value.size() >= 4) {
          ReconfigResponse{load_be32(p.value.data()), ReconfigResponse::Result::kDenied}.append_to(
              responses);
        }
        break;
      default:
        break;
    }
  }
  return true;
}

}  // namespace rtcpp::sctp
