#!/usr/bin/env bash
# A connection that fails: the answerer is offered one candidate that nothing answers (and
# the end of candidates), so its ICE checks run out and the connection fails. The peer
# contract has one state line per change of connectionState: "failed" comes exactly once,
# and the result (ok:false, saying ICE failed) is the last line.
set -euo pipefail
rtcpp=$(realpath "$1")
work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work"

# A real offer (its ICE credentials, fingerprint and sections), from an offerer that stops at
# once; its candidates are replaced by one to a loopback port nobody listens on.
"$rtcpp" peer --offer --timeout 5 < /dev/null > offerer.out 2> offerer.log || true
offer=$(grep -m 1 '"type":"offer"' offerer.out)
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
offer=$(sed -e 's/a=candidate:[^\\]*\\r\\n//g' -e 's/a=end-of-candidates\\r\\n//g' \
  -e "s/a=mid:0\\\\r\\\\n/a=mid:0\\\\r\\\\na=candidate:1 1 udp 2130706431 127.0.0.1 $port typ host\\\\r\\\\na=end-of-candidates\\\\r\\\\n/" \
  <<< "$offer")
grep -q "127.0.0.1 $port typ host" <<< "$offer" || { echo "could not rewrite the offer" >&2; exit 1; }

rc=0
# stdin stays open (held here): only the connection failing ends the answerer.
mkfifo signaling
exec 7<>signaling
echo "$offer" >&7
"$rtcpp" peer --timeout 60 < signaling > answerer.out 2> answerer.log 7>&- || rc=$?
exec 7>&-
[[ $rc -ne 0 ]] || { echo "the answerer exited 0 on a failed connection" >&2; exit 1; }
failed=$(grep -c '"connectionState":"failed"' answerer.out || true)
if [[ $failed -ne 1 ]]; then
  echo "\"failed\" came $failed times, not once:" >&2
  grep '"type":"state"' answerer.out >&2
  exit 1
fi
last=$(tail -n 1 answerer.out)
[[ $last == *'"type":"result"'* ]] || { echo "the last line is not the result: $last" >&2; exit 1; }
[[ $last == *'ICE failed'* ]] || { echo "the result does not say ICE failed: $last" >&2; exit 1; }
echo "a failed connection: \"failed\" once, then the result"
