// `rtcpp demo`: two rtcpp peers in this process connect over real UDP sockets on loopback
// (ICE, DTLS 1.2, SCTP, a DCEP data channel) and one sends the other a file, with a progress
// bar on stderr and a summary at the end. Signaling is a direct hand-over inside the process;
// `rtcpp peer` (signaling over stdin/stdout between processes) is the next step.
#include "tools/demo.hpp"

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "base/hex.hpp"
#include "base/random.hpp"
#include "base/sha256.hpp"
#include "runtime/peer_transport_driver.hpp"

namespace rtcpp::tools {
namespace {

using runtime::monotonic_now;

void progress(std::size_t done, std::size_t total, double seconds) {
  const double fraction = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds / 1e6 : 0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / 1e6 / rate : 0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::fprintf(stderr, "\r[%.*s%*s] %5.1f%%  %7.1f MB/s  ETA %4.1fs ", filled,
               "##############################", kWidth - filled, "", fraction * 100, rate, eta);
}

}  // namespace

int run_demo(const DemoOptions& options) {
  Buffer file;
  if (!options.file.empty()) {
    std::ifstream in(options.file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "rtcpp demo: cannot read %s\n", options.file.c_str());
      return 1;
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    file = Buffer(as_bytes(std::string_view(bytes.data(), bytes.size())));
  } else {
    file = Buffer(options.generated_bytes);
    SeededRandom(2026).fill(file.mutable_view());
  }
  std::fprintf(stderr,
               "rtcpp demo: two peers over UDP on 127.0.0.1, sending %zu bytes on a data channel\n",
               file.size());

  CryptoRandom rng;
  boost::asio::io_context io;
  pc::PeerTransportConfig config;
  config.certificate = *dtls::Certificate::generate();
  auto offerer = pc::PeerTransport::create(config, ice::IceRole::kControlling, rng);
  config.certificate = *dtls::Certificate::generate();
  auto answerer = pc::PeerTransport::create(config, ice::IceRole::kControlled, rng);
  if (!offerer || !answerer) {
    std::fprintf(stderr, "rtcpp demo: %s\n",
                 (!offerer ? offerer.error() : answerer.error()).to_string().c_str());
    return 1;
  }
  pc::PeerTransport& a = **offerer;
  pc::PeerTransport& b = **answerer;

  const Timestamp start = monotonic_now();
  std::optional<Timestamp> open_at;
  std::optional<Timestamp> first_byte_at;
  std::optional<Timestamp> done_at;
  std::optional<std::uint16_t> channel;
  std::size_t offset = 0;
  std::size_t received = 0;
  std::uint64_t messages = 0;
  Sha256 received_hash;
  std::string failure;
  constexpr std::size_t kChunk = 64 * 1024;
  constexpr std::size_t kHighWater = 1024 * 1024;

  std::unique_ptr<runtime::PeerTransportDriver> driver_a;
  std::unique_ptr<runtime::PeerTransportDriver> driver_b;
  auto pump_sender = [&] {
    if (!channel) return;
    while (offset < file.size() && a.buffered_amount(*channel) < kHighWater) {
      const std::size_t n = std::min(kChunk, file.size() - offset);
      if (!a.send(*channel, file.view().subspan(offset, n), true)) break;
      offset += n;
    }
  };
  // Each peer's events: candidates go straight to the other side (trickle), the sender
  // starts when the channel can carry data, the receiver hashes what arrives.
  auto on_a = [&](pc::PeerTransportEvent&& e) {
    if (auto* ice_event = std::get_if<ice::IceEvent>(&e)) {
      if (auto* c = std::get_if<ice::IceLocalCandidateEvent>(ice_event)) {
        (void)b.ice().add_remote_candidate(c->candidate, monotonic_now());
        if (driver_b) driver_b->kick();
      }
    } else if (auto* s = std::get_if<pc::SctpStateEvent>(&e)) {
      if (s->connected && !channel) {
        auto id = a.open_channel({.label = "file"});
        if (id) channel = *id;
      } else if (s->error) {
        failure = s->error->to_string();
      }
    } else if (auto* d = std::get_if<pc::DtlsStateEvent>(&e); d && d->error) {
      failure = d->error->to_string();
    }
  };
  auto on_b = [&](pc::PeerTransportEvent&& e) {
    if (auto* ice_event = std::get_if<ice::IceEvent>(&e)) {
      if (auto* c = std::get_if<ice::IceLocalCandidateEvent>(ice_event)) {
        (void)a.ice().add_remote_candidate(c->candidate, monotonic_now());
        if (driver_a) driver_a->kick();
      }
    } else if (auto* o = std::get_if<pc::ChannelOpenEvent>(&e)) {
      if (!open_at) open_at = monotonic_now();
      std::fprintf(stderr, "rtcpp demo: channel '%s' open (stream %u)\n", o->channel.label.c_str(),
                   o->channel.id);
    } else if (auto* m = std::get_if<pc::ChannelMessageEvent>(&e)) {
      const Timestamp now = monotonic_now();
      if (!first_byte_at) first_byte_at = now;
      received += m->data.size();
      ++messages;
      received_hash.update(m->data);
      if (messages % 16 == 0 || received == file.size())
        progress(received, file.size(), (now - *first_byte_at).seconds_f());
      if (received >= file.size()) {
        done_at = now;
        io.stop();
      }
    }
  };
  driver_a = std::make_unique<runtime::PeerTransportDriver>(io, a, on_a);
  driver_b = std::make_unique<runtime::PeerTransportDriver>(io, b, on_b);

  // The offer/answer, handed over directly: the offerer is actpass and the answerer picks
  // active (RFC 8842), so the answerer is the DTLS client.
  const auto loopback = *IpAddress::parse("127.0.0.1");
  auto bound_a = driver_a->bind(loopback);
  auto bound_b = driver_b->bind(loopback);
  if (!bound_a || !bound_b) {
    std::fprintf(stderr, "rtcpp demo: %s\n",
                 (!bound_a ? bound_a.error() : bound_b.error()).to_string().c_str());
    return 1;
  }
  a.ice().finish_gathering(monotonic_now());
  b.ice().finish_gathering(monotonic_now());
  (void)a.set_remote_parameters(b.local_ice_credentials().ufrag, b.local_ice_credentials().pwd,
                                b.local_fingerprints(), dtls::DtlsRole::kServer, monotonic_now());
  (void)b.set_remote_parameters(a.local_ice_credentials().ufrag, a.local_ice_credentials().pwd,
                                a.local_fingerprints(), dtls::DtlsRole::kClient, monotonic_now());
  driver_a->kick();
  driver_b->kick();

  // Run until done, failed or timed out, feeding the sender between events.
  boost::asio::steady_timer deadline(io);
  deadline.expires_after(std::chrono::seconds(options.timeout_seconds));
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) {
      failure = "timed out";
      io.stop();
    }
  });
  while (!io.stopped() && failure.empty()) {
    io.run_one();
    pump_sender();
    driver_a->kick();
  }
  std::fprintf(stderr, "\n");

  Sha256 sent_hash;
  sent_hash.update(file);
  const std::string want = sent_hash.hex();
  const std::string got = received_hash.hex();
  const bool ok = failure.empty() && received == file.size() && want == got;
  const double connect_ms = open_at ? (*open_at - start).ms_f() : -1;
  const double transfer_s = done_at && first_byte_at ? (*done_at - *first_byte_at).seconds_f() : 0;
  std::printf("result: %s\n",
              ok ? "ok" : ("FAILED" + (failure.empty() ? "" : " (" + failure + ")")).c_str());
  std::printf(
      "  channel open after:   %.1f ms (ICE + DTLS + SCTP + DCEP, both peers' CPU on one thread)\n",
      connect_ms);
  std::printf("  bytes received:       %zu of %zu in %llu messages\n", received, file.size(),
              static_cast<unsigned long long>(messages));
  if (transfer_s > 0)
    std::printf("  transfer:             %.3f s, %.1f MB/s\n", transfer_s,
                static_cast<double>(received) / transfer_s / 1e6);
  std::printf("  sha256 sent/received: %s / %s\n", want.substr(0, 16).c_str(),
              got.substr(0, 16).c_str());
  std::printf(
      "  DTLS cipher suite:    %s, SRTP profile %s\n", a.dtls().cipher_suite().c_str(),
      a.dtls().srtp_keying_material() ? a.dtls().srtp_keying_material()->profile.c_str() : "-");
  std::printf("  SCTP:                 %llu packets sent, %llu retransmitted, cwnd %zu bytes\n",
              static_cast<unsigned long long>(a.sctp().packets_sent()),
              static_cast<unsigned long long>(a.sctp().retransmissions()), a.sctp().cwnd());
  std::printf("  UDP datagrams:        %llu sent, %llu received (sender side)\n",
              static_cast<unsigned long long>(driver_a->datagrams_sent()),
              static_cast<unsigned long long>(driver_a->datagrams_received()));
  driver_a->close();
  driver_b->close();
  return ok ? 0 : 1;
}

}  // namespace rtcpp::tools
