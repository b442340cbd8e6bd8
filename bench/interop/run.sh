#!/usr/bin/env bash
# rtcpp <-> rtcpp beside headless Chromium <-> Chromium and libdatachannel <-> libdatachannel
# (compare.mjs), inside a fresh network namespace whose only interface is loopback
# (unshare --net; ip link set lo up). Needs root for unshare and Debian's /usr/bin/chromium;
# installs playwright-core (never a browser) and node-datachannel (libdatachannel's addon comes
# inside the package) into bench/interop/node_modules when missing.
# Usage: run.sh <rtcpp binary> [--runs N] [--bytes N] [--json FILE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ $# -lt 1 || $1 == --* ]]; then
  echo "usage: $0 <rtcpp binary> [--runs N] [--bytes N] [--json FILE]" >&2
  exit 2
fi
rtcpp=$(realpath "$1")
shift
if [[ ! -d "$here/node_modules/playwright-core" || ! -d "$here/node_modules/node-datachannel" ]]; then
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
exec unshare --net bash -c 'ip link set lo up && exec node "$0" "$@"' "$here/compare.mjs" "$rtcpp" "$@"
