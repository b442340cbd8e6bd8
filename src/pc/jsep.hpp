// JSEP (RFC 8829) for data-channel sessions: building our offer or answer as SDP and reading
// the transport parameters out of the peer's. Audio and video sections of a remote offer are
// kept and answered as rejected (port 0) until the media milestone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dtls/certificate.hpp"
#include "dtls/dtls_transport.hpp"
#include "ice/candidate.hpp"
#include "rtcpp/error.hpp"
#include "sdp/session_description.hpp"

namespace rtcpp::pc {

// RFC 8842 a=setup.
enum class DtlsSetup : std::uint8_t { kActpass, kActive, kPassive };
std::string_view to_string(DtlsSetup setup) noexcept;

struct TransportDescription {
  std::string ice_ufrag;
  std::string ice_pwd;
  bool ice_lite = false;
  std::vector<std::string> ice_options;  // "trickle", ...
  std::vector<dtls::Fingerprint> fingerprints;
  DtlsSetup setup = DtlsSetup::kActpass;
  std::string mid = "0";
  std::uint16_t sctp_port = 5000;
  // a=max-message-size (RFC 8841 6); absent means 64 KiB.
  std::size_t max_message_size = 65536;
  std::vector<ice::Candidate> candidates;
  bool end_of_candidates = false;
};

// Our description: an offer, or the answer to `remote_offer`.
struct LocalDescriptionOptions {
  TransportDescription transport;
  std::uint64_t session_id = 1;
  std::uint64_t session_version = 1;
};
std::string build_offer(const LocalDescriptionOptions& options);
Result<std::string> build_answer(const LocalDescriptionOptions& options,
                                 const sdp::SessionDescription& remote_offer);

// The data-channel transport of a remote description: the m=application section with
// webrtc-datachannel (RFC 8841, or the older sctpmap form), with session-level ICE and
// fingerprint attributes as fallback. InvalidAccessError when something required is missing.
Result<TransportDescription> read_remote_transport(const sdp::SessionDescription& remote);

// Our DTLS role once both setups are known (RFC 8842 5.3): the answerer's choice decides.
Result<dtls::DtlsRole> negotiate_dtls_role(DtlsSetup local, DtlsSetup remote,
                                           bool local_is_offerer);

}  // namespace rtcpp::pc
