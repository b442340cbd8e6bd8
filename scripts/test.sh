#!/usr/bin/env bash
# The whole test run, as CI does it: installs what is missing, then for the release and asan
# presets configures, builds and runs every suite (unit, simulated network, fuzz corpora,
# install/consumer, lint), then builds the fuzz preset and fuzzes each target briefly.
# Usage: scripts/test.sh [--no-fuzz] [--fuzz-seconds N]
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz=1
fuzz_seconds=${RTCPP_FUZZ_SECONDS:-10}
while (($#)); do
  case "$1" in
    --no-fuzz) fuzz=0 ;;
    --fuzz-seconds) fuzz_seconds=$2; shift ;;
    *) echo "usage: $0 [--no-fuzz] [--fuzz-seconds N]" >&2; exit 2 ;;
  esac
  shift
done

scripts/install-deps.sh

# Every suite runs with its own temporary directory, removed at the end. A test that leaves
# its files behind (rtcpp-* directories) fails the run: one interop script once left 200 MB
# per run in /tmp until the disk filled.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/rtcpp-test-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch

jobs=$(nproc)
passed=0
failed=0
logdir=build/test-logs
mkdir -p "$logdir"
status=0
for preset in release asan; do
  echo "== $preset: configure and build"
  cmake --preset "$preset" >"$logdir/$preset-configure.log" || { cat "$logdir/$preset-configure.log"; exit 1; }
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: test"
  set +e
  ctest --preset "$preset" -j "$jobs" 2>&1 | tee "$logdir/$preset-ctest.log"
  rc=${PIPESTATUS[0]}
  set -e
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$logdir/$preset-ctest.log" | tail -1 || true)
  if [[ -n "$line" ]]; then
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
    nfail=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
    passed=$((passed + total - nfail))
    failed=$((failed + nfail))
  else
    failed=$((failed + 1))
  fi
  ((rc == 0)) || status=1
done

if ((fuzz)); then
  echo "== fuzz: build with clang and libFuzzer, ${fuzz_seconds}s per target"
  cmake --preset fuzz >"$logdir/fuzz-configure.log" || { cat "$logdir/fuzz-configure.log"; exit 1; }
  cmake --build --preset fuzz -j "$jobs"
  if scripts/fuzz.sh --seconds "$fuzz_seconds" --jobs "$jobs"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    status=1
  fi
fi

left=$(find "$scratch" -mindepth 1 -maxdepth 1 -name 'rtcpp-*' -printf '%f\n' | sort)
if [[ -n "$left" ]]; then
  echo "== left behind in the temporary directory by tests:"
  echo "$left"
  failed=$((failed + 1))
  status=1
fi

echo
echo "all suites: $passed passed, $failed failed"
exit $status
