#!/usr/bin/env bash
# Two `rtcpp peer` processes (the peer contract) carrying media: the offerer sends a clip made
# by ffmpeg for 3 s with --video (or --audio for opus), the answerer records it with --record.
# The recording must decode in ffmpeg without an error, with every frame the sender sent, and
# the answerer's result must list the track with the clip's codec; a recorded tone must be
# as loud as the one sent.
# Usage: peer_media_pair.sh RTCPP WORKDIR [vp8|vp9|av1|h264|opus]
set -euo pipefail
source "$(dirname "$0")/peer_wiring.sh"
rtcpp=$(realpath "$1")
work=$2
codec=${3:-vp8}
rm -rf "$work"
mkdir -p "$work"
cd "$work"
source=(-hide_banner -loglevel error -f lavfi -i testsrc=size=320x240:rate=30 -t 2 -pix_fmt yuv420p)
case $codec in
  vp8) ffmpeg "${source[@]}" -c:v libvpx -g 30 -b:v 400k -deadline realtime clip.ivf
       clip=clip.ivf name=VP8 recording=rec/0.ivf ;;
  vp9) ffmpeg "${source[@]}" -c:v libvpx-vp9 -g 30 -b:v 400k -deadline realtime -cpu-used 8 clip.ivf
       clip=clip.ivf name=VP9 recording=rec/0.ivf ;;
  av1) ffmpeg "${source[@]}" -c:v libaom-av1 -g 30 -b:v 400k -cpu-used 8 -usage realtime clip.ivf
       clip=clip.ivf name=AV1 recording=rec/0.ivf ;;
  h264) ffmpeg "${source[@]}" -c:v libx264 -profile:v baseline -g 30 -b:v 400k -tune zerolatency \
          -bsf:v h264_mp4toannexb -f h264 clip.h264
        clip=clip.h264 name=H264 recording=rec/0.h264 ;;
  opus) ffmpeg -hide_banner -loglevel error -f lavfi -i sine=frequency=440:sample_rate=48000 -t 2 \
          -c:a libopus -b:a 48k -frame_duration 20 clip.ogg
        clip=clip.ogg name=opus recording=rec/0.ogg ;;
  *) echo "unknown codec $codec" >&2; exit 2 ;;
esac
kind=video minimum=85
if [[ $codec == opus ]]; then kind=audio minimum=145; fi
run_peer_pair "$rtcpp" --offer "--$kind" "$clip" --duration 3 -- --record rec
grep -q '"ok":true' <<<"$offer_result"
grep -q '"ok":true' <<<"$answer_result"
grep -q "\"type\":\"track\",\"kind\":\"$kind\",\"mid\":\"0\",\"codec\":\"$name\"" answerer.out
# Every frame sent arrived (loopback loses nothing) and was written: 3 s of 30 fps video, or
# of 20 ms audio packets.
recorded=$(sed -E "s/.*\"tracks\":\[\{\"kind\":\"$kind\",\"mid\":\"0\",\"codec\":\"$name\",\"frames\":([0-9]+).*/\1/" <<<"$answer_result")
echo "frames recorded by the answerer: $recorded"
(( recorded >= minimum ))
ffmpeg -hide_banner -v error -xerror -i "$recording" -f null - 2> decode.log
[[ ! -s decode.log ]]
if [[ $kind == audio ]]; then
  # The tone arrives as loud as it left: libopus's sine is at -21 dBFS mean, the same recorded.
  level() { ffmpeg -hide_banner -i "$1" -af volumedetect -f null - 2>&1 |
    sed -nE 's/.*mean_volume: (-?[0-9.]+) dB.*/\1/p'; }
  sent_level=$(level "$clip")
  received_level=$(level "$recording")
  echo "mean volume: sent $sent_level dB, recorded $received_level dB"
  awk -v a="$sent_level" -v b="$received_level" 'BEGIN { d = a - b; exit !(d < 1.5 && d > -1.5) }'
  exit 0
fi
decoded=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height \
  -of csv=p=0 "$recording")
echo "ffprobe: $decoded (width,height,frames)"
[[ $decoded == "320,240,$recorded" ]]
