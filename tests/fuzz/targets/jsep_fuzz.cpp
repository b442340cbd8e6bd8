// A remote description through JSEP: read as an offer, answered section by section, and our
// answer read back as an answer to it; read as an answer to an offer of ours. Never crash;
// an answer we write to an offer we accepted must read back.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pc/jsep.hpp"
#include "pc/transceivers.hpp"

namespace {

using namespace rtcpp;

const pc::TransportDescription& our_transport() {
  static const pc::TransportDescription transport = [] {
    pc::TransportDescription t;
    t.ice_ufrag = "fuzz";
    t.ice_pwd = "0123456789012345678901";
    t.fingerprints.push_back(*dtls::Fingerprint::parse(
        "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
        "AA:BB:CC:DD:EE:FF"));
    t.setup = pc::DtlsSetup::kActive;
    return t;
  }();
  return transport;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sd = sdp::SessionDescription::parse(text);
  if (!sd) return 0;

  // As an answer to an offer of ours with audio, video and data.
  pc::TransceiverList ours;
  ours.add(pc::MediaKind::kAudio, pc::RtpDirection::kSendRecv);
  ours.add(pc::MediaKind::kVideo, pc::RtpDirection::kRecvOnly);
  const auto offered = pc::plan_offer({}, ours);
  (void)pc::read_remote_description(*sd, offered);

  // As an offer.
  auto offer = pc::read_remote_description(*sd);
  if (!offer) return 0;
  pc::TransceiverList transceivers;
  auto plan = pc::plan_answer(
      *offer,
      [&](std::size_t i) -> std::optional<std::uint32_t> {
        if (offer->sections[i].rejected) return std::nullopt;
        return transceivers.associate_remote(offer->sections[i].kind, offer->sections[i].mid);
      },
      [](std::size_t i) { return i % 2 == 0; });
  const auto answer_text =
      pc::write_description({our_transport(), 1, 1}, plan.sections, plan.bundle);
  auto answer = sdp::SessionDescription::parse(answer_text);
  if (!answer) std::abort();
  std::vector<pc::MSection> as_offered;
  for (const auto& s : offer->sections) as_offered.push_back(pc::section_of(s));
  if (!pc::read_remote_description(*answer, as_offered)) std::abort();
  // A later offer of ours from the layout this answer made.
  std::vector<pc::MSection> negotiated = plan.sections;
  const auto later = pc::plan_offer(negotiated, transceivers);
  if (later.size() < negotiated.size()) std::abort();
  return 0;
}
