// `rtcpp peer`: the scriptable endpoint of the peer contract (v1): signaling as JSON lines on
// stdin/stdout, events and one result line on stdout, logs on stderr.
#pragma once

namespace rtcpp::tools {

int run_peer(int argc, char** argv);

}  // namespace rtcpp::tools
