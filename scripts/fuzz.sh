#!/usr/bin/env bash
# Runs each libFuzzer target of the fuzz preset for N seconds, starting from its seed corpus.
# New inputs go to build/fuzz/corpus-work/<target>; --merge folds them into the seed corpus.
# --jobs J runs J targets at a time (one core each).
# Usage: scripts/fuzz.sh [--seconds N] [--jobs J] [--merge] [target ...]   (targets: byte_reader, hex, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
jobs=1
merge=0
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --merge) merge=1 ;;
    -*) echo "usage: $0 [--seconds N] [--jobs J] [--merge] [target ...]" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
bindir=build/fuzz/tests/fuzz
if ((${#targets[@]} == 0)); then
  for bin in "$bindir"/fuzz_*; do targets+=("$(basename "$bin" | sed 's/^fuzz_//')"); done
fi
# Fuzzes one target; prints its report in one piece so that parallel runs do not interleave.
fuzz_one() {
  local name=$1
  local bin="$bindir/fuzz_$name" seeds="tests/fuzz/corpus/$name" work="build/fuzz/corpus-work/$name"
  mkdir -p "$work" "build/fuzz/artifacts/$name"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="build/fuzz/artifacts/$name/" "$work" "$seeds" \
      >"build/fuzz/$name.log" 2>&1; then
    {
      echo "fuzz: $name FAILED; log and crashing input:"
      tail -40 "build/fuzz/$name.log"
      ls "build/fuzz/artifacts/$name"
    } >&2
    return 1
  fi
  echo "fuzz: $name for ${seconds}s: $(grep -E 'stat::number_of_executed_units' "build/fuzz/$name.log" |
    tail -1 | sed -E 's/.*: *//') runs, $(grep -oE 'cov: [0-9]+' "build/fuzz/$name.log" | tail -1)"
  if ((merge)); then "$bin" -merge=1 "$seeds" "$work" >/dev/null 2>&1; fi
}

for name in "${targets[@]}"; do
  [[ -x "$bindir/fuzz_$name" ]] || {
    echo "fuzz: $bindir/fuzz_$name not built (cmake --preset fuzz && cmake --build --preset fuzz)" >&2
    exit 1
  }
done
status=0
running=0
for name in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n || status=1
    running=$((running - 1))
  fi
  fuzz_one "$name" &
  running=$((running + 1))
done
while ((running > 0)); do
  wait -n || status=1
  running=$((running - 1))
done
exit $status
