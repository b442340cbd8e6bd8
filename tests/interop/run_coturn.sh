#!/usr/bin/env bash
# Starts Debian's coturn (turnserver) on 127.0.0.1 at free ports (UDP+TCP, and TLS with a
# self-signed certificate) with a temporary config,
# runs the TURN interop test binary against it, then (given the rtcpp tool) two `rtcpp peer`
# processes relay-only through it by name (the contract's --relay-only, --ice-server turn:),
# and stops it. Usage:
#   run_coturn.sh <interop_turn_tests binary> [work dir] [rtcpp binary]
set -euo pipefail
test_binary=$1
work=${2:-$(mktemp -d)}
rtcpp=${3:-}
mkdir -p "$work"
if ! command -v turnserver > /dev/null; then
  echo "turnserver (Debian package coturn) is not installed" >&2
  exit 77
fi
# Free ports for UDP+TCP and for TLS, and a relay port range next to nothing else.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port=$(free_port)
tls_port=$(free_port)
while [[ $tls_port == "$port" ]]; do tls_port=$(free_port); done
# A self-signed certificate that names localhost only (the test also checks that reaching the
# server as 127.0.0.1 is refused).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost \
  -keyout "$work/turn_key.pem" -out "$work/turn_cert.pem" 2> /dev/null
# An IPv6 relay address too when loopback has one, for the dual-allocation test (RFC 8656).
ipv6_relay=
if ip -6 addr show dev lo 2> /dev/null | grep -q 'inet6 ::1/128'; then ipv6_relay=1; fi
config=$work/turnserver.conf
log=$work/turnserver.log
cat > "$config" <<CONF
listening-ip=127.0.0.1
relay-ip=127.0.0.1
${ipv6_relay:+relay-ip=::1}
listening-port=$port
tls-listening-port=$tls_port
cert=$work/turn_cert.pem
pkey=$work/turn_key.pem
min-port=49152
max-port=65535
allow-loopback-peers
lt-cred-mech
user=user:pass
realm=rtcpp.test
fingerprint
no-dtls
no-cli
no-rfc5780
verbose
no-stun-backward-compatibility
log-file=$log
simple-log
no-stdout-log
pidfile=$work/turnserver.pid
CONF
turnserver -c "$config" 2>> "$log" &
server=$!
trap 'kill $server 2> /dev/null || true; wait $server 2> /dev/null || true' EXIT
# Ready once it listens on the UDP and TLS ports.
for _ in $(seq 1 100); do
  if ss -Hlun "sport = :$port" 2> /dev/null | grep -q . &&
     ss -Hltn "sport = :$tls_port" 2> /dev/null | grep -q .; then break; fi
  sleep 0.05
done
status=0
RTCPP_TURN_PORT=$port RTCPP_TURN_TLS_PORT=$tls_port RTCPP_TURN_CA=$work/turn_cert.pem \
  RTCPP_TURN_IPV6_RELAY=$ipv6_relay \
  "$test_binary" || status=$?
if [[ $status -eq 0 && -n "$rtcpp" ]]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  "$here/integration/peer_pair.sh" "$(realpath "$rtcpp")" "$work/peer_pair" --relay-only \
    --ice-server "turn:user:pass@localhost:$port?transport=udp" || status=$?
fi
echo "turnserver log: $log"
exit $status
