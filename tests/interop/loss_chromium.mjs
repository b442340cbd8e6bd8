// One cell of the loss matrix with headless Chromium (run_loss.sh sets up the namespace and
// the nftables loss): SIZE bytes in 64 KiB messages over one reliable ordered channel, then
// the receiver's SHA-256 compared with the file's. Prints one JSON line:
//   {"cell":..., "ok":bool, "bytes":N, "ms":transfer time, "mbps":MB/s, "error":...}
//
//   node loss_chromium.mjs <rtcpp> rtcpp-to-chromium SIZE TIMEOUT_S   rtcpp offers and sends
//   node loss_chromium.mjs <rtcpp> chromium-to-rtcpp SIZE TIMEOUT_S   the page offers and sends
//   node loss_chromium.mjs <rtcpp> chromium-to-chromium SIZE TIMEOUT_S two connections in one page
//
// The transfer time runs from the channel's open to the last byte received, as `rtcpp peer`
// counts it. A cell that does not finish in TIMEOUT_S prints ok false with what arrived.
import { launchChromium, makeWorkDir } from './chromium.mjs';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';

const [rtcppPath, cell, sizeText, timeoutText] = process.argv.slice(2);
const size = Number(sizeText);
const timeoutMs = Number(timeoutText) * 1000;
if (!['rtcpp-to-chromium', 'chromium-to-rtcpp', 'chromium-to-chromium'].includes(cell) || !(size > 0) ||
    !(timeoutMs > 0)) {
  console.error('usage: loss_chromium.mjs <rtcpp> rtcpp-to-chromium|chromium-to-rtcpp|chromium-to-chromium SIZE TIMEOUT_S');
  process.exit(2);
}
const work = makeWorkDir('rtcpp-loss-');
let browser = null;
let peer = null;

function finish(report) {
  console.log(JSON.stringify({ cell, size, ...report }));
  if (peer && peer.exitCode === null) peer.kill('SIGTERM');
  const exit = () => process.exit(0);
  if (browser) browser.close().then(exit, exit); else exit();
}
// rtcpp's last event line other than signaling, for the report of a cell that timed out.
let rtcppLastEvent = null;
const deadline = setTimeout(async () => {
  let got = 0;
  let states = [];
  try {
    got = await page.evaluate(() => window.received || 0);
    states = await page.evaluate(() => (window.pcs || []).map((p) => `${p.connectionState}/${p.iceConnectionState}`));
  } catch { /* page gone */ }
  const where = `received ${got} B, page ${states.join(' ') || '-'}, rtcpp's last event ${rtcppLastEvent || '-'}`;
  finish({ ok: false, bytes: got, ms: null, mbps: null, error: `timed out after ${timeoutText} s (${where})` });
}, timeoutMs + 15000);

browser = await launchChromium();
const page = await browser.newPage();
page.on('console', (m) => console.error(`[page] ${m.text()}`));
// The page comes from playwright itself (no server socket), so that run_loss.sh can drop every
// TCP packet (ICE-TCP would otherwise carry the connection past the UDP loss); playwright
// talks to Chromium over a pipe. A loopback origin is a secure context (crypto.subtle).
const pageUrl = 'http://127.0.0.1/rtcpp-loss';
await page.route(pageUrl, (route) => route.fulfill({
  status: 200, contentType: 'text/html', body: '<!doctype html><title>rtcpp loss</title>',
}));
await page.goto(pageUrl);

// What rtcpp sends (the page makes its own data when it sends).
const bytes = cell === 'rtcpp-to-chromium' ? randomBytes(size) : null;
const sha = bytes ? createHash('sha256').update(bytes).digest('hex') : null;

// Page helpers: a receiver that hashes what arrives, and a sender with flow control.
await page.evaluate(() => {
  window.received = 0;
  window.receiveAll = (channel, total) => new Promise((resolve) => {
    channel.binaryType = 'arraybuffer';
    const parts = [];
    let start = null;
    channel.onopen = () => { start = performance.now(); };
    channel.onmessage = async (ev) => {
      if (start === null) start = performance.now();
      parts.push(new Uint8Array(ev.data));
      window.received += ev.data.byteLength;
      if (window.received < total) return;
      const ms = performance.now() - start;
      const all = new Uint8Array(window.received);
      let at = 0;
      for (const p of parts) { all.set(p, at); at += p.length; }
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
      resolve({ ms, sha: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('') });
    };
  });
  // Random bytes made here (page arguments are copied as JSON), with their SHA-256.
  window.makeData = async (total) => {
    const data = new Uint8Array(total);
    for (let at = 0; at < total; at += 65536) crypto.getRandomValues(data.subarray(at, Math.min(at + 65536, total)));
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    return { data, sha: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('') };
  };
  // Resolves once every byte was handed to send().
  window.sendAll = (channel, data) => new Promise((resolve) => {
    const chunk = 65536;
    let at = 0;
    channel.bufferedAmountLowThreshold = 1 << 20;
    const pump = () => {
      while (at < data.length && channel.bufferedAmount < (4 << 20)) {
        channel.send(data.subarray(at, Math.min(at + chunk, data.length)));
        at += chunk;
      }
      if (at >= data.length) resolve();
    };
    channel.onbufferedamountlow = pump;
    pump();
  });
});

if (cell === 'chromium-to-chromium') {
  const out = await page.evaluate(async ({ total }) => {
    const made = await window.makeData(total);
    const a = new RTCPeerConnection();
    const b = new RTCPeerConnection();
    window.pcs = [a, b];
    // No trickling: each description goes over whole once its candidates are gathered.
    const gathered = (pc) => new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(); };
    });
    const channel = a.createDataChannel('loss');
    channel.binaryType = 'arraybuffer';
    const done = new Promise((resolve) => {
      b.ondatachannel = (e) => resolve(window.receiveAll(e.channel, total));
    });
    channel.onopen = () => window.sendAll(channel, made.data);
    await a.setLocalDescription();
    await gathered(a);
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription();
    await gathered(b);
    await a.setRemoteDescription(b.localDescription);
    const got = await done;
    return { ms: got.ms, same: got.sha === made.sha };
  }, { total: size });
  clearTimeout(deadline);
  const ok = out.same;
  finish({ ok, bytes: size, ms: out.ms, mbps: size / out.ms / 1000, error: ok ? null : 'SHA-256 differs' });
} else {
  const file = join(work, 'payload.bin');
  const received = join(work, 'received.bin');
  const rtcppSends = cell === 'rtcpp-to-chromium';
  if (rtcppSends) writeFileSync(file, bytes);
  const args = rtcppSends
    ? ['peer', '--offer', '--send', file, '--timeout', String(timeoutText)]
    : ['peer', '--recv', received, '--timeout', String(timeoutText)];
  peer = spawn(rtcppPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  peer.stdin.on('error', () => {});
  let result = null;
  const exited = new Promise((resolve) => peer.on('exit', resolve));
  await page.exposeFunction('toRtcpp', (msg) => peer.stdin.write(JSON.stringify(msg) + '\n'));
  readline.createInterface({ input: peer.stdout }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.type === 'result') { result = msg; return; }
    if (!['offer', 'answer', 'candidate'].includes(msg.type)) rtcppLastEvent = line;
    if (['offer', 'answer', 'candidate', 'bye'].includes(msg.type))
      page.evaluate((m) => window.fromRtcpp(m), msg).catch(() => {});
  });
  const pageDone = page.evaluate(async ({ rtcppSends, total }) => {
    const made = rtcppSends ? null : await window.makeData(total);
    const pc = new RTCPeerConnection();
    window.pcs = [pc];
    pc.onicecandidate = (e) => window.toRtcpp(e.candidate
      ? { type: 'candidate', candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex }
      : { type: 'candidate', candidate: '' });
    window.fromRtcpp = async (m) => {
      if (m.type === 'offer') {
        await pc.setRemoteDescription(m);
        await pc.setLocalDescription();
        window.toRtcpp({ type: 'answer', sdp: pc.localDescription.sdp });
      } else if (m.type === 'answer') {
        await pc.setRemoteDescription(m);
      } else if (m.type === 'candidate') {
        await pc.addIceCandidate(m.candidate ? m : null);
      }
    };
    if (rtcppSends) {
      return new Promise((resolve) => {
        pc.ondatachannel = (e) => resolve(window.receiveAll(e.channel, total));
      });
    }
    const channel = pc.createDataChannel('loss');
    channel.onopen = async () => {
      await window.sendAll(channel, made.data);
      // Closed once everything is with SCTP (the reset follows the data, RFC 8831 6.7);
      // rtcpp ends when the channel closes.
      const waitDrained = () => {
        if (channel.bufferedAmount === 0) channel.close(); else setTimeout(waitDrained, 20);
      };
      waitDrained();
    };
    pc.setLocalDescription().then(() => window.toRtcpp({ type: 'offer', sdp: pc.localDescription.sdp }));
    return made.sha;
  }, { rtcppSends, total: size });
  if (rtcppSends) {
    const out = await pageDone;
    await exited;
    clearTimeout(deadline);
    const ok = out.sha === sha && result !== null && result.ok;
    finish({ ok, bytes: size, ms: out.ms, mbps: size / out.ms / 1000,
      error: ok ? null : (out.sha !== sha ? 'SHA-256 differs' : `rtcpp result: ${JSON.stringify(result)}`) });
  } else {
    const pageSha = await pageDone;
    await exited;
    clearTimeout(deadline);
    let got = Buffer.alloc(0);
    try { got = readFileSync(received); } catch { /* nothing arrived */ }
    const same = createHash('sha256').update(got).digest('hex') === pageSha;
    const ok = same && result !== null && result.ok;
    finish({ ok, bytes: got.length, ms: result ? result.transferMs : null,
      mbps: result ? got.length / result.transferMs / 1000 : null,
      error: ok ? null : (result ? result.error || 'data differs' : 'rtcpp printed no result') });
  }
}
