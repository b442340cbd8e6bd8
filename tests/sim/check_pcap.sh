#!/usr/bin/env bash
# Writes a capture of a full rtcpp session (ICE, DTLS, SCTP) from the simulator and checks
# that tshark reads every packet as IP/UDP and recognises STUN and DTLS in it.
set -euo pipefail
sim_tests=$1
tshark=$2
pcap=$3
rm -f "$pcap"
RTCPP_SIM_PCAP="$pcap" "$sim_tests" --gtest_filter='Stack.FullStackThroughNatsWithStunServer' >/dev/null
expected=$(cat "$pcap.count")
read_count=$("$tshark" -n -r "$pcap" -T fields -e frame.number 2>/dev/null | wc -l)
udp_count=$("$tshark" -n -r "$pcap" -Y udp -T fields -e frame.number 2>/dev/null | wc -l)
stun_count=$("$tshark" -n -r "$pcap" -Y stun -T fields -e frame.number 2>/dev/null | wc -l)
dtls_count=$("$tshark" -n -r "$pcap" -d udp.port==1-65535,dtls -Y dtls.handshake -T fields -e frame.number 2>/dev/null | wc -l)
echo "pcap: $expected written, tshark read $read_count (udp $udp_count, stun $stun_count, dtls $dtls_count)"
[[ "$read_count" -eq "$expected" && "$udp_count" -eq "$expected" && "$stun_count" -gt 0 && "$dtls_count" -gt 0 ]]
