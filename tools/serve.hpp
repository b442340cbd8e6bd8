// `rtcpp serve`: an HTTP and WebSocket server on 127.0.0.1 whose page connects the browser's
// RTCPeerConnection to this process (echo, upload, download, live getStats).
#pragma once

namespace rtcpp::tools {

int run_serve(int argc, char** argv);

}  // namespace rtcpp::tools
