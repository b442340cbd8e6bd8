// The association's setup (RFC 9260 5.1, 5.2): the extensions advertised and learnt in
// INIT / INIT ACK, the signed state cookie, the T1 timer that retransmits INIT or COOKIE
// ECHO, and what a COOKIE ECHO means for an association that may already exist (5.2.4).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "base/bytes.hpp"
#include "base/time.hpp"
#include "base/timer.hpp"
#include "sctp/packet.hpp"

namespace rtcpp::sctp {

// Extensions both ends may advertise, as bits (kept in the state cookie).
namespace extension {
inline constexpr std::uint8_t kForwardTsn = 0x01;    // RFC 3758
inline constexpr std::uint8_t kReconfig = 0x02;      // RFC 6525
inline constexpr std::uint8_t kIData = 0x04;         // RFC 8260
inline constexpr std::uint8_t kIForwardTsn = 0x08;   // RFC 8260 2.3
inline constexpr std::uint8_t kZeroChecksum = 0x10;  // RFC 9653, the DTLS method
}  // namespace extension

// Storage for the parameter values add_extension_parameters points to.
struct ExtensionValues {
  std::array<std::uint8_t, 4> chunks{};
  std::array<std::uint8_t, 4> edmid{};
};
// Adds the parameters that advertise `extensions` (extension:: bits) to an INIT or INIT ACK.
void add_extension_parameters(InitChunk& init, std::uint8_t extensions, ExtensionValues& values);
// The extensions a peer's INIT or INIT ACK advertises (extension:: bits).
std::uint8_t advertised_extensions(const InitChunk& init);

// What our INIT or INIT ACK says.
struct InitParameters {
  std::uint32_t tag = 0;
  std::uint32_t a_rwnd = 0;
  std::uint16_t streams = 0;  // outbound and inbound
  std::uint32_t initial_tsn = 0;
  std::uint8_t extensions = 0;  // extension:: bits
};
// An INIT or INIT ACK (with `cookie` when not empty) in a packet of its own. It always
// carries a CRC32c (RFC 9653 5.2): its receiver may not know yet whether we accept zero.
Buffer init_packet(std::uint8_t type, const InitParameters& ours, BytesView cookie,
                   const CommonHeader& header, std::size_t mtu);

// What a state cookie of ours carries (RFC 9260 5.1.3), the tie-tags only when it answered
// an INIT that arrived on an established association (5.2.2).
struct CookieContents {
  InitChunk peer;
  std::uint32_t our_tag = 0;
  std::uint32_t our_initial_tsn = 0;
  std::uint32_t local_tie_tag = 0;
  std::uint32_t peer_tie_tag = 0;
  std::uint8_t extensions = 0;
};

// RFC 9260 5.2.4: what a valid COOKIE ECHO asks of the association it arrives at.
enum class CookieEchoAction : std::uint8_t {
  kDiscard,   // stale, replayed, or for another association (cases B, C)
  kAccept,    // the association it sets up is this one, new
  kAckAgain,  // ours already: our COOKIE ACK was lost (case D)
  kRestart,   // the peer restarted, proven by the tie-tags (case A)
};
struct AssociationTags {
  std::uint32_t local = 0;
  std::uint32_t peer = 0;
};
// established: the association is up (or shutting down); restart_allowed: it is in
// ESTABLISHED itself; cookie_echoed: in COOKIE-ECHOED, where the peer's tag is known.
CookieEchoAction classify_cookie_echo(const CookieContents& cookie, AssociationTags tags,
                                      bool established, bool restart_allowed, bool cookie_echoed);

class Handshake {
 public:
  // The HMAC key of our cookies.
  using Secret = std::array<std::uint8_t, 32>;

  Secret& secret() noexcept { return secret_; }
  const Secret& secret() const noexcept { return secret_; }

  // The cookie for an INIT ACK sent now, and its opening when echoed (nullopt when forged,
  // corrupted or stale, RFC 9260 5.1.5).
  Buffer make_cookie(const CookieContents& contents, Timestamp now);
  std::optional<CookieContents> open_cookie(BytesView cookie, Timestamp now) const;
  Timestamp cookie_time() const noexcept { return cookie_time_; }
  void set_cookie_time(Timestamp time) noexcept { cookie_time_ = time; }

  // T1-init and T1-cookie (RFC 9260 5.1.6): the packet to repeat, first after `timeout`.
  void start_t1(const Buffer& packet, Timestamp now, Duration timeout);
  // The association is up (or gone): nothing more to repeat.
  void stop_t1();
  const Timer& t1() const noexcept { return t1_; }
  // On expiry: the packet to send again, or nullptr after `max_retransmits`; the timer backs
  // off from `initial` up to `max`.
  const Buffer* on_t1_expiry(Timestamp now, int max_retransmits, Duration initial, Duration max);

 private:
  Secret secret_{};
  Timestamp cookie_time_;
  Buffer packet_;  // our INIT or COOKIE ECHO
  Timer t1_;
};

}  // namespace rtcpp::sctp
