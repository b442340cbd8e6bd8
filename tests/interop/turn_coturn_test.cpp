// Two rtcpp connections, relay-only, through a real TURN server (Debian's coturn, started by
// run_coturn.sh, which passes its ports in RTCPP_TURN_PORT and RTCPP_TURN_TLS_PORT and its
// self-signed certificate in RTCPP_TURN_CA): a data channel echo over TURN/UDP, TURN/TCP and
// TURN/TLS, the selected pair relay/relay in getStats, and a wrong password or an untrusted
// certificate reported as an icecandidateerror. Skipped when no server was started.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include "common/eventually.hpp"
#include "rtcpp/rtcpp.hpp"

namespace rtcpp {
namespace {

using namespace std::chrono_literals;

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::optional<std::string> turn_port() {
  return env("RTCPP_TURN_PORT");
}

// The URL of the server for one transport (TLS by name: the certificate names localhost).
std::string turn_url(const std::string& transport) {
  if (transport == "tls") return "turns:localhost:" + env("RTCPP_TURN_TLS_PORT").value_or("0");
  return "turn:127.0.0.1:" + turn_port().value_or("0") + "?transport=" + transport;
}

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 20s) {
  return rtcpp::test_support::eventually(pred, limit);
}

RTCConfiguration relay_config(const std::string& url, const std::string& password) {
  RTCConfiguration config;
  config.gather_loopback = true;  // coturn listens on 127.0.0.1 only
  config.ice_transport_policy = RTCIceTransportPolicy::kRelay;
  config.ice_servers.push_back({{url}, "user", password});
  config.turns_ca_file = env("RTCPP_TURN_CA").value_or("");
  return config;
}

// Candidates go straight across once the target has its remote description.
struct Trickle {
  std::mutex mutex;
  std::vector<RTCIceCandidateInit> pending;
  bool ready = false;
  std::shared_ptr<RTCPeerConnection> target;
  std::atomic<int> relay_candidates{0};
  std::atomic<int> other_candidates{0};

  void on_candidate(const RTCPeerConnectionIceEvent& e) {
    if (!e.candidate) return;
    if (e.candidate->candidate().empty()) {
      // The end of candidates: relayed like a candidate, counted as none.
    } else if (e.candidate->candidate().find(" typ relay") != std::string::npos) {
      ++relay_candidates;
    } else {
      ++other_candidates;
    }
    RTCIceCandidateInit init = e.candidate->to_json();
    std::unique_lock lock(mutex);
    if (!ready) {
      pending.push_back(init);
      return;
    }
    lock.unlock();
    target->add_ice_candidate(init, [](Result<>) {});
  }
  void flush() {
    std::vector<RTCIceCandidateInit> todo;
    {
      std::lock_guard lock(mutex);
      ready = true;
      todo.swap(pending);
    }
    for (const auto& c : todo) (void)target->add_ice_candidate(c).get();
  }
};

std::string selected_types(RTCPeerConnection& pc) {
  const RTCStatsReport report = pc.get_stats().get();
  for (const auto& [id, s] : report) {
    if (s.type != "transport") continue;
    auto pair_id = s.get<std::string>("selectedCandidatePairId");
    if (!pair_id) return "none";
    const RTCStats* pair = report.get(*pair_id);
    if (pair == nullptr) return "none";
    const RTCStats* local = report.get(*pair->get<std::string>("localCandidateId"));
    const RTCStats* remote = report.get(*pair->get<std::string>("remoteCandidateId"));
    if (local == nullptr || remote == nullptr) return "none";
    return local->get<std::string>("candidateType").value_or("?") + "/" +
           remote->get<std::string>("candidateType").value_or("?");
  }
  return "none";
}

// What one echo run between two connections saw.
struct EchoRun {
  bool echoed = false;
  int a_relay_candidates = 0;
  int a_other_candidates = 0;
  int b_relay_candidates = 0;
  int b_other_candidates = 0;
  int errors = 0;
  std::string a_selected;
  std::string b_selected;
  std::chrono::milliseconds connect_time{0};
  std::chrono::milliseconds echo_time{0};
};

// Connects `a` (which opens an "echo" channel) to `b` (which echoes), trickling candidates;
// `b_ipv6_only` withholds b's IPv4 candidates from a. Then 1 MB in 10 KB messages is echoed.
void run_echo(const RTCConfiguration& a_config, const RTCConfiguration& b_config, bool b_ipv6_only,
              EchoRun& out) {
  const auto start = std::chrono::steady_clock::now();
  auto a = *RTCPeerConnection::create(a_config);
  auto b = *RTCPeerConnection::create(b_config);
  Trickle to_b;
  Trickle to_a;
  to_b.target = b;
  to_a.target = a;
  a->on_ice_candidate([&](const RTCPeerConnectionIceEvent& e) { to_b.on_candidate(e); });
  b->on_ice_candidate([&](const RTCPeerConnectionIceEvent& e) {
    if (b_ipv6_only && e.candidate && e.candidate->address &&
        e.candidate->address->find(':') == std::string::npos)
      return;
    to_a.on_candidate(e);
  });
  std::atomic<int> errors{0};
  a->on_ice_candidate_error([&](const RTCPeerConnectionIceErrorEvent& e) {
    ++errors;
    std::cerr << "icecandidateerror " << e.error_code << " " << e.error_text << "\n";
  });

  auto channel = *a->create_data_channel("echo", {});
  std::atomic<bool> opened{false};
  std::mutex mutex;
  std::vector<std::uint8_t> echoed;
  std::atomic<std::size_t> echoed_size{0};
  channel->on_open([&] { opened = true; });
  channel->on_message([&](const RTCMessageEvent& m) {
    std::lock_guard lock(mutex);
    echoed.insert(echoed.end(), m.data.begin(), m.data.end());
    echoed_size = echoed.size();
  });
  std::shared_ptr<RTCDataChannel> remote;
  b->on_data_channel([&](std::shared_ptr<RTCDataChannel> c) {
    // A weak reference: a handler holding its own channel would keep it alive for ever.
    std::weak_ptr<RTCDataChannel> weak = c;
    c->on_message([weak](const RTCMessageEvent& m) {
      if (auto self = weak.lock()) (void)self->send(std::span<const std::uint8_t>(m.data));
    });
    std::lock_guard lock(mutex);
    remote = c;
  });

  auto offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(a->set_local_description(*offer).get());
  ASSERT_TRUE(b->set_remote_description(*offer).get());
  to_b.flush();
  auto answer = b->create_answer().get();
  ASSERT_TRUE(answer);
  ASSERT_TRUE(b->set_local_description(*answer).get());
  ASSERT_TRUE(a->set_remote_description(*answer).get());
  to_a.flush();

  ASSERT_TRUE(eventually([&] { return opened.load(); })) << "no data channel over TURN";
  const auto connected = std::chrono::steady_clock::now();
  // 1 MB in 10 KB messages, echoed back.
  std::vector<std::uint8_t> sent;
  for (int i = 0; i < 100; ++i) {
    std::vector<std::uint8_t> message(10000);
    for (std::size_t k = 0; k < message.size(); ++k)
      message[k] = static_cast<std::uint8_t>(i * 31 + k);
    sent.insert(sent.end(), message.begin(), message.end());
    ASSERT_TRUE(channel->send(std::span<const std::uint8_t>(message)));
  }
  ASSERT_TRUE(eventually([&] { return echoed_size.load() == sent.size(); }, 30s))
      << echoed_size.load();
  const auto done = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex);
    out.echoed = echoed == sent;
  }
  out.a_relay_candidates = to_b.relay_candidates.load();
  out.a_other_candidates = to_b.other_candidates.load();
  out.b_relay_candidates = to_a.relay_candidates.load();
  out.b_other_candidates = to_a.other_candidates.load();
  out.errors = errors.load();
  out.a_selected = selected_types(*a);
  out.b_selected = selected_types(*b);
  out.connect_time = std::chrono::duration_cast<std::chrono::milliseconds>(connected - start);
  out.echo_time = std::chrono::duration_cast<std::chrono::milliseconds>(done - connected);
  a->close();
  b->close();
}

class Coturn : public ::testing::TestWithParam<std::string> {};

TEST_P(Coturn, RelayOnlyDataChannelEcho) {
  const auto port = turn_port();
  if (!port) GTEST_SKIP() << "RTCPP_TURN_PORT not set: run through tests/interop/run_coturn.sh";
  if (GetParam() == "tls" && !env("RTCPP_TURN_TLS_PORT"))
    GTEST_SKIP() << "no TLS port: the server was started without TLS";
  const std::string url = turn_url(GetParam());
  EchoRun run;
  run_echo(relay_config(url, "pass"), relay_config(url, "pass"), false, run);
  if (HasFatalFailure()) return;
  EXPECT_TRUE(run.echoed);
  EXPECT_EQ(run.a_other_candidates, 0);  // relay policy: nothing else is offered
  EXPECT_EQ(run.b_other_candidates, 0);
  EXPECT_GE(run.a_relay_candidates, 1);
  EXPECT_GE(run.b_relay_candidates, 1);
  EXPECT_EQ(run.errors, 0);
  EXPECT_EQ(run.a_selected, "relay/relay");
  EXPECT_EQ(run.b_selected, "relay/relay");
  std::cout << "coturn relay-only over " << GetParam() << ": connected (data channel open) in "
            << run.connect_time.count() << " ms; 1 MB echoed in " << run.echo_time.count()
            << " ms\n";
}

// RFC 8656 dual allocation: `a` reaches coturn over IPv4 only and gets an IPv6 relay beside
// the IPv4 one; `b` offers only IPv6 (loopback) host candidates and uses no TURN server.
TEST(CoturnDualStack, Ipv4ClientReachesIpv6OnlyPeerThroughItsIpv6Relay) {
  if (!turn_port())
    GTEST_SKIP() << "RTCPP_TURN_PORT not set: run through tests/interop/run_coturn.sh";
  if (!env("RTCPP_TURN_IPV6_RELAY")) GTEST_SKIP() << "the server has no IPv6 relay address";
  RTCConfiguration a_config = relay_config(turn_url("udp"), "pass");
  a_config.turn_dual_stack = true;
  RTCConfiguration b_config;
  b_config.gather_loopback = true;
  EchoRun run;
  run_echo(a_config, b_config, true, run);
  if (HasFatalFailure()) return;
  EXPECT_TRUE(run.echoed);
  EXPECT_EQ(run.a_relay_candidates, 2);  // 127.0.0.1 and ::1, from one allocation
  EXPECT_EQ(run.a_other_candidates, 0);
  EXPECT_EQ(run.errors, 0);
  EXPECT_EQ(run.a_selected, "relay/host");
  EXPECT_EQ(run.b_selected, "host/relay");
  std::cout << "coturn dual allocation, IPv4 client to IPv6-only peer: connected in "
            << run.connect_time.count() << " ms; 1 MB echoed in " << run.echo_time.count()
            << " ms\n";
}

INSTANTIATE_TEST_SUITE_P(Transports, Coturn, ::testing::Values("udp", "tcp", "tls"));

// Gathers with one server and returns the icecandidateerror events.
std::vector<RTCPeerConnectionIceErrorEvent> gathering_errors(RTCConfiguration config) {
  auto a = *RTCPeerConnection::create(std::move(config));
  std::mutex mutex;
  std::vector<RTCPeerConnectionIceErrorEvent> errors;
  std::atomic<bool> complete{false};
  a->on_ice_candidate_error([&](const RTCPeerConnectionIceErrorEvent& e) {
    std::lock_guard lock(mutex);
    errors.push_back(e);
  });
  a->on_ice_gathering_state_change([&] {
    if (a->ice_gathering_state() == RTCIceGatheringState::kComplete) complete = true;
  });
  (void)a->create_data_channel("x", {});
  auto offer = a->create_offer().get();
  EXPECT_TRUE(offer);
  if (offer) {
    EXPECT_TRUE(a->set_local_description(*offer).get());
  }
  EXPECT_TRUE(eventually([&] { return complete.load(); }));
  a->close();
  std::lock_guard lock(mutex);
  return errors;
}

TEST(CoturnErrors, WrongPasswordIsReported) {
  if (!turn_port())
    GTEST_SKIP() << "RTCPP_TURN_PORT not set: run through tests/interop/run_coturn.sh";
  for (const std::string transport : {"udp", "tcp"}) {
    const auto errors = gathering_errors(relay_config(turn_url(transport), "wrong"));
    ASSERT_FALSE(errors.empty()) << transport;
    EXPECT_EQ(errors[0].error_code, 401) << transport;
    EXPECT_EQ(errors[0].url, turn_url(transport));
  }
}

TEST(CoturnErrors, UntrustedCertificateIsReported) {
  if (!env("RTCPP_TURN_TLS_PORT")) GTEST_SKIP() << "no TLS port";
  auto config = relay_config(turn_url("tls"), "pass");
  config.turns_ca_file.clear();  // only the system CAs, which never signed the test's certificate
  auto errors = gathering_errors(config);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].error_code, 701);
  EXPECT_NE(errors[0].error_text.find("certificate verify failed"), std::string::npos)
      << errors[0].error_text;
  // The right CA, but reached by an address the certificate does not name (it names
  // localhost only): refused too.
  errors = gathering_errors(
      relay_config("turns:127.0.0.1:" + env("RTCPP_TURN_TLS_PORT").value_or("0"), "pass"));
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].error_code, 701);
  EXPECT_NE(errors[0].error_text.find("certificate verify failed"), std::string::npos)
      << errors[0].error_text;
}

}  // namespace
}  // namespace rtcpp
