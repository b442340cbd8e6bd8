#!/usr/bin/env bash
# Writes the simulator demo's capture and checks that tshark reads it without complaint:
# every record as IP/UDP with good IP and UDP checksums, as many as the simulator wrote.
set -euo pipefail
writer=$1
tshark=$2
pcap=$3
rm -f "$pcap"
expected=$("$writer" "$pcap")
err=$(mktemp)
trap 'rm -f "$err"' EXIT
count() { "$tshark" -n -r "$pcap" -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE "$@" \
  -T fields -e frame.number 2>>"$err" | wc -l; }
frames=$(count)
udp=$(count -Y udp)
good_udp=$(count -Y 'udp.checksum.status == 1')
good_ip=$(count -Y 'ip.checksum.status == 1')
echo "pcap: $expected written; tshark read $frames (udp $udp, good udp checksum $good_udp," \
  "good ip checksum $good_ip)"
# tshark's warning about running as root is not about the file.
if grep -v -e '^Running as user' -e '^$' "$err" >/dev/null; then
  echo "tshark reported:" && cat "$err"
  exit 1
fi
[[ "$expected" -gt 0 && "$frames" -eq "$expected" && "$udp" -eq "$expected" &&
  "$good_udp" -eq "$expected" && "$good_ip" -eq "$expected" ]]
