// Small sans-IO example objects for the simulator's tests and demo: a windowed reliable
// transfer (sender and receiver) and a reflector that tells an endpoint its public address.
//
// Wire format, first byte the type:
//   'Q'                                   query to a reflector
//   'R' family(u8: 4|6) port(u16) ip       the reflector's answer: the query's source
//   'P'                                   hole punch (carries nothing; receivers ignore it)
//   'D' seq(u32) total(u32) payload        data; payload byte i is (seq + i) mod 256
//   'A' seq(u32) cumulative(u32)           ack of seq; all below `cumulative` have arrived
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "base/net.hpp"
#include "base/time.hpp"

namespace rtcpp::sim {

struct TransferEvent {
  enum class Kind : std::uint8_t {
    kAddressLearned,  // the reflector answered; `address` is our public address
    kPacketReceived,  // receiver: a new data packet `sequence` arrived
    kComplete,        // sender: everything acked; receiver: everything arrived
  };
  Kind kind;
  std::uint32_t sequence = 0;
  SocketAddress address;
};

struct TransferStats {
  std::uint64_t datagrams_sent = 0;        // of every type
  std::uint64_t data_sent = 0;             // data packets including retransmissions
  std::uint64_t retransmissions = 0;       // data packets sent again (timeout or fast)
  std::uint64_t fast_retransmissions = 0;  // of those, after three later packets were acked
  std::uint64_t acks = 0;                  // acks sent (receiver) or received (sender)
  std::uint64_t duplicates = 0;            // data packets that had already arrived (receiver)
  std::uint64_t corrupt = 0;               // data packets whose payload did not match (receiver)
};

// What the sender and the receiver share: an outbox, events, and the reflector query.
class TransferEndpoint {
 public:
  explicit TransferEndpoint(SocketAddress local) : local_(local) {}

  // Asks a Reflector for our public address, again every `retry` until it answers.
  void query_reflector(const SocketAddress& reflector, Timestamp now,
                       Duration retry = Duration::millis(200));
  const std::optional<SocketAddress>& reflexive_address() const noexcept { return reflexive_; }
  const SocketAddress& local() const noexcept { return local_; }
  const TransferStats& stats() const noexcept { return stats_; }

  std::optional<Datagram> poll_transmit();
  std::optional<TransferEvent> poll_event();

 protected:
  // Handles the reflector's answer; true if `d` was one.
  bool handle_common(const Datagram& d);
  void common_timeout(Timestamp now);
  std::optional<Timestamp> common_next_timeout() const;
  void send(const SocketAddress& to, Buffer payload);
  void emit(TransferEvent e) { events_.push_back(e); }
  static std::optional<Timestamp> earliest(std::optional<Timestamp> a, std::optional<Timestamp> b);

  SocketAddress local_;
  TransferStats stats_;

 private:
  std::deque<Datagram> outbox_;
  std::deque<TransferEvent> events_;
  std::optional<SocketAddress> reflector_;
  std::optional<SocketAddress> reflexive_;
  Timestamp query_at_;
  Duration query_retry_;
};

struct TransferConfig {
  std::uint32_t count = 100;                // data packets to deliver
  std::size_t payload_size = 500;           // bytes per data packet (after the 9-byte header)
  std::uint32_t window = 8;                 // unacked packets in flight at most
  Duration interval = Duration::millis(5);  // between new packets (pacing)
  Duration rto = Duration::millis(250);     // first retransmission timeout; doubles per retry
  Duration max_rto = Duration::seconds(2);
};

// Sends config.count sequenced packets, a new one every `interval` while fewer than `window`
// are unacked, and resends each unacked one when its timeout expires, or at once when three
// packets sent after it have been acked (so one loss does not stall the window for an RTO).
class ReliableSender : public TransferEndpoint {
 public:
  ReliableSender(SocketAddress local, const TransferConfig& config);

  void start(const SocketAddress& peer, Timestamp now);
  bool complete() const noexcept { return complete_; }
  std::uint32_t acked() const noexcept { return acked_; }

  void handle_packet(const Datagram& d, Timestamp now);
  void handle_timeout(Timestamp now);
  std::optional<Timestamp> next_timeout() const;

 private:
  struct Slot {
    bool acked = false;
    std::uint32_t attempts = 0;
    std::uint32_t later_acks = 0;  // acks for packets sent after this one was last sent
    std::uint64_t sent_order = 0;  // when it was last sent, in send order
    Timestamp deadline;
  };
  void send_data(std::uint32_t seq, Timestamp now);
  void mark_acked(std::uint32_t seq);

  TransferConfig config_;
  std::optional<SocketAddress> peer_;
  std::vector<Slot> slots_;
  std::uint32_t base_ = 0;      // first unacked
  std::uint32_t next_seq_ = 0;  // next never sent
  std::uint32_t acked_ = 0;
  std::uint64_t sends_ = 0;
  Timestamp next_send_;
  bool complete_ = false;
};

// Acks every data packet, verifies payloads, reports new packets and completion. Can punch
// a hole towards the sender first.
class ReliableReceiver : public TransferEndpoint {
 public:
  explicit ReliableReceiver(SocketAddress local) : TransferEndpoint(local) {}

  // Sends a punch packet to `peer` every `interval` until data arrives (at most 100).
  void punch(const SocketAddress& peer, Timestamp now, Duration interval = Duration::millis(50));
  bool complete() const noexcept { return complete_; }
  std::uint32_t received() const noexcept { return received_count_; }
  std::uint64_t punches_sent() const noexcept { return punches_sent_; }

  void handle_packet(const Datagram& d, Timestamp now);
  void handle_timeout(Timestamp now);
  std::optional<Timestamp> next_timeout() const;

 private:
  std::vector<bool> received_;
  std::uint32_t received_count_ = 0;
  std::uint32_t cumulative_ = 0;
  bool complete_ = false;
  bool data_seen_ = false;
  std::optional<SocketAddress> punch_peer_;
  Timestamp punch_at_;
  Duration punch_interval_;
  std::uint64_t punches_sent_ = 0;
};

// Answers every query with the address it came from (a minimal STUN stand-in).
class Reflector {
 public:
  explicit Reflector(SocketAddress local) : local_(local) {}
  void handle_packet(const Datagram& d, Timestamp now);
  void handle_timeout(Timestamp) {}
  std::optional<Datagram> poll_transmit();
  std::optional<TransferEvent> poll_event() { return std::nullopt; }
  std::optional<Timestamp> next_timeout() const { return std::nullopt; }

 private:
  SocketAddress local_;
  std::deque<Datagram> outbox_;
};

}  // namespace rtcpp::sim
