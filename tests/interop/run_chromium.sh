#!/usr/bin/env bash
# Runs the Chromium interop (both offerer roles, channel close both ways, 17 channels, a 16 MiB transfer) inside a fresh network namespace whose only
# interface is loopback (unshare --net; ip link set lo up), as the browser tests require.
# Usage: run_chromium.sh <rtcpp binary>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rtcpp=$(realpath "$1")
if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  (cd "$here" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
unshare --net bash -c "
  set -euo pipefail
  ip link set lo up
  node '$here/chromium_echo.mjs' '$rtcpp' browser-offers
  node '$here/chromium_echo.mjs' '$rtcpp' rtcpp-offers
  node '$here/chromium_echo.mjs' '$rtcpp' matrix
  node '$here/chromium_echo.mjs' '$rtcpp' bulk
"
