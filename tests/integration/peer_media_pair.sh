#!/usr/bin/env bash
# Two `rtcpp peer` processes (the peer contract) carrying video: the offerer sends a VP8 IVF
# clip (made by ffmpeg) for 3 s with --video, the answerer records it with --record. The
# recording must decode in ffmpeg without an error, with every frame the sender sent, and
# the answerer's result must list the track.
set -euo pipefail
rtcpp=$(realpath "$1")
work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work"
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=320x240:rate=30 -t 2 \
  -c:v libvpx -g 30 -b:v 400k -deadline realtime clip.ivf
mkfifo a2b b2a
timeout 60 "$rtcpp" peer --offer --video clip.ivf --duration 3 < b2a 2> offerer.log | tee -p offerer.out > a2b &
offerer=$!
timeout 60 "$rtcpp" peer --record rec < a2b 2> answerer.log | tee -p answerer.out > b2a &
answerer=$!
wait $offerer || true
wait $answerer || true
offer_result=$(grep '"type":"result"' offerer.out || true)
answer_result=$(grep '"type":"result"' answerer.out || true)
echo "offerer:  $offer_result"
echo "answerer: $answer_result"
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
