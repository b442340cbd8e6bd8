// Helpers shared by the simulator tests: a traffic probe and a two-host rig.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"
#include "base/sha256.hpp"
#include "network.hpp"

namespace rtcpp::sim::testing {

// Hashes every datagram the network sees, as the seed determines it: DTLS records count by
// their place and time only, since OpenSSL draws its own randoms inside the handshake and
// they reach the bytes (and, through a signature's DER length, the sizes) of the records
// (docs/architecture.md, "Determinism").
inline void hash_trace(Network& net, Sha256& trace) {
  net.set_trace_observer([&trace](const TraceRecord& r) {
    const BytesView payload = r.datagram.payload;
    const bool dtls = !payload.empty() && payload[0] >= 20 && payload[0] <= 63;  // RFC 7983
    std::string record = std::to_string(r.at.us()) + " " +
                         std::to_string(static_cast<int>(r.kind)) + " " +
                         std::to_string(static_cast<int>(r.reason)) + " " +
                         r.datagram.source.to_string() + " " + r.datagram.destination.to_string() +
                         (dtls ? " dtls" : " " + std::to_string(payload.size())) + "\n";
    trace.update(BytesView(reinterpret_cast<const std::uint8_t*>(record.data()), record.size()));
    if (!dtls) trace.update(payload);
  });
}

// A sans-IO traffic source and sink: sends `count` numbered, timestamped datagrams every
// `interval` to a peer, records what arrives and, if asked, echoes it back.
class Probe {
 public:
  struct Arrival {
    std::uint32_t sequence;
    Timestamp sent;
    Timestamp received;
    SocketAddress from;
    std::size_t size;
  };
  explicit Probe(SocketAddress self, std::size_t payload = 100) : self_(self), payload_(payload) {}

  void start(const SocketAddress& peer, std::uint32_t count, Duration interval, Timestamp now) {
    peer_ = peer;
    remaining_ = count;
    interval_ = interval;
    next_send_ = now;
  }
  // Queues one datagram now (the test then calls Network::wake).
  void send_now(const SocketAddress& to, Timestamp now, std::size_t payload = 12) {
    out_.push_back({self_, to, make_payload(now, payload)});
  }

  bool echo = false;
  std::vector<Arrival> arrivals;

  void handle_packet(const Datagram& d, Timestamp now) {
    ByteReader r(d.payload);
    const auto seq = r.read_u32();
    const auto sent = r.read_u64();
    if (!seq || !sent) return;
    arrivals.push_back({*seq, Timestamp::micros(static_cast<std::int64_t>(*sent)), now, d.source,
                        d.payload.size()});
    if (echo) out_.push_back({self_, d.source, d.payload});
  }
  void handle_timeout(Timestamp now) {
    while (remaining_ > 0 && next_send_ <= now) {
      out_.push_back({self_, peer_, make_payload(now, payload_)});
      --remaining_;
      next_send_ += interval_;
    }
  }
  std::optional<Datagram> poll_transmit() {
    if (out_.empty()) return std::nullopt;
    Datagram d = std::move(out_.front());
    out_.pop_front();
    return d;
  }
  std::optional<int> poll_event() { return std::nullopt; }
  std::optional<Timestamp> next_timeout() const {
    if (remaining_ == 0) return std::nullopt;
    return next_send_;
  }
  std::uint32_t sent() const { return sequence_; }

 private:
  Buffer make_payload(Timestamp now, std::size_t size) {
    Buffer payload;
    ByteWriter w(payload);
    w.write_u32(sequence_++);
    w.write_u64(static_cast<std::uint64_t>(now.us()));
    w.write_zeros(size > 12 ? size - 12 : 0);
    return payload;
  }

  SocketAddress self_;
  SocketAddress peer_;
  std::size_t payload_;
  std::uint32_t remaining_ = 0;
  std::uint32_t sequence_ = 0;
  Duration interval_;
  Timestamp next_send_;
  std::deque<Datagram> out_;
};

inline const IpAddress kIpA = IpAddress::v4(198, 51, 100, 1);
inline const IpAddress kIpB = IpAddress::v4(198, 51, 100, 2);

// Two public hosts; A sends to B over B's downlink, configured as `link` (everything else is
// a clean zero-delay link).
struct TwoHosts {
  explicit TwoHosts(std::uint64_t seed, const LinkConfig& link, std::size_t payload = 100)
      : net(seed), a({kIpA, 1000}, payload), b({kIpB, 2000}, payload), node_a(a), node_b(b) {
    host_a = net.add_host({kIpA});
    host_b = net.add_host({kIpB});
    net.set_links(host_b, LinkConfig{}, link);
    net.bind(host_a, {kIpA, 1000}, node_a);
    net.bind(host_b, {kIpB, 2000}, node_b);
  }
  // Sends `count` datagrams A -> B and runs until all have had time to arrive.
  void send(std::uint32_t count, Duration interval) {
    a.start({kIpB, 2000}, count, interval, net.now());
    net.wake(node_a);
    net.run_for(interval * count + Duration::seconds(5));
  }
  Network net;
  Probe a;
  Probe b;
  SansIoNode<Probe> node_a;
  SansIoNode<Probe> node_b;
  Network::HostId host_a = 0;
  Network::HostId host_b = 0;
};

}  // namespace rtcpp::sim::testing
