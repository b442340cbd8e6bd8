#!/usr/bin/env bash
# Every subcommand of the rtcpp tool answers --help (exit 0, its options listed), and a bad
# command line exits 2 with a message on stderr.
set -uo pipefail
rtcpp=$1
fail() { echo "cli_help: FAILED: $*" >&2; exit 1; }
for command in "" demo peer serve bench "bench bulk" "bench connections"; do
  out=$("$rtcpp" $command --help) || fail "rtcpp $command --help exited $?"
  grep -q "Usage: rtcpp" <<<"$out" || fail "rtcpp $command --help printed no usage"
done
"$rtcpp" peer --help | grep -q -- "--expect-echo" || fail "peer --help does not list --expect-echo"
"$rtcpp" help | grep -q "peer" || fail "rtcpp help does not list the subcommands"
[[ "$("$rtcpp" version)" == rtcpp\ * ]] || fail "rtcpp version"
for bad in "" "nonsense" "peer --bogus" "peer --chunk 0" "peer --timeout x" \
           "peer --max-retransmits 1 --max-packet-life-time 1" "serve --port 70000" \
           "demo --bytes 0" "bench" "bench bulk --chunk 4" "bench connections --pairs 0"; do
  "$rtcpp" $bad >/dev/null 2>/tmp/cli_help.err
  rc=$?
  [[ $rc -eq 2 ]] || fail "rtcpp $bad exited $rc, not 2"
  [[ -s /tmp/cli_help.err ]] || fail "rtcpp $bad said nothing on stderr"
done
echo "cli_help: ok"
