#!/usr/bin/env bash
# Two `rtcpp peer` processes (the peer contract) carrying video: the offerer sends a VP8 IVF
# clip (made by ffmpeg) for 3 s with --video, the answerer records it with --record. The
# recording must decode in ffmpeg without an error, with every frame the sender sent, and
# the answerer's result must list the track.
set -euo pipefail
source "$(dirname "$0")/peer_wiring.sh"
rtcpp=$(realpath "$1")
work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work"
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=320x240:rate=30 -t 2 \
  -c:v libvpx -g 30 -b:v 400k -deadline realtime clip.ivf
run_peer_pair "$rtcpp" --offer --video clip.ivf --duration 3 -- --record rec
grep -q '"ok":true' <<<"$offer_result"
grep -q '"ok":true' <<<"$answer_result"
grep -q '"type":"track","kind":"video","mid":"0","codec":"VP8"' answerer.out
# Every frame sent arrived (loopback loses nothing) and was written.
recorded=$(sed -E 's/.*"tracks":\[\{"kind":"video","mid":"0","codec":"VP8","frames":([0-9]+).*/\1/' <<<"$answer_result")
echo "frames recorded by the answerer: $recorded"
(( recorded >= 85 ))
decoded=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height \
  -of csv=p=0 rec/0.ivf)
echo "ffprobe: $decoded (width,height,frames)"
[[ $decoded == "320,240,$recorded" ]]
ffmpeg -hide_banner -v error -xerror -i rec/0.ivf -f null - 2> decode.log
[[ ! -s decode.log ]]
