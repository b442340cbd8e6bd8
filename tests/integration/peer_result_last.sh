#!/usr/bin/env bash
# The peer contract: "The result line is the last line on stdout: nothing (state events
# included) follows it." Two ways a result comes while the connection is still busy:
#  - stdin ends at once: the offerer finishes while it is still gathering candidates;
#  - the remote side closes (it gives up after --timeout): the answerer finishes on its
#    channel closing while the DTLS close_notify and other events are still on their way.
# Each is run a few times (the events race the result); the last stdout line must be the
# result every time, and there must be exactly one.
set -euo pipefail
rtcpp=$(realpath "$1")
work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work"

check() {  # file, what
  local last
  last=$(tail -n 1 "$1")
  if [[ $last != *'"type":"result"'* ]]; then
    echo "$2: the last stdout line is not the result: $last" >&2
    return 1
  fi
  if [[ $(grep -c '"type":"result"' "$1") -ne 1 ]]; then
    echo "$2: not exactly one result line" >&2
    return 1
  fi
}

for i in 1 2 3 4 5 6 7 8; do
  rc=0
  "$rtcpp" peer --offer < /dev/null > "stdin-closed-$i.out" 2> "stdin-closed-$i.log" || rc=$?
  [[ $rc -ne 0 ]] || { echo "stdin closed ($i): exit 0 without a session" >&2; exit 1; }
  check "stdin-closed-$i.out" "stdin closed ($i)"
done
echo "stdin closed at once: the result is last (8 runs)"

for i in 1 2 3; do
  dir=remote-close-$i
  mkdir "$dir"
  (
    cd "$dir"
    mkfifo a2b b2a
    # The answerer's stdin stays open (held here too): only the connection closing ends it.
    exec 7<>a2b
    "$rtcpp" peer --offer --timeout 2 > >(tee -p offerer.out > a2b) 2> offerer.log < b2a 7>&- &
    offerer=$!
    "$rtcpp" peer --echo --timeout 30 > >(tee -p answerer.out > b2a) 2> answerer.log < a2b 7>&- &
    answerer=$!
    wait "$offerer" || true
    wait "$answerer" || true
    exec 7>&-
    sleep 0.2  # tee writes the last lines
    grep -q '"type":"open"' answerer.out || { echo "remote close ($i): never connected" >&2; exit 1; }
    check answerer.out "remote close ($i), answerer"
    check offerer.out "remote close ($i), offerer"
  )
done
echo "remote side closed: the answerer's result is last (3 runs)"
