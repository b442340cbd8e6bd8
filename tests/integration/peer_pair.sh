#!/usr/bin/env bash
# Two `rtcpp peer` processes (the peer contract) wired stdout-to-stdin through FIFOs: the
# offerer sends a file and expects it echoed back, the answerer echoes. Both result lines
# must say ok, and both sides' SHA-256 of what they received must equal the file's.
# With --utf8-file first among the peer options, the file is UTF-8 text with characters of
# one to four bytes (for --text).
set -euo pipefail
source "$(dirname "$0")/peer_wiring.sh"
rtcpp=$(realpath "$1")
work=$2
shift 2
rm -rf "$work"
mkdir -p "$work"
cd "$work"
if [[ ${1:-} == --utf8-file ]]; then
  shift
  # a é ✓ 🚀 and a space: 11 bytes, repeated to 44 KiB.
  printf 'a\xc3\xa9\xe2\x9c\x93\xf0\x9f\x9a\x80 ' > file.bin
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do cat file.bin file.bin > file.tmp && mv file.tmp file.bin; done
else
  head -c 3000000 /dev/urandom > file.bin
fi
want=$(sha256sum file.bin | cut -d' ' -f1)
run_peer_pair "$rtcpp" --offer --send file.bin --expect-echo "$@" -- --echo "$@"
grep -q '"ok":true' <<<"$offer_result"
grep -q '"ok":true' <<<"$answer_result"
grep -q "\"sha256\":\"$want\"" <<<"$offer_result"
grep -q "\"sha256\":\"$want\"" <<<"$answer_result"
grep -q '"type":"open"' offerer.out
grep -q '"type":"state","connectionState":"connected"' answerer.out
# The contract: the result line is the last line on stdout.
[[ $(tail -n 1 offerer.out) == *'"type":"result"'* ]]
[[ $(tail -n 1 answerer.out) == *'"type":"result"'* ]]
