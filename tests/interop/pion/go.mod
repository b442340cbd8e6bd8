// The Pion peer of the interop tests. tests/interop/run_pion.sh builds it offline in GOPATH
// mode against Debian's golang-github-pion-webrtc.v3-dev; this file is what lets that build
// resolve the /v3 import path to /usr/share/gocode/src/github.com/pion/webrtc.
module rtcpp/tests/interop/pion

go 1.19

require github.com/pion/webrtc/v3 v3.1.56
