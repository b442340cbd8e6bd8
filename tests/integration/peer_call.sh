#!/usr/bin/env bash
# Two `rtcpp peer` processes with real encoding and decoding: the offerer sends raw media it
# encodes itself, the answerer decodes it (--record writes <mid>.y4m and <mid>.wav), and
# `rtcpp media-check` reads the recordings back.
# Usage: peer_call.sh RTCPP WORKDIR CODEC SOURCE
#   CODEC: vp8, vp9, h264 or av1 (with Opus audio), or pcmu (G.711 audio with VP8)
#   SOURCE: testsrc (the generated pattern and tone), or files (a .y4m and a 44.1 kHz stereo
#           .wav made by `rtcpp testsrc`, which the sender resamples and mixes down)
# Checks: every picture decoded, with its stamp (AV1: all but one), in order, none missing; PSNR against the
# source picture at least 30 dB on average; the tone at 440 Hz within 1 %.
set -euo pipefail
source "$(dirname "$0")/peer_wiring.sh"
rtcpp=$(realpath "$1")
work=$2
codec=${3:-vp8}
source_kind=${4:-testsrc}
rm -rf "$work"
mkdir -p "$work"
cd "$work"
video_codec=${codec^^}
audio_codec=opus
if [[ $codec == pcmu ]]; then video_codec=VP8 audio_codec=PCMU; fi
video=testsrc audio=testsrc
if [[ $source_kind == files ]]; then
  "$rtcpp" testsrc --out pattern.y4m --width 320 --height 240 --frames 45 --fps 30 > /dev/null
  "$rtcpp" testsrc --out tone.wav --seconds 1 --sample-rate 44100 --channels 2 > /dev/null
  video=pattern.y4m audio=tone.wav
fi
run_peer_pair "$rtcpp" --offer --video "$video" --audio "$audio" --video-codec "$video_codec" \
  --audio-codec "$audio_codec" --duration 3 -- --record rec
grep -q '"ok":true' <<<"$offer_result"
grep -q '"ok":true' <<<"$answer_result"
video_check=$("$rtcpp" media-check rec/0.y4m)
audio_check=$("$rtcpp" media-check rec/1.wav)
echo "video: $video_check"
echo "audio: $audio_check"
field() { sed -nE "s/.*\"$1\":(-?[0-9.e+-]+).*/\1/p" <<<"$2"; }
decoded=$(sed -nE 's/.*"kind":"video"[^}]*"framesDecoded":([0-9]+).*/\1/p' <<<"$answer_result")
echo "pictures decoded: $decoded"
# 3 s at 30 fps; a rate controller may drop a frame or two at the start.
(( decoded >= 85 ))
# libaom at real-time speed 9 (the speed Chromium uses at this size) now and then leaves a block
# of the stamp stale in one picture, so at most one AV1 picture may show an unreadable stamp.
unreadable_stamps_allowed=0
if [[ $codec == av1 ]]; then unreadable_stamps_allowed=1; fi
(( decoded - $(field stamped "$video_check") <= unreadable_stamps_allowed ))
(( $(field outOfOrder "$video_check") == 0 ))
(( $(field missing "$video_check") <= 3 ))
awk -v p="$(field psnrAverage "$video_check")" 'BEGIN { exit !(p >= 30) }'
awk -v f="$(field frequency "$audio_check")" 'BEGIN { exit !(f > 435.6 && f < 444.4) }'
