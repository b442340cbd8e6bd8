// Interop with a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) and `rtcpp peer` exchange signaling through this script and talk WebRTC
// directly over loopback UDP.
//
//   node chromium_echo.mjs <rtcpp binary> browser-offers   Chromium offers and sends; rtcpp echoes; Chromium
//                                                          closes the channel and rtcpp closes it back
//   node chromium_echo.mjs <rtcpp binary> rtcpp-offers     rtcpp offers and sends a file; Chromium echoes,
//                                                          then sees rtcpp close the channel
//   node chromium_echo.mjs <rtcpp binary> matrix           Chromium opens 16 channels (one unordered)
//                                                          and a negotiated one; rtcpp echoes on all
//   node chromium_echo.mjs <rtcpp binary> bulk             rtcpp sends 16 MiB and closes; Chromium checks
//                                                          SHA-256 and sees the close
//   node chromium_echo.mjs <rtcpp binary> media-offer      as browser-offers, with an audio and a video
//                                                          transceiver before the channel: rtcpp receives
//                                                          on both (recvonly), the channel echoes, and a
//                                                          second offer (an ICE restart) keeps them in place
//   node chromium_echo.mjs <rtcpp binary> text             rtcpp sends UTF-8 text (--text) in 5-byte
//                                                          chunks; Chromium echoes each message as
//                                                          the string it decoded
//
// Exits 0 when every message came back intact. Run it where only loopback exists (see
// run_chromium.sh) so that both sides gather 127.0.0.1 candidates only.
import { launchChromium, makeWorkDir } from './chromium.mjs';
import http from 'node:http';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';

const [rtcppPath, mode = 'browser-offers'] = process.argv.slice(2);
const deadline = setTimeout(() => fail('timed out'), 60000);

function fail(why) {
  console.error(`chromium interop (${mode}): FAILED: ${why}`);
  process.exit(1);
}

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>rtcpp interop</title>');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await launchChromium();
const page = await browser.newPage();
page.on('console', (m) => console.error(`[page] ${m.text()}`));
await page.goto(url);

const work = makeWorkDir('rtcpp-interop-');
const file = join(work, 'payload.bin');
const fileBytes = randomBytes(2 * 1024 * 1024 + 123);
writeFileSync(file, fileBytes);

const bulkBytes = randomBytes(16 * 1024 * 1024);
if (mode === 'bulk') writeFileSync(file, bulkBytes);
const bulkSha = createHash('sha256').update(bulkBytes).digest('hex');
// Characters of one to four bytes: 5-byte chunks would cut most of them.
const textBytes = Buffer.from('a\u00e9\u2713\u{1F680} \u65e5\u672c\u8a9e\u00df\n'.repeat(4000), 'utf8');
if (mode === 'text') writeFileSync(file, textBytes);
const args = {
  'rtcpp-offers': ['peer', '--offer', '--send', file, '--expect-echo', '--chunk', '16384', '--timeout', '50'],
  'bulk': ['peer', '--offer', '--send', file, '--timeout', '50'],
  'text': ['peer', '--offer', '--send', file, '--text', '--chunk', '5', '--expect-echo', '--timeout', '50'],
  'matrix': ['peer', '--echo', '--negotiated', '100', '--timeout', '50'],
  'browser-offers': ['peer', '--echo', '--timeout', '50'],
  'media-offer': ['peer', '--echo', '--timeout', '50'],
}[mode];
if (!args) fail(`unknown mode ${mode}`);
const peer = spawn(rtcppPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
// rtcpp may finish (its channels closed) before the last signaling line reaches it.
peer.stdin.on('error', () => {});
let result = null;
// Set once the outcome is known: lines still in flight may then find the page gone.
let closing = false;
await page.exposeFunction('toRtcpp', (msg) => peer.stdin.write(JSON.stringify(msg) + '\n'));
readline.createInterface({ input: peer.stdout }).on('line', async (line) => {
  const msg = JSON.parse(line);
  if (process.env.RTCPP_INTEROP_DEBUG) console.error('rtcpp:', line);
  if (msg.type === 'result') { result = msg; return; }
  if (['offer', 'answer', 'candidate', 'bye'].includes(msg.type)) {
    await page.evaluate((m) => window.fromRtcpp(m), msg).catch((e) => {
      if (!closing) fail(`page: ${e}`);
    });
  }
});
const exited = new Promise((resolve) => peer.on('exit', resolve));
// The channel's close reaches the page shortly after rtcpp sees it closed and exits.
async function waitForClose() {
  for (let i = 0; i < 50; ++i) {
    if (await page.evaluate(() => window.report.closed || 0)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

await page.evaluate(({ mode, bulkSha }) => {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  window.report = { errors: [] };
  pc.onicecandidate = (e) => window.toRtcpp(e.candidate
    ? { type: 'candidate', candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex }
    : { type: 'candidate', candidate: '' });
  window.fromRtcpp = async (m) => {
    if (m.type === 'offer') {
      await pc.setRemoteDescription(m);
      await pc.setLocalDescription(await pc.createAnswer());
      window.toRtcpp({ type: 'answer', sdp: pc.localDescription.sdp });
    } else if (m.type === 'answer') {
      await pc.setRemoteDescription(m);
      if (window.onAnswer) window.onAnswer();
    } else if (m.type === 'candidate') {
      await pc.addIceCandidate(m.candidate ? m : null);
    } else if (m.type === 'bye') {
      window.report.bye = true;
    }
  };
  if (mode === 'bulk') {
    // Receive the whole file, then compare its SHA-256 with the sender's.
    const parts = [];
    let total = 0;
    window.done = new Promise((resolve) => {
      pc.ondatachannel = (e) => {
        e.channel.binaryType = 'arraybuffer';
        e.channel.onmessage = (ev) => { parts.push(new Uint8Array(ev.data)); total += ev.data.byteLength; };
        e.channel.onclose = () => { window.report.closed = (window.report.closed || 0) + 1; };
      };
      const previous = window.fromRtcpp;
      window.fromRtcpp = async (m) => {
        await previous(m);
        if (m.type !== 'bye') return;
        const all = new Uint8Array(total);
        let at = 0;
        for (const p of parts) { all.set(p, at); at += p.length; }
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
        const hex = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
        if (hex !== bulkSha) window.report.errors.push(`bulk SHA-256 differs (${total} bytes)`);
        window.report.messages = parts.length;
        window.report.bytes = total;
        resolve();
      };
    });
    return;
  }
  if (mode === 'matrix') {
    // 16 channels (ch-1 unordered) and the negotiated id 100; 20 messages each, echoed.
    const channels = [];
    for (let i = 0; i < 16; ++i) channels.push(pc.createDataChannel(`ch-${i}`, { ordered: i !== 1 }));
    channels.push(pc.createDataChannel('negotiated', { negotiated: true, id: 100 }));
    const started = performance.now();
    window.done = Promise.all(channels.map((dc, index) => new Promise((resolve) => {
      dc.binaryType = 'arraybuffer';
      const expected = [];
      for (let k = 0; k < 20; ++k) expected.push(`${dc.label}:${k}:` + 'z'.repeat((k * 997) % 5000));
      const got = [];
      dc.onopen = () => { for (const m of expected) dc.send(m); };
      dc.onmessage = (ev) => {
        got.push(ev.data);
        if (got.length < expected.length) return;
        const a = dc.ordered ? got : [...got].sort();
        const b = dc.ordered ? expected : [...expected].sort();
        if (a.some((v, j) => v !== b[j])) window.report.errors.push(`channel ${dc.label} (${index}) echo differs`);
        resolve();
      };
    }))).then(() => {
      window.report.openMs = performance.now() - started;
      window.report.messages = channels.length * 20;
      window.toRtcpp({ type: 'bye' });
    });
    pc.createOffer().then((o) => pc.setLocalDescription(o)).then(() => window.toRtcpp({ type: 'offer', sdp: pc.localDescription.sdp }));
    return;
  }
  if (mode === 'rtcpp-offers' || mode === 'text') {
    // Echo everything back on the channel it came in on, as the same type.
    pc.ondatachannel = (e) => {
      const dc = e.channel;
      dc.binaryType = 'arraybuffer';
      dc.onmessage = (ev) => dc.send(ev.data);
      // rtcpp closes the channel (a stream reset) once everything came back.
      dc.onclose = () => { window.report.closed = (window.report.closed || 0) + 1; };
    };
    return;
  }
  const started = performance.now();
  if (mode === 'media-offer') {
    pc.addTransceiver('audio');
    pc.addTransceiver('video');
  }
  const dc = pc.createDataChannel('data');
  dc.binaryType = 'arraybuffer';
  const sent = [];
  const text = ['a', 'héllo wörld ✓ 日本語 🚀', 'x'.repeat(1000)];
  for (const size of [1, 100, 1200, 1201, 16384, 65536, 262144]) {
    const b = new Uint8Array(size);
    for (let i = 0; i < size; ++i) b[i] = (i * 7 + size) & 0xff;
    sent.push(b);
  }
  const expected = [...text, ...sent];
  const got = [];
  window.done = new Promise((resolve) => {
    dc.onopen = () => {
      window.report.openMs = performance.now() - started;
      for (const m of expected) dc.send(m);
    };
    dc.onmessage = (ev) => {
      got.push(ev.data);
      if (got.length === expected.length) resolve();
    };
  }).then(() => {
    for (let i = 0; i < expected.length; ++i) {
      const e = expected[i];
      const g = got[i];
      if (typeof e === 'string') {
        if (g !== e) window.report.errors.push(`text ${i} differs`);
      } else {
        const gb = new Uint8Array(g);
        if (gb.length !== e.length || gb.some((v, j) => v !== e[j])) window.report.errors.push(`binary ${i} (${e.length} B) differs`);
      }
    }
    window.report.messages = got.length;
  }).then(async () => {
    if (mode !== 'media-offer') return;
    // rtcpp answered the audio and video sections receiving (it has nothing to send): the
    // page's transceivers stay, sending only (W3C 4.4.1.6 currentDirection).
    const ports = [...pc.remoteDescription.sdp.matchAll(/\r\nm=(\w+) (\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
    const directions = pc.getTransceivers().map((t) => t.currentDirection);
    window.report.transceivers = `answer ${ports.join(' ')}, transceivers ${directions.join(' ')}`;
    if (ports.length !== 3 || ports.some((p) => p.endsWith(':0'))) {
      window.report.errors.push(`answer sections ${ports}`);
    }
    if (directions.length !== 2 || directions.some((d) => d !== 'sendonly')) {
      window.report.errors.push(`transceiver directions ${directions}`);
    }
    // A second offer from the page keeps the sections in their places; rtcpp must
    // accept it and answer all three again, and the channel goes on.
    const answered = new Promise((resolve) => { window.onAnswer = resolve; });
    pc.restartIce();
    await pc.setLocalDescription(await pc.createOffer());
    window.report.sections = pc.localDescription.sdp.split('\r\nm=').length - 1;
    window.toRtcpp({ type: 'offer', sdp: pc.localDescription.sdp });
    await answered;
    if (pc.signalingState !== 'stable') window.report.errors.push('the second offer was not answered');
    const echoed = new Promise((resolve) => { dc.onmessage = (ev) => resolve(ev.data); });
    dc.send('after the second offer');
    if (await echoed !== 'after the second offer') window.report.errors.push('no echo after the second offer');
  }).then(() => {
    // Chromium closes the channel: it is closed once rtcpp has reset its side in turn.
    return new Promise((resolve) => {
      const timer = setTimeout(() => { window.report.errors.push('rtcpp did not close the channel back'); resolve(); }, 5000);
      dc.onclose = () => { clearTimeout(timer); window.report.closedByBrowser = true; resolve(); };
      dc.close();
    });
  }).then(() => window.toRtcpp({ type: 'bye' }));
  pc.createOffer().then((o) => pc.setLocalDescription(o)).then(() => window.toRtcpp({ type: 'offer', sdp: pc.localDescription.sdp }));
}, { mode, bulkSha });

if (mode === 'bulk') {
  await page.evaluate(() => window.done);
  const report = await page.evaluate(() => window.report);
  await exited;
  const closed = await waitForClose();
  closing = true;
  if (report.errors.length) fail(report.errors.join('; '));
  if (!result || !result.ok) fail(`rtcpp result: ${JSON.stringify(result)}`);
  if (!closed) fail('the channel rtcpp closed never closed in Chromium');
  console.log(`chromium interop (bulk): ok, ${report.bytes} bytes rtcpp -> Chromium in ${report.messages} ` +
    `messages, SHA-256 equal, ${(report.bytes / result.transferMs / 1000).toFixed(1)} MB/s, channel closed`);
} else if (mode === 'matrix') {
  await page.evaluate(() => window.done);
  const report = await page.evaluate(() => window.report);
  await exited;
  closing = true;
  if (report.errors.length) fail(report.errors.join('; '));
  if (!result || !result.ok) fail(`rtcpp result: ${JSON.stringify(result)}`);
  console.log(`chromium interop (matrix): ok, 17 channels (16 in-band incl. one unordered, 1 negotiated), ` +
    `${report.messages} messages echoed`);
} else if (mode === 'rtcpp-offers' || mode === 'text') {
  await exited;
  const closed = await waitForClose();
  closing = true;
  if (!result) fail('rtcpp printed no result');
  if (!result.ok) fail(`rtcpp result: ${JSON.stringify(result)}`);
  if (!closed) fail('the channel rtcpp closed never closed in Chromium');
  const want = createHash('sha256').update(mode === 'text' ? textBytes : fileBytes).digest('hex');
  if (result.sha256 !== want) fail('echoed data differs');
  console.log(`chromium interop (${mode}): ok, ${result.bytesReceived} bytes echoed by Chromium, ` +
    `channel open ${result.connectMs.toFixed(1)} ms after the offer, transfer ${result.transferMs.toFixed(1)} ms, ` +
    'closed by rtcpp, close seen by Chromium');
} else {
  await page.evaluate(() => window.done);
  const report = await page.evaluate(() => window.report);
  await exited;
  closing = true;
  if (report.errors.length) fail(report.errors.join('; '));
  if (!result || !result.ok) fail(`rtcpp result: ${JSON.stringify(result)}`);
  console.log(`chromium interop (${mode}): ok, ${report.messages} messages echoed by rtcpp, ` +
    `channel open ${report.openMs.toFixed(1)} ms after createDataChannel, closed by Chromium and rtcpp` +
    (mode === 'media-offer' ? `; ${report.transceivers}, second offer with ` +
      `${report.sections} m= sections answered, channel still echoing` : ''));
}
closing = true;
clearTimeout(deadline);
await browser.close();
server.close();
process.exit(0);
