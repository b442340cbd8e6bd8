#!/usr/bin/env bash
# `rtcpp bench`: each subcommand, briefly, in a loopback-only namespace (--isolated): it must
# succeed and print one JSON line with its figures (their values are not judged here).
# Usage: bench_smoke.sh <rtcpp binary>
set -euo pipefail
rtcpp=$1
check() {
  local name=$1 keys=$2
  shift 2
  local out
  out=$("$rtcpp" bench "$name" --isolated "$@" 2>/dev/null) || { echo "bench $name failed" >&2; exit 1; }
  python3 - "$out" "$keys" <<'PY'
import json, sys
lines = sys.argv[1].strip().splitlines()
assert len(lines) == 1, f"expected one line, got {lines!r}"
result = json.loads(lines[0])
for key in sys.argv[2].split():
    assert key in result, f"{key} missing from {result}"
PY
  echo "bench $name: $out"
}
check connect "runs medianMs p99Ms maxMs" --runs 3
check bulk "MBps MiBps sender receiver inOrder" --size 1048576 --chunk 16384 --channels 2
check messages "rates" --seconds 0.2
check connections "pairs peerConnections setupMs rssPerPeerConnectionKiB idleCpuPercent threads" \
  --pairs 4 --idle-seconds 0.2
