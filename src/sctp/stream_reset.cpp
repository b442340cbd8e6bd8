#include "sctp/stream_reset.hpp"

namespace rtcpp::sctp {

void StreamResetter::request(std::span<const std::uint16_t> streams) {
  for (const std::uint16_t s : streams) {
    if (resetting_.insert(s).second) pending_.push_back(s);
  }
}

bool StreamResetter::write_request(Buffer& params, Timestamp now, Duration rto, Duration rto_max) {
  if (!outstanding_) return false;
  OutgoingResetRequest r;
  r.request_sequence = outstanding_->sequence;
  // RFC 6525 4.1: not answering an incoming request, it holds the peer's last request
  // sequence number (the next expected one minus 1).
  r.response_sequence = peer_next_request_sequence_ - 1;
  r.sender_last_tsn = outstanding_->last_tsn.wire();
  r.streams = outstanding_->streams;
  r.append_to(params);
  // RFC 6525 5.1.1: retransmitted on its own timer, backed off like T3-rtx.
  const Duration wait = Timer::backed_off(rto, timer_.attempts(), rto_max);
  timer_.add_attempt();
  timer_.start(now, wait);
  return true;
}

StreamResetter::Outcome StreamResetter::on_response(const ReconfigResponse& response, Timestamp now,
                                                    Duration rto) {
  using R = ReconfigResponse::Result;
  Outcome outcome;
  if (!outstanding_ || response.response_sequence != outstanding_->sequence) return outcome;
  switch (response.result) {
    case R::kInProgress:
      // The peer waits for our data; ask again after an RTO (RFC 6525 5.2.7).
      timer_.reset_attempts();
      timer_.start(now, rto);
      return outcome;
    case R::kSuccessPerformed:
    case R::kSuccessNothingToDo:
      outcome.kind = Outcome::kPerformed;
      outcome.last_tsn = outstanding_->last_tsn;
      break;
    default:
      outcome.kind = Outcome::kFailed;
      break;
  }
  for (const std::uint16_t s : outstanding_->streams) resetting_.erase(s);
  outcome.streams = std::move(outstanding_->streams);
  outstanding_.reset();
  timer_.stop();
  return outcome;
}

StreamResetter::Decision StreamResetter::on_request(const OutgoingResetRequest& request,
                                                    bool streams_valid, Tsn last_tsn,
                                                    Tsn cumulative) {
  using R = ReconfigResponse::Result;
  // RFC 6525 5.2.1: a retransmission of the last request gets the same answer (updated when
  // a deferred reset has been performed since); other unexpected numbers are an error.
  if (request.request_sequence == peer_next_request_sequence_ - 1) return {last_result_};
  if (request.request_sequence != peer_next_request_sequence_) return {R::kErrorBadSequenceNumber};
  if (incoming_deferred_) return {R::kErrorRequestAlreadyInProgress};  // one at a time
  ++peer_next_request_sequence_;
  if (!streams_valid) {
    last_result_ = R::kDenied;
    return {last_result_};
  }
  // RFC 6525 5.2.2: performed once everything up to the sender's last TSN has arrived.
  if (last_tsn <= cumulative) {
    last_result_ = R::kSuccessPerformed;
    return {last_result_, true};
  }
  incoming_deferred_ = Outstanding{request.request_sequence, last_tsn, request.streams};
  last_result_ = R::kInProgress;
  return {last_result_};
}

std::optional<std::vector<std::uint16_t>> StreamResetter::take_due_incoming(Tsn cumulative) {
  if (!incoming_deferred_ || cumulative < incoming_deferred_->last_tsn) return std::nullopt;
  if (incoming_deferred_->sequence == peer_next_request_sequence_ - 1)
    last_result_ = ReconfigResponse::Result::kSuccessPerformed;
  std::vector<std::uint16_t> streams = std::move(incoming_deferred_->streams);
  incoming_deferred_.reset();
  return streams;
}

}  // namespace rtcpp::sctp
