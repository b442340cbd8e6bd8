#!/usr/bin/env bash
# Interop with Pion WebRTC 3.1 (Debian's golang-github-pion-webrtc.v3-dev, default settings):
# builds the Pion peer (tests/interop/pion: the data channel part of the peer contract) into
# WORK, then wires it stdout-to-stdin with `rtcpp peer` inside a fresh network namespace whose
# only interface is loopback (unshare --net; ip link set lo up):
#   rtcpp-offers  rtcpp offers and sends a 3 MiB file, Pion echoes it, rtcpp closes
#   pion-offers   Pion offers and sends the file, rtcpp echoes it, Pion closes
#   pion-text     Pion offers and echoes; rtcpp answers and sends UTF-8 text in 5-byte chunks
#   rtcpp-small   rtcpp offers and echoes; Pion answers and sends 1-byte messages
# Each run is byte-exact: both result lines ok, both sides' SHA-256 of what they received equal
# to the file's, a data channel open on both sides, the result line last.
# With `bench`, it measures one-way transfers instead: MIB MiB (default 64) in 65535-byte
# messages from rtcpp to Pion, Pion to rtcpp, rtcpp to rtcpp and Pion to Pion, RUNS rounds
# (default 3), in MB/s (10^6 bytes) from the receiver's transferMs (first message to last),
# each checked by SHA-256.
# The Go build is offline (GOPATH mode against /usr/share/gocode, no module proxy) and keeps
# its cache in WORK, so only the first run compiles Pion.
# Usage: run_pion.sh <rtcpp binary> <work dir> [bench [MIB] [RUNS]]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rtcpp=$(realpath "$1")
work=$(realpath -m "$2")
mode=${3:-test}
pion=$work/pion-peer

if [[ ${RTCPP_PION_NETNS:-} != 1 ]]; then
  src=$work/gopath/src/rtcpp-pion-peer
  mkdir -p "$src"
  cp "$here/pion/main.go" "$here/pion/go.mod" "$src/"
  started=$(date +%s%N)
  # go.mod in the package directory is what maps github.com/pion/webrtc/v3 onto the v3 sources
  # Debian installs without the /v3 directory (minimal module compatibility).
  GO111MODULE=off GOENV=off GOFLAGS='' GOPROXY=off GOPATH="$work/gopath:/usr/share/gocode" \
    GOCACHE="$work/gocache" go build -o "$pion" rtcpp-pion-peer
  echo "pion: go build took $(( ($(date +%s%N) - started) / 1000000 )) ms" >&2
  exec unshare --net env RTCPP_PION_NETNS=1 "$0" "$@"
fi
ip link set lo up

# Pion 3.1 reads each message into a 65535-byte buffer, one byte short of the 64 KiB that
# RFC 8841 gives a peer whose SDP (like Pion's) has no max-message-size, and fails the channel
# on a 65536-byte message ("short buffer"): files go in chunks of at most 65535 bytes.
chunk=65535

# pair NAME FILE RECEIVERS OFFERER COMMAND... -- ANSWERER COMMAND...: runs both wired
# stdout-to-stdin through FIFOs in WORK/NAME under a 40 s timeout and checks both result lines
# (ok, a channel opened, the result line last) and that each of RECEIVERS (offerer, answerer)
# received FILE exactly. Sets `received` to the last receiver's result line.
pair() {
  local name=$1 file=$2 receivers=$3
  shift 3
  local offerer=()
  while [[ $1 != -- ]]; do
    offerer+=("$1")
    shift
  done
  shift
  local dir=$work/$name
  rm -rf "$dir"
  mkdir -p "$dir"
  mkfifo "$dir/a2b" "$dir/b2a"
  local t0
  t0=$(date +%s%N)
  timeout 40 "${offerer[@]}" < "$dir/b2a" 2> "$dir/offerer.log" | tee -p "$dir/offerer.out" > "$dir/a2b" &
  local offerer_pid=$!
  timeout 40 "$@" < "$dir/a2b" 2> "$dir/answerer.log" | tee -p "$dir/answerer.out" > "$dir/b2a" &
  local answerer_pid=$!
  wait $offerer_pid || true
  wait $answerer_pid || true
  local want failed=0
  want=$(sha256sum "$file" | cut -d' ' -f1)
  for side in offerer answerer; do
    local out=$dir/$side.out result
    result=$(grep '"type":"result"' "$out" || true)
    [[ $mode == bench ]] || echo "$name $side: ${result:-no result line}"
    if ! grep -q '"ok":true' <<<"$result" || ! grep -q '"type":"open"' "$out" ||
      [[ $(tail -n 1 "$out") != *'"type":"result"'* ]]; then
      failed=1
    fi
    if [[ " $receivers " == *" $side "* ]]; then
      grep -q "\"sha256\":\"$want\"" <<<"$result" || failed=1
      received=$result
    fi
  done
  if ((failed)); then
    echo "pion interop ($name): FAILED; logs:" >&2
    tail -n 20 "$dir/offerer.log" "$dir/answerer.log" >&2
    exit 1
  fi
  [[ $mode == bench ]] || echo "pion interop ($name): ok in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

if [[ $mode == bench ]]; then
  mib=${4:-64}
  runs=${5:-3}
  head -c $((mib * 1024 * 1024)) /dev/urandom > "$work/bench.bin"
  # rtcpp and Pion each with itself too, as the measure of each stack in the same session.
  for ((run = 1; run <= runs; ++run)); do
    for direction in rtcpp-to-pion pion-to-rtcpp rtcpp-to-rtcpp pion-to-pion; do
      sender=("$rtcpp" peer)
      receiver=("$rtcpp" peer)
      [[ $direction == pion-to-* ]] && sender=("$pion")
      [[ $direction == *-to-pion ]] && receiver=("$pion")
      pair bench-$direction "$work/bench.bin" answerer \
        "${sender[@]}" --offer --send "$work/bench.bin" --chunk $chunk --timeout 35 -- \
        "${receiver[@]}" --timeout 35
      ms=$(grep -o '"transferMs":[0-9.]*' <<<"$received" | cut -d: -f2)
      echo "$direction, $mib MiB, run $run: $(awk -v b=$((mib * 1024 * 1024)) -v ms="$ms" \
        'BEGIN { printf "%.1f MB/s (%.0f ms)", b / ms / 1000, ms }')"
    done
  done
  exit 0
fi

head -c $((3 * 1024 * 1024 + 17)) /dev/urandom > "$work/file.bin"
head -c 3000 /dev/urandom > "$work/small.bin"
# a é ✓ 🚀 and a space: 11 bytes, characters of one to four bytes, repeated to 11 KiB.
printf 'a\xc3\xa9\xe2\x9c\x93\xf0\x9f\x9a\x80 ' > "$work/text.txt"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  cat "$work/text.txt" "$work/text.txt" > "$work/text.tmp" && mv "$work/text.tmp" "$work/text.txt"
done

# The sender checks the echo, so both sides must have received the file.
pair rtcpp-offers "$work/file.bin" "offerer answerer" \
  "$rtcpp" peer --offer --send "$work/file.bin" --chunk $chunk --expect-echo --timeout 30 -- \
  "$pion" --echo --timeout 30
pair pion-offers "$work/file.bin" "offerer answerer" \
  "$pion" --offer --send "$work/file.bin" --chunk $chunk --expect-echo --timeout 30 -- \
  "$rtcpp" peer --echo --timeout 30
pair pion-text "$work/text.txt" "offerer answerer" \
  "$pion" --offer --echo --timeout 30 -- \
  "$rtcpp" peer --send "$work/text.txt" --text --chunk 5 --expect-echo --timeout 30
pair rtcpp-small "$work/small.bin" "offerer answerer" \
  "$rtcpp" peer --offer --echo --timeout 30 -- \
  "$pion" --send "$work/small.bin" --chunk 1 --expect-echo --timeout 30
