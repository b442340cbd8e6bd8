// DTLS handshake cost: a full handshake between two in-process transports (no network),
// certificates generated once outside the loop.
#include <benchmark/benchmark.h>

#include "dtls/dtls_transport.hpp"

namespace rtcpp::dtls {
namespace {

void handshake(benchmark::State& state, const KeyAlgorithm& algorithm) {
  auto a_cert = *Certificate::generate(algorithm);
  auto b_cert = *Certificate::generate(algorithm);
  for (auto _ : state) {
    DtlsConfig ca;
    ca.certificate = a_cert;
    DtlsConfig cb;
    cb.certificate = b_cert;
    auto a = std::move(*DtlsTransport::create(ca));
    auto b = std::move(*DtlsTransport::create(cb));
    a->set_remote_fingerprints(b_cert->get_fingerprints(), Timestamp::zero());
    b->set_remote_fingerprints(a_cert->get_fingerprints(), Timestamp::zero());
    a->start(DtlsRole::kClient, Timestamp::zero());
    b->start(DtlsRole::kServer, Timestamp::zero());
    for (int i = 0;
         i < 20 && (a->state() != DtlsState::kConnected || b->state() != DtlsState::kConnected);
         ++i) {
      while (auto d = a->poll_transmit()) b->handle_packet(*d, Timestamp::zero());
      while (auto d = b->poll_transmit()) a->handle_packet(*d, Timestamp::zero());
    }
    if (a->state() != DtlsState::kConnected) state.SkipWithError("handshake failed");
  }
}

void BM_DtlsHandshakeEcdsaP256(benchmark::State& state) {
  handshake(state, KeyAlgorithm::ecdsa_p256());
}
BENCHMARK(BM_DtlsHandshakeEcdsaP256)->Unit(benchmark::kMillisecond);

void BM_DtlsHandshakeRsa2048(benchmark::State& state) {
  handshake(state, KeyAlgorithm::rsa(2048));
}
BENCHMARK(BM_DtlsHandshakeRsa2048)->Unit(benchmark::kMillisecond);

void BM_CertificateGenerateEcdsaP256(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Certificate::generate());
}
BENCHMARK(BM_CertificateGenerateEcdsaP256)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace rtcpp::dtls
