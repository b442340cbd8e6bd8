#!/usr/bin/env bash
# `rtcpp bench`: each subcommand, briefly, in a loopback-only namespace (--isolated): it must
# succeed and print one JSON line with its figures (their values are not judged here).
# With `rtcpp-counted` (the tool with its heap allocations counted) as the second argument, its
# bulk run must report allocations per message and per packet, which plain `rtcpp` leaves null.
# Usage: bench_smoke.sh <rtcpp binary> [<rtcpp-counted binary>]
set -euo pipefail
rtcpp=$1
counted=${2:-}
run_with() {
  local binary=$1 name=$2 keys=$3 counts=$4
  shift 4
  local out
  out=$("$binary" bench "$name" --isolated "$@" 2>/dev/null) || { echo "bench $name failed" >&2; exit 1; }
  python3 - "$out" "$keys" "$counts" <<'PY'
import json, sys
lines = sys.argv[1].strip().splitlines()
assert len(lines) == 1, f"expected one line, got {lines!r}"
result = json.loads(lines[0])
for key in sys.argv[2].split():
    assert key in result, f"{key} missing from {result}"
if sys.argv[3] != "-":
    for side in ("sender", "receiver"):
        for key in ("allocationsPerMessage", "allocationsPerPacket"):
            value = result[side][key]
            if sys.argv[3] == "counted":
                assert isinstance(value, (int, float)) and value >= 0, f"{side} {key}: {value!r}"
            else:
                assert value is None, f"{side} {key} should be null without counting: {value!r}"
PY
  echo "bench $name: $out"
}
check() {
  local name=$1 keys=$2
  shift 2
  local counts=-
  [[ $name == bulk ]] && counts=uncounted
  run_with "$rtcpp" "$name" "$keys" "$counts" "$@"
}
check connect "runs medianMs p99Ms maxMs" --runs 3
check bulk "MBps MiBps sender receiver inOrder" --size 1048576 --chunk 16384 --channels 2
check messages "rates" --seconds 0.2
check connections "pairs peerConnections setupMs rssPerPeerConnectionKiB idleCpuPercent threads" \
  --pairs 4 --idle-seconds 0.2
if [[ -n $counted ]]; then
  run_with "$counted" bulk "MBps sender receiver" counted --size 1048576 --chunk 16384
fi
