// STUN client transactions (RFC 8489 section 6.2): retransmission over UDP with exponential
// back-off, a single send and a long timeout over TCP/TLS, and matching of responses by
// transaction id. Sans-IO: requests and their retransmissions come out of poll_transmit(),
// time goes in through handle_timeout(now).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "base/bytes.hpp"
#include "base/net.hpp"
#include "base/time.hpp"
#include "stun/stun_message.hpp"

namespace rtcpp::stun {

struct TransactionConfig {
  // RFC 8489 6.2.1: RTO starts at 500 ms (ICE paces its checks separately, on top).
  Duration initial_rto = Duration::millis(500);
  // Rc: transmissions in all, the first included.
  int max_transmissions = 7;
  // Rm: after the last transmission, wait Rm * RTO (the initial RTO) before giving up.
  int final_wait_factor = 16;
  // Back-off never grows the interval beyond this.
  Duration max_rto = Duration::infinite();
  // Over TCP/TLS: one transmission and a fixed timeout (Ti, 39.5 s).
  bool reliable = false;
  Duration reliable_timeout = Duration::millis(39500);
};

struct TransactionTimeout {
  TransactionId id;
  std::uint64_t tag = 0;
};

// The outstanding requests of one client. Each carries a caller-chosen tag (a check-list
// index, a TURN request kind, ...) returned on its response or timeout.
class ClientTransactions {
 public:
  explicit ClientTransactions(TransactionConfig config = {}) : config_(config) {}

  // Starts a transaction: `request` (a STUN request whose id is `id`) goes out at the next
  // poll_transmit() and is retransmitted on schedule until a response or the timeout.
  // Returns false if a transaction with this id is already outstanding.
  bool start(const TransactionId& id, Buffer request, const SocketAddress& source,
             const SocketAddress& destination, Timestamp now, std::uint64_t tag = 0);
  // Ends the transaction that `response` answers; returns its tag, or nullopt if the
  // response matches nothing outstanding (late, duplicate or forged).
  std::optional<std::uint64_t> match_response(const StunMessage& response);
  // Ends a transaction without a response.
  bool cancel(const TransactionId& id);
  // Over UDP: sends the request of an outstanding transaction again now, and restarts its
  // back-off from the initial RTO (the transmission counts towards Rc). False when the
  // transaction is unknown, reliable, or has had all its transmissions.
  bool retransmit_now(const TransactionId& id, Timestamp now);

  void handle_timeout(Timestamp now);
  std::optional<Datagram> poll_transmit();
  std::optional<TransactionTimeout> poll_timeout();
  std::optional<Timestamp> next_timeout() const;

  std::size_t outstanding() const noexcept { return transactions_.size(); }
  const TransactionConfig& config() const noexcept { return config_; }

 private:
  struct Transaction {
    TransactionId id;
    std::uint64_t tag;
    Buffer request;
    SocketAddress source;
    SocketAddress destination;
    int transmissions = 0;
    Duration rto;
    Timestamp deadline;  // next retransmission, or the final timeout
  };

  void schedule_after_send(Transaction& t, Timestamp now);

  TransactionConfig config_;
  std::vector<Transaction> transactions_;
  std::deque<Datagram> to_send_;
  std::deque<TransactionTimeout> timeouts_;
};

}  // namespace rtcpp::stun
