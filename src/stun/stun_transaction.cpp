#include "stun/stun_transaction.hpp"

#include <algorithm>

namespace rtcpp::stun {

bool ClientTransactions::start(const TransactionId& id, Buffer request, const SocketAddress& source,
                               const SocketAddress& destination, Timestamp now, std::uint64_t tag) {
  for (const auto& t : transactions_) {
    if (t.id == id) return false;
  }
  Transaction t{id, tag, std::move(request), source, destination, 0, config_.initial_rto, now};
  to_send_.push_back({source, destination, t.request});
  schedule_after_send(t, now);
  transactions_.push_back(std::move(t));
  return true;
}

void ClientTransactions::schedule_after_send(Transaction& t, Timestamp now) {
  ++t.transmissions;
  if (config_.reliable) {
    t.deadline = now + config_.reliable_timeout;
    return;
  }
  if (t.transmissions >= config_.max_transmissions) {
    // RFC 8489 6.2.1: after the last request, wait Rm times the initial RTO.
    t.deadline = now + config_.initial_rto * config_.final_wait_factor;
    return;
  }
  t.deadline = now + t.rto;
  t.rto = std::min(t.rto * 2, config_.max_rto);
}

std::optional<std::uint64_t> ClientTransactions::match_response(const StunMessage& response) {
  const auto cls = response.message_class();
  if (cls != StunClass::kSuccessResponse && cls != StunClass::kErrorResponse) return std::nullopt;
  auto it = std::find_if(transactions_.begin(), transactions_.end(),
                         [&](const Transaction& t) { return t.id == response.transaction_id(); });
  if (it == transactions_.end()) return std::nullopt;
  const std::uint64_t tag = it->tag;
  transactions_.erase(it);
  return tag;
}

bool ClientTransactions::cancel(const TransactionId& id) {
  auto it = std::find_if(transactions_.begin(), transactions_.end(),
                         [&](const Transaction& t) { return t.id == id; });
  if (it == transactions_.end()) return false;
  transactions_.erase(it);
  return true;
}

bool ClientTransactions::retransmit_now(const TransactionId& id, Timestamp now) {
  auto it = std::find_if(transactions_.begin(), transactions_.end(),
                         [&](const Transaction& t) { return t.id == id; });
  if (it == transactions_.end() || config_.reliable ||
      it->transmissions >= config_.max_transmissions)
    return false;
  to_send_.push_back({it->source, it->destination, it->request});
  it->rto = config_.initial_rto;
  schedule_after_send(*it, now);
  return true;
}

void ClientTransactions::handle_timeout(Timestamp now) {
  for (auto it = transactions_.begin(); it != transactions_.end();) {
    if (it->deadline > now) {
      ++it;
      continue;
    }
    const bool exhausted = config_.reliable || it->transmissions >= config_.max_transmissions;
    if (exhausted) {
      timeouts_.push_back({it->id, it->tag});
      it = transactions_.erase(it);
      continue;
    }
    to_send_.push_back({it->source, it->destination, it->request});
    schedule_after_send(*it, now);
    ++it;
  }
}

std::optional<Datagram> ClientTransactions::poll_transmit() {
  if (to_send_.empty()) return std::nullopt;
  Datagram d = std::move(to_send_.front());
  to_send_.pop_front();
  return d;
}

std::optional<TransactionTimeout> ClientTransactions::poll_timeout() {
  if (timeouts_.empty()) return std::nullopt;
  auto t = timeouts_.front();
  timeouts_.pop_front();
  return t;
}

std::optional<Timestamp> ClientTransactions::next_timeout() const {
  std::optional<Timestamp> earliest;
  for (const auto& t : transactions_) {
    if (!earliest || t.deadline < *earliest) earliest = t.deadline;
  }
  return earliest;
}

}  // namespace rtcpp::stun
