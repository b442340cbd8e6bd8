#!/usr/bin/env bash
# The loss matrix on real sockets: in a fresh network namespace (loopback only), nftables drops
# each UDP packet at random with probability 0, 5, 10, 20 and 30 % (one input-hook rule, so
# both directions; TCP is dropped whole, so that ICE-TCP cannot go around the loss), and each
# cell moves a file one way over a reliable ordered data channel in 64 KiB messages, checked
# byte for byte (SHA-256):
#   rtcpp -> rtcpp          (two `rtcpp peer` processes; 8 MiB, 4 MiB at 30 %), must finish
#                           within 120 s
#   rtcpp -> Chromium       (headless Chromium's page receiving), must finish within 120 s
#   Chromium -> rtcpp       (the page sending), must finish up to 10 %; reported beyond, where
#                           Chromium's SCTP sender stalls (as it does with Chromium receiving)
#   Chromium -> Chromium    (two connections in one page), reported, as the reference
# Prints a line per cell and writes the table to WORKDIR/loss-table.md (bench/README.md keeps
# the figures). Exit status 1 when a cell that must finish did not.
# Usage: run_loss.sh <rtcpp binary> <workdir> [all|required|rtcpp]
#   all: every cell; required: the cells that must finish (the test suite's choice, the
#   reported ones being reference figures for bench/README.md); rtcpp: the rtcpp -> rtcpp cells
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rtcpp=$(realpath "$1")
work=$(realpath -m "$2")
which=${3:-all}
if [[ -z ${RTCPP_LOSS_NAMESPACE:-} ]]; then
  command -v nft >/dev/null || { echo "run_loss.sh: nft (nftables) is missing" >&2; exit 1; }
  case $which in
  all | required | rtcpp) ;;
  *) echo "run_loss.sh: unknown cell set '$which' (all, required or rtcpp)" >&2; exit 2 ;;
esac
if [[ $which != rtcpp && ! -d "$here/node_modules/playwright-core" ]]; then
    (cd "$here" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  exec unshare --net env RTCPP_LOSS_NAMESPACE=1 "$0" "$@"
fi
source "$here/../integration/peer_wiring.sh"
ip link set lo up
nft add table inet rtcpp_loss
nft add chain inet rtcpp_loss input '{ type filter hook input priority 0; }'
set_loss() {
  nft flush chain inet rtcpp_loss input
  # No TCP at all: ICE-TCP (RFC 6544) candidates would otherwise carry a connection whose UDP
  # checks the loss delays, and TCP recovers the loss below SCTP. (Playwright talks to
  # Chromium over a pipe; the page is about:blank.)
  nft add rule inet rtcpp_loss input meta l4proto tcp drop
  if (($1 > 0)); then
    nft add rule inet rtcpp_loss input meta l4proto udp numgen random mod 100 '<' "$1" drop
  fi
}

rm -rf "$work"
mkdir -p "$work"
table="$work/loss-table.md"
echo "| loss | cell | MiB | result | transfer s | MB/s |" > "$table"
echo "|---|---|---|---|---|---|" >> "$table"
failed=0
# record LOSS CELL MIB OK SECONDS MBPS REQUIRED [NOTE]
record() {
  local verdict=ok
  [[ $4 == true ]] || verdict="did not finish${8:+ ($8)}"
  printf 'loss %2s %%  %-22s %s MiB: %s, %s s, %s MB/s\n' "$1" "$2" "$3" "$verdict" "$5" "$6"
  echo "| $1 % | $2 | $3 | $verdict | $5 | $6 |" >> "$table"
  if [[ $4 != true && $7 == required ]]; then failed=1; fi
}

rtcpp_cell() {
  local loss=$1 mib=$2
  local dir="$work/rtcpp-$loss"
  mkdir -p "$dir"
  (
    cd "$dir"
    head -c $((mib << 20)) /dev/urandom > file.bin
    PEER_PAIR_TIMEOUT=120 run_peer_pair "$rtcpp" --offer --send file.bin --timeout 120 -- \
      --recv recv.bin --timeout 120 > pair.log
  )
  local result want ok=false seconds=- mbps=-
  result=$(grep '"type":"result"' "$dir/answerer.out" || true)
  want=$(sha256sum "$dir/file.bin" | cut -d' ' -f1)
  if grep -q '"ok":true' <<<"$result" && grep -q "\"sha256\":\"$want\"" <<<"$result"; then
    ok=true
    local ms
    ms=$(sed -E 's/.*"transferMs":([0-9.]+).*/\1/' <<<"$result")
    seconds=$(awk -v ms="$ms" 'BEGIN { printf "%.2f", ms / 1000 }')
    mbps=$(awk -v ms="$ms" -v b=$((mib << 20)) 'BEGIN { printf "%.2f", b / ms / 1000 }')
  fi
  rm -f "$dir/file.bin" "$dir/recv.bin"
  record "$loss" "rtcpp -> rtcpp" "$mib" "$ok" "$seconds" "$mbps" required
}

chromium_cell() {
  local loss=$1 cell=$2 mib=$3 timeout=$4 required=$5
  local line ok seconds=- mbps=- error
  line=$(node "$here/loss_chromium.mjs" "$rtcpp" "$cell" $((mib << 20)) "$timeout" 2>>"$work/chromium.log" | tail -n 1 || true)
  ok=$(node -e 'try { console.log(JSON.parse(process.argv[1]).ok === true) } catch { console.log(false) }' "$line")
  error=$(node -e 'try { console.log(JSON.parse(process.argv[1]).error || "") } catch { console.log("no report") }' "$line")
  if [[ $ok == true ]]; then
    seconds=$(node -e 'console.log((JSON.parse(process.argv[1]).ms / 1000).toFixed(2))' "$line")
    mbps=$(node -e 'console.log(JSON.parse(process.argv[1]).mbps.toFixed(2))' "$line")
  fi
  local name=${cell//-to-/ -> }
  name=${name//chromium/Chromium}
  record "$loss" "$name" "$mib" "$ok" "$seconds" "$mbps" "$required" "$error"
}

for loss in 0 5 10 20 30; do
  set_loss "$loss"
  mib=8
  ((loss < 30)) || mib=4
  rtcpp_cell "$loss" "$mib"
  [[ $which != rtcpp ]] || continue
  chromium_cell "$loss" rtcpp-to-chromium "$mib" 120 required
  if ((loss <= 10)); then
    chromium_cell "$loss" chromium-to-rtcpp "$mib" 120 required
  elif [[ $which == all ]]; then
    chromium_cell "$loss" chromium-to-rtcpp "$mib" 12 reported
  fi
  [[ $which == all ]] || continue
  # Chromium alone gathers no loopback candidates: it gets an interface with a default route
  # for its own pair (its packets to that address still go through loopback and the rule).
  ip link add rtcpp0 type veth peer name rtcpp1
  ip addr add 10.77.0.1/24 dev rtcpp0
  ip addr add 10.77.0.2/24 dev rtcpp1
  ip link set rtcpp0 up
  ip link set rtcpp1 up
  ip route add default via 10.77.0.2 dev rtcpp0
  chromium_cell "$loss" chromium-to-chromium "$mib" 12 reported
  ip link del rtcpp0
done
set_loss 0
exit $failed
