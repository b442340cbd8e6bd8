# Sourced by the integration scripts: runs two `rtcpp peer` processes wired stdout-to-stdin
# through FIFOs in the current directory, each under a timeout (PEER_PAIR_TIMEOUT seconds,
# 60 by default), and waits for both.
# Usage: run_peer_pair RTCPP "OFFERER OPTIONS..." -- "ANSWERER OPTIONS..." (the offerer's
# options end at --). Leaves offerer.out/.log and answerer.out/.log, and sets offer_result
# and answer_result to the result lines (empty when missing), echoing both.
run_peer_pair() {
  local rtcpp=$1
  shift
  local offerer_args=()
  while [[ $# -gt 0 && $1 != -- ]]; do
    offerer_args+=("$1")
    shift
  done
  shift
  rm -f a2b b2a
  mkfifo a2b b2a
  timeout "${PEER_PAIR_TIMEOUT:-60}" "$rtcpp" peer "${offerer_args[@]}" < b2a 2> offerer.log | tee -p offerer.out > a2b &
  local offerer=$!
  timeout "${PEER_PAIR_TIMEOUT:-60}" "$rtcpp" peer "$@" < a2b 2> answerer.log | tee -p answerer.out > b2a &
  local answerer=$!
  wait $offerer || true
  wait $answerer || true
  offer_result=$(grep '"type":"result"' offerer.out || true)
  answer_result=$(grep '"type":"result"' answerer.out || true)
  echo "offerer:  $offer_result"
  echo "answerer: $answer_result"
}
