#!/usr/bin/env bash
# `rtcpp peer` stopped by a signal (peer contract: "On SIGTERM or SIGINT the peer closes its
# connection and still prints its result line"). Two peers connect over FIFOs; the offerer
# gets SIGTERM (then, in a second round, SIGINT) while connected. Its last stdout line must be
# a result with ok:false and an error saying it was interrupted, its exit status non-zero,
# and the answerer must see the connection go (it finishes long before its timeout).
set -euo pipefail
rtcpp=$(realpath "$1")
work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work"

# Waits (up to $3 seconds) until file $1 has a line matching $2.
wait_for_line() {
  local i
  for ((i = 0; i < $3 * 10; ++i)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

round() {
  local signal=$1
  local dir=$work/$signal
  mkdir -p "$dir"
  cd "$dir"
  mkfifo a2b b2a
  # The answerer's stdin never ends (this shell holds the FIFO open too), so only the
  # offerer closing its connection can finish the answerer before its timeout.
  exec 7<>a2b
  # Job control on: background jobs then keep SIGINT (a shell without it ignores SIGINT in
  # them, and that disposition would be inherited).
  set -m
  "$rtcpp" peer --offer --timeout 60 > >(tee -p offerer.out > a2b) 2> offerer.log < b2a 7>&- &
  local offerer=$!
  "$rtcpp" peer --echo --timeout 60 > >(tee -p answerer.out > b2a) 2> answerer.log < a2b 7>&- &
  local answerer=$!
  set +m
  if ! wait_for_line offerer.out '"type":"open"' 20; then
    echo "$signal: the peers did not connect" >&2
    kill "$offerer" "$answerer" 2>/dev/null || true
    return 1
  fi
  local sent=$SECONDS
  kill -s "$signal" "$offerer"
  local rc=0
  wait "$offerer" || rc=$?
  local answerer_rc=0
  wait "$answerer" || answerer_rc=$?
  local answerer_seconds=$((SECONDS - sent))
  exec 7>&-
  # tee may still be writing the last lines.
  wait_for_line offerer.out '"type":"result"' 5 || true
  sleep 0.2
  local last
  last=$(tail -n 1 offerer.out)
  echo "$signal: offerer exit $rc, last line: $last"
  echo "$signal: answerer exit $answerer_rc after ${answerer_seconds}s: $(grep '"type":"result"' answerer.out || true)"
  if [[ $rc -eq 0 ]]; then
    echo "$signal: the offerer exited 0" >&2
    return 1
  fi
  grep -q '"type":"result"' <<<"$last" || { echo "$signal: last line is not the result" >&2; return 1; }
  grep -q '"ok":false' <<<"$last" || { echo "$signal: result is not ok:false" >&2; return 1; }
  grep -q '"error":"[^"]*interrupted' <<<"$last" || { echo "$signal: error does not say interrupted" >&2; return 1; }
  [[ $(grep -c '"type":"result"' offerer.out) -eq 1 ]] || { echo "$signal: more than one result" >&2; return 1; }
  # The offerer closed its connection: the answerer saw its channel close and finished.
  grep -q '"type":"result"' answerer.out || { echo "$signal: the answerer printed no result" >&2; return 1; }
  [[ $(tail -n 1 answerer.out) == *'"type":"result"'* ]] || { echo "$signal: answerer's last line is not its result" >&2; return 1; }
  if ((answerer_seconds > 20)); then
    echo "$signal: the answerer did not notice the close" >&2
    return 1
  fi
  grep -q '"ok":true' answerer.out || { echo "$signal: the answerer's result is not ok" >&2; return 1; }
  cd "$work"
}

round TERM
round INT
echo "peer_signal: ok"
