// One libdatachannel endpoint (node-datachannel) speaking the JSON lines of the peer contract
// (shared docs, peer-contract.md) on stdin and stdout, so that compare.mjs drives it exactly as
// it drives `rtcpp peer`: one process per endpoint, signaling relayed between them. Only what
// the benchmark needs:
//
//   node libdatachannel-peer.mjs [--offer] [--send FILE] [--chunk BYTES] [--bytes N]
//                                [--bind ADDR] [--timeout S]
//
// --send FILE   (offerer) once open, send FILE in --chunk byte binary messages, keeping
//               bufferedAmount under 1 MiB and refilling when it falls to 512 KiB; then wait
//               for the receiver's bye. The channel is not closed to mark the end, as
//               `rtcpp peer` does: libdatachannel reports a local close at once, while data is
//               still queued, so the sender could not tell when it may exit.
// --bytes N     (receiver) once N bytes have arrived, say bye and finish; without it the
//               receiver finishes on the channel's close or on bye.
// --bind ADDR   ICE binds to ADDR only (libjuice's host candidates then carry ADDR)
//
// Besides the contract's result fields the result line carries wall-clock times in ms
// (firstSendAt, lastByteAt: performance.timeOrigin + now(), comparable across processes) and
// cpuSeconds: this process's utime + stime from /proc/self/stat between the channel opening
// and the end of the transfer.
import nodeDataChannel from 'node-datachannel';
import readline from 'node:readline';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const value = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const offerer = flag('--offer');
const sendFile = value('--send', null);
const chunk = Number(value('--chunk', 65536));
const expectBytes = value('--bytes', null) === null ? null : Number(value('--bytes'));
const bind = value('--bind', null);
const timeoutS = Number(value('--timeout', 60));
const kHighWater = 1024 * 1024;
const kLowThreshold = 512 * 1024;

const now = () => performance.timeOrigin + performance.now();
const say = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');

function cpuSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const result = {
  type: 'result', ok: false, role: offerer ? 'offer' : 'answer', bytesSent: 0, bytesReceived: 0,
  messagesReceived: 0, sha256: null, connectMs: null, transferMs: null, error: null,
  firstSendAt: null, lastByteAt: null, cpuSeconds: null,
};
const hash = createHash('sha256');
const sendData = sendFile ? readFileSync(sendFile) : null;
let startedAt = null;
let firstByteAt = null;
let cpuAtOpen = null;
let finished = false;
// node-datachannel closes a channel when its JavaScript object is garbage collected, even with
// callbacks set on it: hold every channel for the life of the process.
const channels = [];

// LDC_LOG=Debug (or Verbose, Info, ...): libdatachannel's log on stderr, with wall-clock times
// so that the two processes' logs can be merged.
if (process.env.LDC_LOG) {
  nodeDataChannel.initLogger(process.env.LDC_LOG, (level, text) =>
    console.error(`${now().toFixed(1)} ${result.role} [${level}] ${text}`));
}
const pc = new nodeDataChannel.PeerConnection(offerer ? 'offer' : 'answer', {
  iceServers: [],
  ...(bind ? { bindAddress: bind } : {}),
  // The offerer calls setLocalDescription itself, so that the open time starts where
  // createOffer would; the answerer answers on its own when the offer is applied.
  disableAutoNegotiation: offerer,
});

// `bye`: this side ends the session (the remote has not said bye).
function finish(ok, error = null, bye = false) {
  if (finished) return;
  finished = true;
  if (cpuAtOpen !== null) result.cpuSeconds = cpuSeconds() - cpuAtOpen;
  if (result.firstSendAt !== null) result.transferMs = now() - result.firstSendAt;
  result.ok = ok;
  result.error = error;
  result.sha256 = hash.digest('hex');
  if (bye) say({ type: 'bye' });
  say(result);
  try { pc.close(); } catch { /* already closed */ }
  nodeDataChannel.cleanup();
  process.exit(ok ? 0 : 1);
}

function opened(dc) {
  if (!channels.includes(dc)) channels.push(dc);
  result.connectMs ??= performance.now() - startedAt;
  cpuAtOpen ??= cpuSeconds();
  say({ type: 'open', label: dc.getLabel(), id: dc.getId(), protocol: dc.getProtocol() });
}

function receive(dc) {
  dc.onMessage((msg) => {
    const bytes = Buffer.isBuffer(msg) ? msg : Buffer.from(msg);
    firstByteAt ??= now();
    result.lastByteAt = now();
    hash.update(bytes);
    result.bytesReceived += bytes.length;
    result.messagesReceived += 1;
    result.transferMs = result.lastByteAt - firstByteAt;
    if (expectBytes !== null && result.bytesReceived >= expectBytes) finish(true, null, true);
  });
  dc.onClosed(() => { if (expectBytes === null) finish(true); });
}

function send(dc, data) {
  let sent = 0;
  dc.setBufferedAmountLowThreshold(kLowThreshold);
  const pump = () => {
    while (sent < data.length && dc.bufferedAmount() < kHighWater) {
      const n = Math.min(chunk, data.length - sent);
      result.firstSendAt ??= now();
      dc.sendMessageBinary(data.subarray(sent, sent + n));
      sent += n;
    }
    result.bytesSent = sent;
  };
  dc.onBufferedAmountLow(pump);
  pump();
}

pc.onLocalDescription((sdp, type) => say({ type: type.toLowerCase(), sdp }));
// libdatachannel writes candidates as SDP attribute lines ("a=candidate:...").
pc.onLocalCandidate((candidate, mid) => say({
  type: 'candidate', candidate: candidate.replace(/^a=/, ''), sdpMid: mid, sdpMLineIndex: 0,
}));
pc.onStateChange((state) => {
  say({ type: 'state', connectionState: state });
  if (state === 'failed') finish(false, 'connection failed');
});

if (offerer) {
  const dc = pc.createDataChannel('data');
  channels.push(dc);
  dc.onOpen(() => {
    opened(dc);
    if (sendData) send(dc, sendData);
    else receive(dc);
  });
  startedAt = performance.now();
  pc.setLocalDescription('offer');
} else {
  pc.onDataChannel((dc) => {
    opened(dc);
    receive(dc);
  });
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let m;
  try { m = JSON.parse(line); } catch { console.error(`malformed line: ${line}`); return; }
  try {
    if (m.type === 'offer' || m.type === 'answer') {
      startedAt ??= performance.now();
      pc.setRemoteDescription(m.sdp, m.type);
    } else if (m.type === 'candidate' && m.candidate) {
      pc.addRemoteCandidate(m.candidate, m.sdpMid ?? '0');
    } else if (m.type === 'bye') {
      const complete = result.bytesSent === (sendData?.length ?? 0) &&
        (expectBytes === null || result.bytesReceived >= expectBytes);
      finish(complete, complete ? null : 'bye before the end of the transfer');
    }
  } catch (e) {
    console.error(`${m.type}: ${e.message}`);
  }
});

setTimeout(() => finish(false, 'timed out'), timeoutS * 1000).unref();
