#!/usr/bin/env python3
"""Mutated real offers into `rtcpp peer` as the answerer.

Takes the offers other stacks wrote (tests/data/sdp/*-offer-*.sdp), mutates each many times
with a fixed seed (lines dropped, duplicated, swapped; numbers corrupted or made huge; the
text truncated; fingerprints, setup roles and attributes made wrong; invalid UTF-8 put in)
and hands each mutant, as the contract's offer line, to its own answerer. Every run must
end within a few seconds of its stdin closing, must exit by itself (not by a signal), and
must either answer or refuse: its last stdout line is the result line, and a result that is
not an answer carries an error. Runs a few peers at a time. One more run, not an offer, has
an --ice-server that is not UTF-8 (the peer used to die on SIGABRT printing its error).

Usage: peer_mutated_offers.py RTCPP SDP_DIR WORKDIR [--seed N] [--count N] [--jobs N]
"""

import argparse
import concurrent.futures
import json
import pathlib
import random
import re
import selectors
import subprocess
import sys
import time

# How long one peer may take: to answer after the offer line, and to exit after stdin closes.
ANSWER_WAIT = 5.0
EXIT_WAIT = 5.0

GARBAGE_ATTRIBUTES = [
    b"a=",
    b"a=:",
    b"a=rtpmap:",
    b"a=rtpmap:96",
    b"a=rtpmap:999999999999 VP8/90000",
    b"a=fmtp:96 " + b";" * 2000,
    b"a=candidate:",
    b"a=candidate:1 1 udp 1 999.1.1.1 70000 typ host",
    b"a=ssrc-group:FID",
    b"a=ssrc:4294967296 cname:x",
    b"a=extmap:0 urn:ietf:params:rtp-hdrext:sdes:mid",
    b"a=extmap:65535/sendrecv x",
    b"a=group:BUNDLE " + b" ".join(b"m%d" % i for i in range(300)),
    b"a=mid:",
    b"a=msid:" + b"x" * 70000,
    b"a=sctp-port:-1",
    b"a=max-message-size:18446744073709551616",
    b"a=rtcp-fb:* nack pli nack pli nack pli",
    b"a=simulcast:send " + b";".join(b"r%d" % i for i in range(500)),
    b"a=rid:0 send pt=" + b",".join(b"%d" % i for i in range(1000)),
    b"b=AS:99999999999999999999",
    b"c=IN IP6 ::ffff:999.0.0.1",
    b"garbage without an equals sign",
    b"=novalue",
    b"m=application",
    b"m=video 9 UDP/TLS/RTP/SAVPF",
    b"m=audio 0 RTP/AVP " + b" ".join(b"%d" % i for i in range(128)),
]
BAD_FINGERPRINTS = [
    b"a=fingerprint:sha-256",
    b"a=fingerprint:sha-256 ZZ:ZZ",
    b"a=fingerprint:sha-256 00:11:22",
    b"a=fingerprint:md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
    b"a=fingerprint:sha-999 00:11",
    b"a=fingerprint:sha-256 " + b":".join([b"AB"] * 33),
    b"a=fingerprint:sha-256 " + b"A" * 95,
    b"a=fingerprint: ",
]
SETUP_ROLES = [b"active", b"passive", b"holdconn", b"actpass", b"", b"ACTIVE", b"both"]
HUGE_NUMBERS = [b"0", b"-1", b"65536", b"4294967295", b"4294967296", b"18446744073709551616",
                b"99999999999999999999999999999999", b"1e308", b"0x10", b"+5", b"007"]
INVALID_UTF8 = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80"]


def mutate_once(rng, lines):
    """One mutation of a list of byte lines (without line ends), in place."""
    kind = rng.randrange(12)
    i = rng.randrange(len(lines)) if lines else 0
    if not lines:
        lines.append(rng.choice(GARBAGE_ATTRIBUTES))
    elif kind == 0:
        del lines[i]
    elif kind == 1:
        lines.insert(i, lines[i])
    elif kind == 2:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == 3:
        # A number on the line corrupted: made huge, negative, zero or not quite a number.
        numbers = list(re.finditer(rb"\d+", lines[i]))
        if numbers:
            m = rng.choice(numbers)
            lines[i] = lines[i][:m.start()] + rng.choice(HUGE_NUMBERS) + lines[i][m.end():]
    elif kind == 4:
        # Truncated: this line cut, everything after it gone.
        cut = rng.randrange(len(lines[i]) + 1)
        del lines[i + 1:]
        lines[i] = lines[i][:cut]
    elif kind == 5:
        lines[:] = [rng.choice(BAD_FINGERPRINTS) if line.startswith(b"a=fingerprint:") else line
                    for line in lines]
    elif kind == 6:
        lines[:] = [b"a=setup:" + rng.choice(SETUP_ROLES) if line.startswith(b"a=setup:") else line
                    for line in lines]
    elif kind == 7:
        lines.insert(i, rng.choice(GARBAGE_ATTRIBUTES))
    elif kind == 8:
        # Invalid UTF-8 inside a line (the offer line then is not JSON; see to_offer_line).
        at = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:at] + rng.choice(INVALID_UTF8) + lines[i][at:]
    elif kind == 9:
        # A whole media section repeated many times.
        starts = [n for n, line in enumerate(lines) if line.startswith(b"m=")]
        if starts:
            s = rng.choice(starts)
            e = next((n for n in starts if n > s), len(lines))
            lines[e:e] = lines[s:e] * rng.choice([2, 10, 200])
    elif kind == 10:
        # A byte flipped somewhere on the line.
        if lines[i]:
            at = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:at] + bytes([rng.randrange(256)]) + lines[i][at + 1:]
    else:
        # Lines whose meaning depends on their place moved to the session level or dropped.
        keys = (b"a=ice-ufrag:", b"a=ice-pwd:", b"a=mid:", b"a=group:", b"a=fingerprint:")
        key = rng.choice(keys)
        if rng.randrange(2):
            lines[:] = [line for line in lines if not line.startswith(key)]
        else:
            moved = [line for line in lines if line.startswith(key)]
            rest = [line for line in lines if not line.startswith(key)]
            lines[:] = rest[:3] + moved + rest[3:]


def is_utf8(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def to_offer_line(sdp):
    """The contract's offer line for SDP bytes. UTF-8 goes through JSON; anything else is put
    in raw, as a broken signaling channel would (the peer must refuse the line)."""
    if not is_utf8(sdp):
        return b'{"type":"offer","sdp":"' + sdp.replace(b"\\", b"\\\\").replace(
            b'"', b'\\"').replace(b"\r", b"\\r").replace(b"\n", b"\\n") + b'"}\n'
    return (json.dumps({"type": "offer", "sdp": sdp.decode("utf-8")}) + "\n").encode()


def make_mutants(offers, seed, count):
    rng = random.Random(seed)
    names = sorted(offers)
    out = []
    for n in range(count):
        name = names[n % len(names)]
        lines = offers[name].split(b"\r\n")
        for _ in range(rng.choice([1, 1, 2, 3])):
            mutate_once(rng, lines)
        eol = b"\n" if rng.randrange(8) == 0 else b"\r\n"
        out.append((f"{n:03d}-{name}", eol.join(lines)))
    return out


def run_one(rtcpp, work, name, sdp):
    """Runs one answerer on one mutant; returns None when it behaved, else what went wrong."""
    (work / f"{name}.sdp").write_bytes(sdp)
    err = open(work / f"{name}.log", "wb")
    started = time.monotonic()
    peer = subprocess.Popen([rtcpp, "peer", "--timeout", "20"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=err)
    try:
        peer.stdin.write(to_offer_line(sdp))
        peer.stdin.flush()
    except BrokenPipeError:
        pass
    # Wait for the answer or the result, whichever comes first, then close stdin: without an
    # offerer the session cannot go on, and the peer must say so and leave.
    lines = []
    # A line that is not JSON (the SDP was not UTF-8) is ignored by the contract: nothing to
    # wait for, stdin closes at once.
    json_line = is_utf8(sdp)
    deadline = started + (ANSWER_WAIT if json_line else 0.0)
    sel = selectors.DefaultSelector()
    sel.register(peer.stdout, selectors.EVENT_READ)
    buffer = b""
    answered_or_done = False
    while not answered_or_done and time.monotonic() < deadline:
        if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        chunk = peer.stdout.read1(65536)
        if not chunk:
            break
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            lines.append(line)
            if b'"type":"answer"' in line or b'"type":"result"' in line:
                answered_or_done = True
    # An offer that is a JSON line gets its answer or its refusal while stdin is still open.
    slow = json_line and not answered_or_done
    try:
        peer.stdin.close()
    except BrokenPipeError:
        pass
    peer.stdin = None  # closed: communicate() must not flush it
    try:
        rest, _ = peer.communicate(timeout=EXIT_WAIT)
    except subprocess.TimeoutExpired:
        peer.kill()
        peer.wait()
        err.close()
        return f"{name}: did not exit within {EXIT_WAIT} s of its stdin closing (hang)"
    finally:
        sel.close()
    err.close()
    elapsed = time.monotonic() - started
    lines += (buffer + rest).split(b"\n")
    lines = [line for line in lines if line]
    (work / f"{name}.out").write_bytes(b"\n".join(lines) + b"\n")
    if slow:
        return f"{name}: neither an answer nor a result within {ANSWER_WAIT} s of the offer"
    if peer.returncode < 0:
        return f"{name}: killed by signal {-peer.returncode}"
    if not lines:
        return f"{name}: nothing on stdout"
    try:
        result = json.loads(lines[-1])
    except ValueError:
        return f"{name}: the last stdout line is not JSON: {lines[-1][:200]!r}"
    if result.get("type") != "result":
        return f"{name}: the last stdout line is not the result: {lines[-1][:200]!r}"
    if sum(1 for line in lines if b'"type":"result"' in line) != 1:
        return f"{name}: more than one result line"
    answered = any(b'"type":"answer"' in line for line in lines)
    if not json_line and (answered or b"malformed signaling line" not in
                          (work / f"{name}.log").read_bytes()):
        return f"{name}: a line that is not JSON was not refused as malformed"
    if not answered and not result.get("error"):
        return f"{name}: neither an answer nor an error"
    if peer.returncode != 1:
        return f"{name}: exit status {peer.returncode} (a peer that never connects exits 1)"
    log = (work / f"{name}.log").read_bytes()
    if re.search(rb"Sanitizer|runtime error:|terminate called|Assertion .* failed", log):
        return f"{name}: crash or sanitizer report on stderr"
    return None if elapsed < ANSWER_WAIT + EXIT_WAIT else f"{name}: took {elapsed:.1f} s"


def check_bad_argument(rtcpp):
    """Not an offer, but the same promise: an --ice-server that is not UTF-8 is refused with a
    result line (its error quotes the URL) rather than ending the process on a signal."""
    peer = subprocess.run([rtcpp, "peer", "--ice-server", b"st\xffun:x", "--timeout", "5"],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=EXIT_WAIT)
    lines = peer.stdout.splitlines()
    if peer.returncode != 1 or not lines or b'"type":"result"' not in lines[-1]:
        return (f"--ice-server not UTF-8: exit status {peer.returncode}, stdout {peer.stdout!r}, "
                f"stderr {peer.stderr[-300:]!r}")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rtcpp")
    parser.add_argument("sdp_dir", type=pathlib.Path)
    parser.add_argument("work", type=pathlib.Path)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=6)
    args = parser.parse_args()

    offers = {p.stem: p.read_bytes().rstrip(b"\r\n")
              for p in sorted(args.sdp_dir.glob("*-offer-*.sdp"))}
    if not offers:
        print(f"no offers in {args.sdp_dir}", file=sys.stderr)
        return 1
    args.work.mkdir(parents=True, exist_ok=True)
    for old in args.work.iterdir():
        old.unlink()
    mutants = make_mutants(offers, args.seed, args.count)
    started = time.monotonic()
    failures = []
    answered = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_one, args.rtcpp, args.work, name, sdp): name
                   for name, sdp in mutants}
        for future in concurrent.futures.as_completed(futures):
            problem = future.result()
            if problem:
                failures.append(problem)
            elif b'"type":"answer"' in (args.work / f"{futures[future]}.out").read_bytes():
                answered += 1
    refused = len(mutants) - answered - len(failures)
    if problem := check_bad_argument(args.rtcpp):
        failures.append(problem)
    elapsed = time.monotonic() - started
    for problem in sorted(failures):
        print("FAIL " + problem, file=sys.stderr)
    print(f"{len(mutants)} mutated offers (seed {args.seed}) in {elapsed:.1f} s: {answered} "
          f"answered, {refused} refused with an error, "
          f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
