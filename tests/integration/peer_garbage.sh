#!/usr/bin/env bash
# Hostile datagrams at both ends of a transfer: while two `rtcpp peer` processes (wired as in
# peer_pair.sh) set up and carry an 8 MiB echo, garbage_spray.py sends thousands of forged
# datagrams a second to every UDP port they announce, from ports of its own: random bytes,
# STUN checks with the right ufrags and the wrong MESSAGE-INTEGRITY, DTLS records with lying
# lengths and absurd handshake fragments, SCTP packets bare and inside DTLS records, RTP/RTCP
# and TURN ChannelData. None of it is authenticated, so none of it may show: both result
# lines must say ok, both SHA-256 must equal the file's, each result must be its process's
# last stdout line, both peers must exit 0 (not killed, not timed out) with no sanitizer
# report on stderr. The spraying starts with the first candidate and goes on through the
# close until 2 s after both results (a peer leaves as soon as its transfer is done: the
# contract has no option to keep it, so "after the transfer" is the close and what follows).
# Among them, shapes that used to close the connection: DTLS records from a stranger during
# the handshake, and protected records shorter than their cipher's nonce and tag.
# Usage: peer_garbage.sh RTCPP WORKDIR
# Environment: GARBAGE_SEED (default random, printed), GARBAGE_RATE (datagrams a second, in
# all; default 6000; 0 runs the transfer without spraying, for comparison), GARBAGE_BYTES
# (default 8 MiB).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/peer_wiring.sh"
rtcpp=$(realpath "$1")
work=$2
seed=${GARBAGE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
rate=${GARBAGE_RATE:-6000}
bytes=${GARBAGE_BYTES:-8388608}
rm -rf "$work"
mkdir -p "$work"
cd "$work"
head -c "$bytes" /dev/urandom > file.bin
want=$(sha256sum file.bin | cut -d' ' -f1)

: > offerer.out
: > answerer.out
sprayer=
if [[ $rate != 0 ]]; then
  # Started first, and waited for (Python takes longer to start than the whole session):
  # it sprays each port as soon as the peer's stdout names it.
  python3 "$here/garbage_spray.py" --offerer offerer.out --answerer answerer.out \
    --seed "$seed" --rate "$rate" --tail 2 --duration 50 --ready spray.ready \
    > spray.log 2>&1 &
  sprayer=$!
  for _ in $(seq 100); do
    [[ -e spray.ready ]] && break
    sleep 0.1
  done
  [[ -e spray.ready ]] || { cat spray.log >&2; echo "the sprayer did not start" >&2; exit 1; }
fi
run_peer_pair "$rtcpp" --offer --send file.bin --expect-echo --timeout 25 -- --echo --timeout 25
spray_status=0
if [[ -n $sprayer ]]; then
  wait "$sprayer" || spray_status=$?
  cat spray.log
fi

fail() {
  echo "FAIL (seed $seed, rate $rate): $*" >&2
  for f in offerer.log answerer.log; do
    echo "--- $f (last lines)" >&2
    tail -n 20 "$f" >&2
  done
  exit 1
}
[[ $spray_status -eq 0 ]] || fail "the sprayer failed ($spray_status)"
[[ $offer_status == 0 ]] || fail "the offerer exited with $offer_status"
[[ $answer_status == 0 ]] || fail "the answerer exited with $answer_status"
for f in offerer.log answerer.log; do
  if grep -E -q 'Sanitizer|runtime error:|terminate called|Assertion .* failed' "$f"; then
    fail "$f has a crash or sanitizer report"
  fi
done
grep -q '"ok":true' <<<"$offer_result" || fail "the offerer's result is not ok"
grep -q '"ok":true' <<<"$answer_result" || fail "the answerer's result is not ok"
grep -q "\"sha256\":\"$want\"" <<<"$offer_result" || fail "the offerer's SHA-256 differs"
grep -q "\"sha256\":\"$want\"" <<<"$answer_result" || fail "the answerer's SHA-256 differs"
[[ $(tail -n 1 offerer.out) == *'"type":"result"'* ]] || fail "the offerer's result is not last"
[[ $(tail -n 1 answerer.out) == *'"type":"result"'* ]] || fail "the answerer's result is not last"
echo "ok: seed $seed, rate $rate/s, $bytes bytes byte-exact both ways"
