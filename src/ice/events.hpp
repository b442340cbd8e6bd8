// What the ICE agent reports (IceAgent::poll_event).
#pragma once

#include <string>
#include <variant>

#include "base/net.hpp"
#include "ice/candidate.hpp"
#include "ice/types.hpp"

namespace rtcpp::ice {

struct IceLocalCandidateEvent {
  Candidate candidate;
  std::string url;             // the STUN or TURN server's URL (srflx, relay); empty for host
  std::string relay_protocol;  // relay: "udp", "tcp" or "tls"
};
struct IceGatheringStateEvent {
  IceGatheringState state;
};
struct IceStateEvent {
  IceTransportState state;
};
struct IceSelectedPairEvent {
  Candidate local;
  Candidate remote;
  SocketAddress local_address;   // the socket to send from
  SocketAddress remote_address;  // where to send
};
struct IceRoleEvent {
  IceRole role;
};
// W3C RTCPeerConnectionIceErrorEvent: a TURN server refused or did not answer (code 300-699
// from its ERROR-CODE, or 701 for no answer).
struct IceCandidateErrorEvent {
  std::string url;
  SocketAddress local;  // the socket that talked to the server
  int error_code = 0;
  std::string error_text;
};
using IceEvent = std::variant<IceLocalCandidateEvent, IceGatheringStateEvent, IceStateEvent,
                              IceSelectedPairEvent, IceRoleEvent, IceCandidateErrorEvent>;

}  // namespace rtcpp::ice
