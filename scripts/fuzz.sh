#!/usr/bin/env bash
# Runs each libFuzzer target of the fuzz preset for N seconds, starting from its seed corpus.
# New inputs go to build/fuzz/corpus-work/<target>; --merge folds them into the seed corpus.
# Usage: scripts/fuzz.sh [--seconds N] [--merge] [target ...]   (targets: byte_reader, hex, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
merge=0
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --merge) merge=1 ;;
    -*) echo "usage: $0 [--seconds N] [--merge] [target ...]" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
bindir=build/fuzz/tests/fuzz
if ((${#targets[@]} == 0)); then
  for bin in "$bindir"/fuzz_*; do targets+=("$(basename "$bin" | sed 's/^fuzz_//')"); done
fi
status=0
for name in "${targets[@]}"; do
  bin="$bindir/fuzz_$name"
  seeds="tests/fuzz/corpus/$name"
  work="build/fuzz/corpus-work/$name"
  [[ -x "$bin" ]] || { echo "fuzz: $bin not built (cmake --preset fuzz && cmake --build --preset fuzz)" >&2; exit 1; }
  mkdir -p "$work" "build/fuzz/artifacts/$name"
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="build/fuzz/artifacts/$name/" "$work" "$seeds" \
      >"build/fuzz/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; log and crashing input:" >&2
    tail -40 "build/fuzz/$name.log" >&2
    ls "build/fuzz/artifacts/$name" >&2
    status=1
  else
    grep -E 'stat::number_of_executed_units|cov:' "build/fuzz/$name.log" | tail -2 || true
  fi
  if ((merge)); then "$bin" -merge=1 "$seeds" "$work" >/dev/null 2>&1; fi
done
exit $status
