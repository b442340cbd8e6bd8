#!/usr/bin/env python3
"""Sprays hostile datagrams at both `rtcpp peer` processes of a pair while they run.

It follows the peers' stdout files (the peer contract's JSON lines): each UDP host
candidate, in the SDP or trickled, becomes a target as soon as it appears, and the ICE
ufrags and passwords from the SDP shape STUN checks that look like the real ones but carry
the wrong MESSAGE-INTEGRITY. The mix: random bytes (0..1500, some of 65000), STUN, DTLS
records, SCTP packets (bare and inside DTLS records), RTP/RTCP and TURN ChannelData, all
malformed or unauthenticated. Nothing sent here can be valid: the test wants the transfer to
stay byte-exact through all of it.

Usage: garbage_spray.py --offerer offerer.out --answerer answerer.out [--seed N]
       [--rate PER_SECOND] [--duration S] [--tail S] [--ready FILE] [--mix KINDS]
       [--log FILE]
Sends from several local sockets (IPv4 and IPv6, loopback and wildcard, random ports) until
both files hold a result line and --tail seconds more have passed, or --duration is up.
Prints the seed first and a summary last. The same seed sends the same datagrams in the same
order (the timing, and so which phase of the session each one meets, varies).
"""

import argparse
import errno
import hashlib
import hmac
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import time
import zlib

MAGIC = 0x2112A442
CANDIDATE = re.compile(
    r"candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ host", re.IGNORECASE)


class PeerFile:
    """What one peer's stdout has said so far: candidates, credentials, result."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.pending = ""
        self.targets = set()
        self.ufrag = None
        self.pwd = None
        self.connected = False
        self.done = False

    def poll(self):
        try:
            with open(self.path, "r", encoding="utf-8", errors="replace") as f:
                f.seek(self.offset)
                chunk = f.read()
                self.offset = f.tell()
        except FileNotFoundError:
            return
        self.pending += chunk
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if not isinstance(msg, dict):
                continue
            kind = msg.get("type")
            if kind in ("offer", "answer"):
                sdp = msg.get("sdp", "")
                m = re.search(r"a=ice-ufrag:(\S+)", sdp)
                if m:
                    self.ufrag = m.group(1)
                m = re.search(r"a=ice-pwd:(\S+)", sdp)
                if m:
                    self.pwd = m.group(1)
                for c in CANDIDATE.finditer(sdp):
                    self.add(c.group(1), int(c.group(2)))
            elif kind == "candidate":
                c = CANDIDATE.search(msg.get("candidate", ""))
                if c:
                    self.add(c.group(1), int(c.group(2)))
            elif kind == "state" and msg.get("connectionState") == "connected":
                self.connected = True
            elif kind == "result":
                self.done = True

    def add(self, address, port):
        if address.endswith(".local"):
            return  # mDNS names are not sprayed: the addresses behind them are
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.targets.add((family, address, port))


# --- Shapes ------------------------------------------------------------------------------

def _crc32c_table():
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


CRC32C = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = CRC32C[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class Shapes:
    def __init__(self, rng):
        self.r = rng

    def bytes(self, n):
        return self.r.randbytes(n)

    # Random bytes, mostly datagram-sized; a few near the UDP maximum.
    def random(self, ctx):
        if self.r.random() < 0.005:
            return self.bytes(65000)
        return self.bytes(self.r.randint(0, 1500))

    # STUN (RFC 8489, ICE checks of RFC 8445): right ufrags, wrong integrity.
    def stun(self, ctx):
        r = self.r
        msg_type = r.choice([0x0001, 0x0001, 0x0001, 0x0101, 0x0111, 0x0011, 0x0003, 0x0016,
                             0x0017, 0x0008, 0x0009, 0x0113, r.randrange(0, 0x3FFF)])
        txid = self.bytes(12)
        attrs = []

        def attr(t, v, pad=True):
            body = struct.pack("!HH", t, len(v)) + v
            if pad and len(v) % 4:
                body += b"\0" * (4 - len(v) % 4)
            attrs.append(body)

        local, remote = ctx["ufrag"], ctx["other_ufrag"]
        username = r.choice([
            f"{local}:{remote}".encode(), f"{local}:{remote}".encode(),
            f"{remote}:{local}".encode(), f"{local}:".encode(), local.encode(),
            f"{local}:{remote}".encode() + b"x" * r.randint(1, 600), b"",
            local.encode() + b":\xff\xfe\xc0\x80"])
        attr(0x0006, username)
        if r.random() < 0.8:
            attr(0x0024, struct.pack("!I", r.getrandbits(32)))  # PRIORITY
        if r.random() < 0.5:
            # ICE-CONTROLLING / ICE-CONTROLLED with tie-breakers that would win or lose.
            attr(r.choice([0x802A, 0x8029]),
                 struct.pack("!Q", r.choice([0, 2**64 - 1, r.getrandbits(64)])))
        if r.random() < 0.5:
            attr(0x0025, b"")  # USE-CANDIDATE
        if msg_type & 0x0110 == 0x0100:
            # A success response: XOR-MAPPED-ADDRESS, sometimes with a bad family/length.
            attr(0x0020, struct.pack("!BBH", 0, r.choice([1, 2, 3, 0]), r.getrandbits(16))
                 + self.bytes(r.choice([4, 16, 3, 0])))
        if msg_type & 0x0110 == 0x0110:
            code = r.choice([487, 401, 400, 420, 438, 500, r.randrange(0, 1000)])
            attr(0x0009, struct.pack("!HBB", 0, code // 100, code % 100) + b"Role Conflict")
        if r.random() < 0.2:
            attr(r.randrange(0, 0x7FFF), self.bytes(r.randint(0, 40)))  # comprehension-required
        if r.random() < 0.1:
            for _ in range(r.randint(10, 200)):
                attr(r.randrange(0, 0x10000), self.bytes(r.randint(0, 8)))
        body = b"".join(attrs)

        # MESSAGE-INTEGRITY with a key that is not the right one: the other side's password,
        # a near miss of the right one, empty, or plain random bytes.
        integrity = r.random()
        if integrity < 0.85:
            keys = [ctx["other_pwd"] or "", (ctx["pwd"] or "x")[:-1] + "?", "", "password"]
            key = r.choice(keys).encode()
            length = len(body) + 24
            head = struct.pack("!HHI", msg_type, length, MAGIC) + txid
            mac = (hmac.new(key, head + body, hashlib.sha1).digest() if r.random() < 0.7
                   else self.bytes(20))
            body += struct.pack("!HH", 0x0008, 20) + mac
            if r.random() < 0.2:
                body += struct.pack("!HH", 0x001C, 32) + self.bytes(32)  # MI-SHA256 after MI
        # FINGERPRINT: mostly valid (so the message gets as far as the integrity check),
        # sometimes wrong, sometimes absent.
        fp = r.random()
        if fp < 0.8:
            length = len(body) + 8
            head = struct.pack("!HHI", msg_type, length, MAGIC) + txid
            crc = zlib.crc32(head + body) ^ 0x5354554E
            if fp > 0.65:
                crc ^= 1 << r.randrange(32)
            body += struct.pack("!HHI", 0x8028, 4, crc & 0xFFFFFFFF)
        length = len(body)
        mangle = r.random()
        if mangle < 0.1:
            length = r.choice([length + 4, length + 400, 0xFFFF, length - 1, 3])
        msg = struct.pack("!HHI", msg_type, length & 0xFFFF, MAGIC) + txid + body
        if mangle > 0.9:
            msg = msg[:r.randint(20, max(20, len(msg) - 1))]  # attributes cut short
        elif 0.8 < mangle <= 0.9:
            # One attribute header whose length runs past the end.
            msg += struct.pack("!HH", r.choice([0x0006, 0x0008, 0x8028, 0x0020]),
                               r.randint(5, 0xFFFF)) + self.bytes(r.randint(0, 4))
        return msg

    # DTLS 1.2 / 1.0 records (RFC 6347): every content type, both epochs, lengths that lie.
    def dtls_record(self, content=None, epoch=None, body=None):
        r = self.r
        if content is None:
            content = r.choice([20, 21, 22, 22, 22, 23, 23, 24, 25, r.randint(26, 63)])
        if epoch is None:
            epoch = r.choice([0, 0, 1, 1, 2, 0xFFFF])
        version = r.choice([0xFEFD, 0xFEFD, 0xFEFF, 0x0303, r.getrandbits(16)])
        if body is None:
            if content == 22:
                body = self.handshake()
            elif content == 21:
                body = bytes([r.choice([1, 2, 2, 9]),
                              r.choice([0, 10, 20, 40, 42, 47, 50, 51, 70, 80, 90, 255])])
            elif content == 20:
                body = b"\x01"
            elif content == 23:
                # AES-GCM shape: explicit nonce, ciphertext, tag.
                body = self.bytes(8) + self.sctp_packet() + self.bytes(16)
            else:
                body = self.bytes(r.randint(0, 300))
        length = len(body)
        lie = r.random()
        if lie < 0.25:
            length = r.choice([0xFFFF, 0x4000, 0x4001, len(body) + r.randint(1, 2000)])
        elif lie < 0.3:
            length = r.randint(0, len(body))
        seq = r.choice([0, 1, r.getrandbits(48), 2**48 - 1])
        return (struct.pack("!BHH", content, version, epoch) + seq.to_bytes(6, "big")
                + struct.pack("!H", length & 0xFFFF) + body)

    def handshake(self):
        r = self.r
        msg_type = r.choice([1, 1, 1, 0, 2, 3, 4, 11, 12, 13, 14, 15, 16, 20, r.randint(0, 255)])
        body = self.client_hello() if msg_type == 1 else self.bytes(r.randint(0, 400))
        length = len(body)
        frag_off, frag_len = 0, len(body)
        absurd = r.random()
        if absurd < 0.4:
            length = r.choice([0xFFFFFF, 0x10000, length + r.randint(1, 100000)])
        if 0.2 < absurd < 0.6:
            frag_off = r.choice([0xFFFFFF, 0xFFFFF0, length, r.getrandbits(24)])
        if 0.5 < absurd < 0.8:
            frag_len = r.choice([0xFFFFFF, 0, len(body) + 1000, r.getrandbits(24)])
        message_seq = r.choice([0, 0, 1, 2, 5, 0xFFFF, r.getrandbits(16)])
        return (bytes([msg_type]) + length.to_bytes(3, "big")
                + struct.pack("!H", message_seq) + (frag_off & 0xFFFFFF).to_bytes(3, "big")
                + (frag_len & 0xFFFFFF).to_bytes(3, "big") + body)

    def client_hello(self):
        r = self.r

        def vec(width, data, lie=False):
            n = len(data) if not lie else r.choice([len(data) + 50, 2 ** (8 * width) - 1, 0])
            return (n % 2 ** (8 * width)).to_bytes(width, "big") + data

        lie = r.random() < 0.3
        suites = b"".join(struct.pack("!H", s) for s in
                          [0xC02B, 0xC02F, 0xC00A, 0xC014, 0x009C, 0x002F, 0x00FF,
                           r.getrandbits(16)])
        ext = b""
        # use_srtp, supported_groups, ec_point_formats, signature_algorithms, EMS,
        # renegotiation_info, and an unknown one.
        ext += struct.pack("!HH", 0x000E, 5) + struct.pack("!H", 2) + b"\x00\x07" + b"\x00"
        ext += struct.pack("!HH", 0x000A, 4) + struct.pack("!HH", 2, 0x0017)
        ext += struct.pack("!HH", 0x000B, 2) + b"\x01\x00"
        ext += struct.pack("!HH", 0x000D, 4) + struct.pack("!HH", 2, 0x0403)
        ext += struct.pack("!HH", 0x0017, 0)
        ext += struct.pack("!HH", 0xFF01, 1) + b"\x00"
        if r.random() < 0.3:
            ext += struct.pack("!HH", r.getrandbits(16), r.choice([0, 5, 0xFFFF])) + self.bytes(5)
        cookie = self.bytes(r.choice([0, 0, 20, 32, 255]))
        return (struct.pack("!H", r.choice([0xFEFD, 0xFEFF, 0xFEFC])) + self.bytes(32)
                + vec(1, self.bytes(r.choice([0, 32])), lie and r.random() < 0.3)
                + vec(1, cookie, lie and r.random() < 0.3)
                + vec(2, suites, lie and r.random() < 0.3)
                + vec(1, b"\x00", lie and r.random() < 0.3)
                + vec(2, ext, lie and r.random() < 0.3))

    def dtls(self, ctx):
        r = self.r
        records = [self.dtls_record() for _ in range(r.choice([1, 1, 1, 2, 3, 8]))]
        out = b"".join(records)
        if len(records) > 1 and r.random() < 0.5:
            out = out[:-r.randint(1, 10)]  # the last record cut short
        return out

    # SCTP (RFC 9260) common header and chunks: random tags, checksums zero or random.
    def sctp_packet(self):
        r = self.r
        chunks = b""
        for _ in range(r.choice([1, 1, 2, 4])):
            ctype = r.choice([0, 0, 1, 2, 3, 4, 5, 6, 6, 7, 8, 10, 11, 14, 130, 192,
                              r.randint(0, 255)])
            if ctype == 0:
                # DATA: TSN, stream, SSN, PPID (DCEP, string, binary), payload; some a DCEP
                # DATA_CHANNEL_OPEN.
                ppid = r.choice([50, 51, 53, 56, 57, r.getrandbits(32)])
                payload = (b"\x03\x00\x00\x00\x00\x00\x00\x04\x00\x00" + b"evil"
                           if ppid == 50 else self.bytes(r.randint(0, 1200)))
                value = struct.pack("!IHHI", r.getrandbits(32), r.getrandbits(16),
                                    r.getrandbits(16), ppid) + payload
            elif ctype in (1, 2):
                # INIT / INIT ACK: tag, a_rwnd, streams, initial TSN, then parameters.
                value = struct.pack("!IIHHI", r.getrandbits(32), r.getrandbits(32),
                                    r.choice([0, 1, 65535]), r.choice([0, 1, 65535]),
                                    r.getrandbits(32))
                value += struct.pack("!HH", r.choice([7, 0x8008, 0xC000, 0x8003]),
                                     r.choice([4, 8, 0xFFFF])) + self.bytes(r.randint(0, 16))
            else:
                value = self.bytes(r.randint(0, 64))
            length = len(value) + 4
            if r.random() < 0.2:
                length = r.choice([0, 1, 3, 0xFFFF, length + 100])
            chunks += struct.pack("!BBH", ctype, r.getrandbits(8), length) + value
            chunks += b"\0" * (-len(chunks) % 4)
        header = struct.pack("!HHI", r.choice([5000, 5000, r.getrandbits(16)]),
                             r.choice([5000, 5000, r.getrandbits(16)]),
                             r.choice([0, r.getrandbits(32)]))
        checksum = r.random()
        if checksum < 0.5:
            crc = 0
        elif checksum < 0.8:
            crc = r.getrandbits(32)
        else:
            # A right CRC32c over a packet that is otherwise wrong.
            crc = crc32c(header + b"\0\0\0\0" + chunks)
            return header + struct.pack("<I", crc) + chunks
        return header + struct.pack("!I", crc) + chunks

    def sctp(self, ctx):
        # Bare, or inside a DTLS application_data record (epoch 0 or 1), as SCTP travels.
        if self.r.random() < 0.5:
            return self.sctp_packet()
        return self.dtls_record(content=23, epoch=self.r.choice([0, 1]),
                                body=self.bytes(8) + self.sctp_packet() + self.bytes(16))

    # RTP / RTCP (RFC 3550, RFC 5761 payload types), SRTP-like tails.
    def rtp(self, ctx):
        r = self.r
        first = 0x80 | r.getrandbits(6)  # V=2, random P, X, CC
        if r.random() < 0.5:
            second = r.choice([r.randint(64, 95), r.randint(64, 95) | 0x80,
                               r.randint(200, 206)])
            body = struct.pack("!H", r.choice([1, 6, 0xFFFF, r.getrandbits(16)]))
            body += struct.pack("!I", r.getrandbits(32)) + self.bytes(r.randint(0, 200))
            if r.random() < 0.3:
                body += struct.pack("!I", 0x80000000 | r.getrandbits(31)) + self.bytes(10)
            return bytes([first, second]) + body
        second = r.getrandbits(8)
        body = struct.pack("!HII", r.getrandbits(16), r.getrandbits(32), r.getrandbits(32))
        body += self.bytes(4 * (first & 0x0F) if r.random() < 0.5 else 0)
        if first & 0x10:
            body += struct.pack("!HH", r.choice([0xBEDE, 0x1000, r.getrandbits(16)]),
                                r.choice([0, 1, 0xFFFF]))
        body += self.bytes(r.randint(0, 1200))
        if first & 0x20 and body:
            body = body[:-1] + bytes([r.choice([0, 255, min(255, len(body) + 13)])])
        return bytes([first, second]) + body

    # TURN ChannelData (RFC 8656 12.4), on peers that use no TURN server.
    def channel_data(self, ctx):
        r = self.r
        inner = r.choice([self.random, self.stun, self.dtls])(ctx)[:1400]
        length = len(inner)
        if r.random() < 0.3:
            length = r.choice([0xFFFF, length + 1, 0, length + 4000])
        return struct.pack("!HH", r.randint(0x4000, 0x7FFF), length & 0xFFFF) + inner


MIX = [("random", 20), ("stun", 25), ("dtls", 25), ("sctp", 10), ("rtp", 10),
       ("channel_data", 10)]


def open_sources():
    """Several local sockets per family: loopback and wildcard, each on a random port."""
    sources = {socket.AF_INET: [], socket.AF_INET6: []}
    for family, binds in ((socket.AF_INET, ["127.0.0.1"] * 3 + ["0.0.0.0"]),
                          (socket.AF_INET6, ["::1"] * 2 + ["::"])):
        for address in binds:
            try:
                s = socket.socket(family, socket.SOCK_DGRAM)
                s.setblocking(False)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
                s.bind((address, 0))
                sources[family].append(s)
            except OSError:
                continue
    return sources


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--offerer", required=True, help="the offerer's stdout file")
    p.add_argument("--answerer", required=True, help="the answerer's stdout file")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--rate", type=float, default=4000, help="datagrams a second, in all")
    p.add_argument("--duration", type=float, default=30, help="stop after this many seconds")
    p.add_argument("--mix", default=",".join(k for k, _ in MIX),
                   help="the kinds to send, comma-separated: " + ", ".join(k for k, _ in MIX))
    p.add_argument("--log", help="write each datagram sent here: time, target, kind, hex")
    p.add_argument("--ready", help="create this file once the sockets are open")
    p.add_argument("--tail", type=float, default=2,
                   help="go on this long after both peers printed their result")
    args = p.parse_args()

    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    print(f"garbage_spray: seed {seed} rate {args.rate:g}/s", flush=True)
    rng = random.Random(seed)
    shapes = Shapes(rng)
    chosen = set(args.mix.split(","))
    if not chosen <= {k for k, _ in MIX}:
        p.error(f"--mix: unknown kinds {sorted(chosen - {k for k, _ in MIX})}")
    kinds = [k for k, _ in MIX if k in chosen]
    weights = [w for k, w in MIX if k in chosen]
    log = open(args.log, "w") if args.log else None

    stop = False

    def on_term(signo, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    peers = {"offerer": PeerFile(args.offerer), "answerer": PeerFile(args.answerer)}
    other = {"offerer": "answerer", "answerer": "offerer"}
    sources = open_sources()
    if args.ready:
        open(args.ready, "w").close()
    sent = {k: 0 for k, _ in MIX}
    sent_bytes = 0
    send_errors = 0
    sent_live = 0  # before both results: during setup, transfer and close
    replies = 0
    dead = set()  # targets the kernel refused (an address we cannot reach)
    start = time.monotonic()
    first_target_at = None
    done_at = None
    budget = 0.0
    last_send = 0.0
    last_poll = 0.0
    while not stop:
        now = time.monotonic()
        if now - start > args.duration:
            break
        if now - last_poll > 0.005:
            last_poll = now
            for peer in peers.values():
                peer.poll()
            if done_at is None and all(peer.done for peer in peers.values()):
                done_at = now
        if done_at is not None and now - done_at > args.tail:
            break
        targets = [(name, t) for name, peer in peers.items() for t in sorted(peer.targets)
                   if t not in dead and sources[t[0]]]
        if not targets:
            time.sleep(0.002)
            continue
        if first_target_at is None:
            first_target_at = last_send = now
        # Paced as a token bucket, in bursts of at most 200.
        budget = min(budget + (now - last_send) * args.rate, 200.0)
        last_send = now
        burst = int(budget)
        budget -= burst
        if burst == 0:
            time.sleep(0.001)
            continue
        for _ in range(burst):
            name, (family, address, port) = rng.choice(targets)
            me, them = peers[name], peers[other[name]]
            ctx = {"ufrag": me.ufrag or "abcd", "pwd": me.pwd,
                   "other_ufrag": them.ufrag or "wxyz", "other_pwd": them.pwd}
            kind = rng.choices(kinds, weights)[0]
            data = getattr(shapes, kind)(ctx)
            sock = rng.choice(sources[family])
            try:
                sock.sendto(data, (address, port))
                sent[kind] += 1
                sent_bytes += len(data)
                if done_at is None:
                    sent_live += 1
                if log:
                    log.write(f"{time.monotonic() - start:.6f} {name} {address} {port} "
                              f"{sock.getsockname()[1]} {kind} {data.hex()}\n")
            except BlockingIOError:
                send_errors += 1
            except OSError as e:
                send_errors += 1
                if e.errno in (errno.EADDRNOTAVAIL, errno.ENETUNREACH, errno.EAFNOSUPPORT,
                               errno.EINVAL):
                    dead.add((family, address, port))
        # Whatever comes back (400/401 answers to checks, ICMP errors) is read and counted.
        for family_sources in sources.values():
            for s in family_sources:
                while True:
                    try:
                        s.recv(65535)
                        replies += 1
                    except (BlockingIOError, ConnectionRefusedError):
                        break
                    except OSError:
                        break
    elapsed = time.monotonic() - (first_target_at or start)
    total = sum(sent.values())
    targets = sorted(f"{n}:{a}:{pt}" for n, peer in peers.items() for (_, a, pt) in peer.targets)
    print(f"garbage_spray: seed {seed}: {total} datagrams ({sent_bytes} bytes) in "
          f"{elapsed:.1f} s ({total / elapsed if elapsed > 0 else 0:.0f}/s) to "
          f"{len(targets)} ports [{' '.join(targets)}]; "
          + ", ".join(f"{k} {v}" for k, v in sent.items())
          + f"; {send_errors} send errors, {replies} replies",
          flush=True)
    if first_target_at is not None:
        live = (done_at or time.monotonic()) - first_target_at
        print(f"garbage_spray: {sent_live} of them in the {live:.2f} s from the first port "
              f"known to both results", flush=True)
    if total == 0:
        print("garbage_spray: no target was ever known", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
