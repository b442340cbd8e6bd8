# Sourced by the integration scripts: runs two `rtcpp peer` processes wired stdout-to-stdin
# through FIFOs in the current directory, each under a timeout (PEER_PAIR_TIMEOUT seconds,
# 60 by default), and waits for both.
# Usage: run_peer_pair RTCPP "OFFERER OPTIONS..." -- "ANSWERER OPTIONS..." (the offerer's
# options end at --). Leaves offerer.out/.log and answerer.out/.log, and sets offer_result
# and answer_result to the result lines (empty when missing), echoing both, and
# offer_status and answer_status to the exit statuses (124 when timeout killed a peer).
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
  rm -f offerer.status answerer.status
  # The peer's own status, not tee's: kept in a file by the left side of the pipe.
  { rc=0; timeout "${PEER_PAIR_TIMEOUT:-60}" "$rtcpp" peer "${offerer_args[@]}" < b2a 2> offerer.log || rc=$?
    echo $rc > offerer.status; } | tee -p offerer.out > a2b &
  local offerer=$!
  { rc=0; timeout "${PEER_PAIR_TIMEOUT:-60}" "$rtcpp" peer "$@" < a2b 2> answerer.log || rc=$?
    echo $rc > answerer.status; } | tee -p answerer.out > b2a &
  local answerer=$!
  wait $offerer || true
  wait $answerer || true
  offer_status=$(cat offerer.status 2> /dev/null || echo missing)
  answer_status=$(cat answerer.status 2> /dev/null || echo missing)
  offer_result=$(grep '"type":"result"' offerer.out || true)
  answer_result=$(grep '"type":"result"' answerer.out || true)
  echo "offerer:  $offer_result"
  echo "answerer: $answer_result"
}
