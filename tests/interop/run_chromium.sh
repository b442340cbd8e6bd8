#!/usr/bin/env bash
# Runs a Chromium interop suite inside a fresh network namespace whose only interface is
# loopback (unshare --net; ip link set lo up), as the browser tests require.
#   peer:  rtcpp peer against a page: both offerer roles, channel close both ways, an offer with
#          audio and video sections beside the data, 17 channels, a 16 MiB transfer, UTF-8
#          text in chunks smaller than some characters
#   serve: rtcpp serve (the public API) and its page: echo 1 B-256 KiB, unordered and
#          partially reliable channels, 16 channels, ICE restarts offered by each side,
#          64 MiB each way; then all of it again with Chromium's I-DATA switched on
#   media: rtcpp peer and a page with Chromium's fake camera: the camera recorded by rtcpp
#          (the page offers, then rtcpp offers), and a VP8 clip sent by rtcpp played by the page;
#          the page's microphone recorded by rtcpp (both offerer roles, with the page's DTMF)
#          and an Opus tone from rtcpp played by the page; then the page offering H.264, VP9 and AV1 first, and rtcpp sending each
#   call:  real encoding and decoding both ways (chromium_call.mjs): the page's fake camera and
#          microphone playing rtcpp's stamped test pattern and a tone, decoded by rtcpp (the
#          page offering, then rtcpp), and rtcpp's own testsrc rendered by the page; VP8 (also
#          sent through a 500 kbit/s path), then VP9, H.264 and AV1 each way
#   api:   the public API (api_peer) and a page: renegotiation mid-call with video both ways
#          (tracks added, directions changed by either side, a transceiver stopped), then the
#          synchronization and contributing sources of audio both ways
#   mdns:  rtcpp serve and a page whose Chromium hides its addresses behind mDNS names, in a
#          namespace with a veth pair and a default route (Chromium gathers nothing else)
# With `quick` (the sanitizer build, where each run is several times slower) serve skips the
# I-DATA repeat, media the H.264, VP9 and AV1 runs, and call all but its first run; the
# release build runs them all.
# Usage: run_chromium.sh <rtcpp binary> [peer|serve|media|call|api|mdns] [quick]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rtcpp=$(realpath "$1")
suite=${2:-peer}
quick=0
[[ "${3:-}" == quick ]] && quick=1
if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  (cd "$here" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
case "$suite" in
  peer)
    unshare --net bash -c "
      set -euo pipefail
      ip link set lo up
      node '$here/chromium_echo.mjs' '$rtcpp' browser-offers
      node '$here/chromium_echo.mjs' '$rtcpp' media-offer
      node '$here/chromium_echo.mjs' '$rtcpp' rtcpp-offers
      node '$here/chromium_echo.mjs' '$rtcpp' matrix
      node '$here/chromium_echo.mjs' '$rtcpp' bulk
      node '$here/chromium_echo.mjs' '$rtcpp' text
    " ;;
  serve)
    unshare --net bash -c "
      set -euo pipefail
      ip link set lo up
      node '$here/serve_chromium.mjs' '$rtcpp' full
      (($quick)) || node '$here/serve_chromium.mjs' '$rtcpp' idata
    " ;;
  media)
    unshare --net bash -c "
      set -euo pipefail
      ip link set lo up
      node '$here/chromium_media.mjs' '$rtcpp' camera-offer
      node '$here/chromium_media.mjs' '$rtcpp' camera-answer
      node '$here/chromium_media.mjs' '$rtcpp' rtcpp-sends
      node '$here/chromium_media.mjs' '$rtcpp' camera-offer opus
      node '$here/chromium_media.mjs' '$rtcpp' camera-answer opus
      node '$here/chromium_media.mjs' '$rtcpp' rtcpp-sends opus
      (($quick)) && exit 0
      for codec in h264 vp9 av1; do
        node '$here/chromium_media.mjs' '$rtcpp' camera-offer \$codec
        node '$here/chromium_media.mjs' '$rtcpp' rtcpp-sends \$codec
      done
    " ;;
  call)
    unshare --net bash -c "
      set -euo pipefail
      ip link set lo up
      node '$here/chromium_call.mjs' '$rtcpp' receive-offer vp8 5
      (($quick)) && exit 0
      node '$here/chromium_call.mjs' '$rtcpp' receive-answer vp8 5
      node '$here/chromium_call.mjs' '$rtcpp' send vp8 5
      # rtcpp sending through 500 kbit/s (loopback shaped by tc tbf, both ways): its bandwidth
      # estimate must fit the encoder and pacer under it.
      tc qdisc add dev lo root tbf rate 500kbit burst 8kb latency 200ms
      RTCPP_RATE_LIMIT_KBIT=500 node '$here/chromium_call.mjs' '$rtcpp' send-limited vp8 12
      tc qdisc del dev lo root
      for codec in vp9 h264 av1; do
        node '$here/chromium_call.mjs' '$rtcpp' receive-offer \$codec 5
        node '$here/chromium_call.mjs' '$rtcpp' send \$codec 5
      done
    " ;;
  api)
    unshare --net bash -c "
      set -euo pipefail
      ip link set lo up
      node '$here/api_chromium.mjs' '$rtcpp' renegotiation
      node '$here/api_chromium.mjs' '$rtcpp' sources
    " ;;
  mdns)
    unshare --net bash -c "
      set -euo pipefail
      ip link set lo up
      ip link add rtcpp0 type veth peer name rtcpp1
      ip addr add 10.77.0.1/24 dev rtcpp0
      ip addr add 10.77.0.2/24 dev rtcpp1
      ip link set rtcpp0 up
      ip link set rtcpp1 up
      ip route add default via 10.77.0.2 dev rtcpp0
      node '$here/serve_chromium.mjs' '$rtcpp' mdns
    " ;;
  *) echo "unknown suite $suite" >&2; exit 2 ;;
esac
