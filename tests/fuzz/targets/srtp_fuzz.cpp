// SRTP and SRTCP packets from the network: never crash. For each profile, with a fixed key,
// the input is unprotected as SRTP and as SRTCP (which must fail unless it was protected with
// that key: the seed corpus holds such packets); and taken as plaintext, whatever protects
// must unprotect to the same bytes, and not once more (replay), and not with a bit flipped.
#include <cstdint>
#include <cstdlib>

#include "rtp/srtp.hpp"

using namespace rtcpp;
using namespace rtcpp::rtp;

namespace {

constexpr SrtpProfile kProfiles[] = {SrtpProfile::kAes128CmHmacSha1_80,
                                     SrtpProfile::kAes128CmHmacSha1_32, SrtpProfile::kAeadAes128Gcm,
                                     SrtpProfile::kAeadAes256Gcm};

// Master key bytes 0, 1, 2, ... and master salt bytes 0xa0, 0xa1, ... (the seeds use them).
SrtpSession fixed_session(SrtpProfile profile) {
  Buffer key(srtp_master_key_length(profile));
  Buffer salt(srtp_master_salt_length(profile));
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<std::uint8_t>(0xa0 + i);
  auto session = SrtpSession::create(profile, key, salt);
  if (!session) std::abort();
  return std::move(*session);
}

using Protect = SrtpResult<> (SrtpSession::*)(BytesView, Buffer&);

void round_trip(SrtpProfile profile, BytesView plain, Protect protect, Protect unprotect) {
  SrtpSession sender = fixed_session(profile);
  SrtpSession receiver = fixed_session(profile);
  Buffer sealed;
  Buffer opened;
  if (!(sender.*protect)(plain, sealed)) {
    if (!sealed.empty()) std::abort();  // an error leaves the output empty
    return;
  }
  if (!(receiver.*unprotect)(sealed, opened) || !equal_bytes(opened, plain)) std::abort();
  if ((receiver.*unprotect)(sealed, opened)) std::abort();  // replayed
  sealed[sealed.size() - 1] ^= 0x01;
  SrtpSession other = fixed_session(profile);
  if ((other.*unprotect)(sealed, opened)) std::abort();  // forged tag or index
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  Buffer out;
  for (SrtpProfile profile : kProfiles) {
    SrtpSession receiver = fixed_session(profile);
    if (receiver.unprotect_rtp(input, out)) {
      // Authentic: the same packet again is a replay.
      if (receiver.unprotect_rtp(input, out)) std::abort();
    } else if (!out.empty()) {
      std::abort();
    }
    if (receiver.unprotect_rtcp(input, out)) {
      if (receiver.unprotect_rtcp(input, out)) std::abort();
    } else if (!out.empty()) {
      std::abort();
    }
    round_trip(profile, input, &SrtpSession::protect_rtp, &SrtpSession::unprotect_rtp);
    round_trip(profile, input, &SrtpSession::protect_rtcp, &SrtpSession::unprotect_rtcp);
  }
  return 0;
}
