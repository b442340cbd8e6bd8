// The W3C 4.3.3 state derivations, every combination of transport states.
#include <gtest/gtest.h>

#include <string>

#include "api/conversions.hpp"

namespace rtcpp::detail {
namespace {

using Ice = RTCIceTransportState;
using IceConnection = RTCIceConnectionState;
using Dtls = RTCDtlsTransportState;
using Pc = RTCPeerConnectionState;

TEST(ConnectionState, IceConnectionStateFollowsTheIceTransport) {
  EXPECT_EQ(ice_connection_state_of(Ice::kNew, false), IceConnection::kNew);
  EXPECT_EQ(ice_connection_state_of(Ice::kChecking, false), IceConnection::kChecking);
  EXPECT_EQ(ice_connection_state_of(Ice::kConnected, false), IceConnection::kConnected);
  EXPECT_EQ(ice_connection_state_of(Ice::kCompleted, false), IceConnection::kCompleted);
  EXPECT_EQ(ice_connection_state_of(Ice::kDisconnected, false), IceConnection::kDisconnected);
  EXPECT_EQ(ice_connection_state_of(Ice::kFailed, false), IceConnection::kFailed);
  // "closed" is the connection's own close(); a closed transport alone counts as new.
  EXPECT_EQ(ice_connection_state_of(Ice::kClosed, false), IceConnection::kNew);
  for (const auto ice : {Ice::kNew, Ice::kChecking, Ice::kConnected, Ice::kCompleted,
                         Ice::kDisconnected, Ice::kFailed, Ice::kClosed}) {
    EXPECT_EQ(ice_connection_state_of(ice, true), IceConnection::kClosed);
  }
}

TEST(ConnectionState, PeerConnectionStateForEveryCombination) {
  const IceConnection ices[] = {IceConnection::kNew,          IceConnection::kChecking,
                                IceConnection::kConnected,    IceConnection::kCompleted,
                                IceConnection::kDisconnected, IceConnection::kFailed,
                                IceConnection::kClosed};
  const Dtls dtlss[] = {Dtls::kNew, Dtls::kConnecting, Dtls::kConnected, Dtls::kClosed,
                        Dtls::kFailed};
  // Rows: [[IceConnectionState]] as above; columns: the DTLS transport's state as above.
  const Pc want[7][5] = {
      // new
      {Pc::kNew, Pc::kConnecting, Pc::kConnecting, Pc::kNew, Pc::kFailed},
      // checking
      {Pc::kConnecting, Pc::kConnecting, Pc::kConnecting, Pc::kConnecting, Pc::kFailed},
      // connected: a DTLS transport the peer closed leaves the connection connected
      {Pc::kConnecting, Pc::kConnecting, Pc::kConnected, Pc::kConnected, Pc::kFailed},
      // completed
      {Pc::kConnecting, Pc::kConnecting, Pc::kConnected, Pc::kConnected, Pc::kFailed},
      // disconnected
      {Pc::kDisconnected, Pc::kDisconnected, Pc::kDisconnected, Pc::kDisconnected, Pc::kFailed},
      // failed
      {Pc::kFailed, Pc::kFailed, Pc::kFailed, Pc::kFailed, Pc::kFailed},
      // closed: only after close()
      {Pc::kClosed, Pc::kClosed, Pc::kClosed, Pc::kClosed, Pc::kClosed},
  };
  for (int i = 0; i < 7; ++i) {
    for (int d = 0; d < 5; ++d) {
      EXPECT_EQ(connection_state_of(ices[i], dtlss[d]), want[i][d])
          << "ice " << to_string(ices[i]) << ", dtls " << to_string(dtlss[d]) << ": got "
          << to_string(connection_state_of(ices[i], dtlss[d])) << ", want "
          << to_string(want[i][d]);
    }
  }
}

}  // namespace
}  // namespace rtcpp::detail
