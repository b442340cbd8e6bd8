// Interop through the public API: `rtcpp serve` serves a page from 127.0.0.1, headless
// Chromium loads it, and the page's RTCPeerConnection connects to rtcpp's (signaling over the
// page's WebSocket). Checks echo from 1 B to 256 KiB with multi-byte text, unordered and
// partially reliable channels, 16 channels at once, a 64 MiB upload and a 64 MiB download
// checked by SHA-256 (each channel then closed by the page and by rtcpp respectively, both
// sides seeing close), and that rtcpp's getStats reaches the page.
//
//   node serve_chromium.mjs <rtcpp binary> [full|idata|mdns]
//
// Run it where only loopback exists (run_chromium.sh does). The idata mode runs the same with
// Chromium's message interleaving switched on (a field trial; off by default in Chromium 156),
// so that the association runs on I-DATA (RFC 8260), and checks that it did. The mdns mode
// instead runs where
// a non-loopback interface with a default route exists, with Chromium hiding its addresses
// behind mDNS names as it does by default: rtcpp must resolve them (RFC 6762) and the
// selected pair's remote candidate is then a host candidate with Chromium's real address.
import { launchChromium } from './chromium.mjs';
import { spawn } from 'node:child_process';
import readline from 'node:readline';

const [rtcppPath, mode = 'full'] = process.argv.slice(2);
const deadline = setTimeout(() => fail('timed out'), 240000);
let server = null;
let browser = null;

function fail(why) {
  console.error(`chromium serve interop: FAILED: ${why}`);
  if (server) server.kill('SIGKILL');
  process.exit(1);
}

process.on('unhandledRejection', (e) => fail(String(e)));
server = spawn(rtcppPath, ['serve', '--port', '0', '--timeout', '230'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
let interleaving = null;
readline.createInterface({ input: server.stderr }).on('line', (line) => {
  console.error(line);
  const m = line.match(/SCTP message interleaving (on|off)/);
  if (m) interleaving = m[1];
});
server.on('exit', (code) => { if (!done) fail(`rtcpp serve exited early (${code})`); });
let done = false;
const url = await new Promise((resolve) => {
  readline.createInterface({ input: server.stdout }).once('line', (line) => {
    const m = line.match(/(http:\/\/\S+)/);
    if (!m) fail(`unexpected first line: ${line}`);
    resolve(m[1]);
  });
});

browser = await launchChromium({
  mdns: mode === 'mdns',
  extra: mode === 'idata' ? ['--force-fieldtrials=WebRTC-DataChannelMessageInterleaving/Enabled/'] : [],
});
const page = await browser.newPage();
page.on('console', (m) => console.error(`[page] ${m.text()}`));
page.on('pageerror', (e) => fail(`page error: ${e}`));
await page.goto(url);

if (mode === 'mdns') {
  const r = await page.evaluate(async () => {
    const out = {};
    out.connectMs = await rtcpp.connect();
    out.echo = await rtcpp.echo(['over', 'mdns']);
    out.pageCandidates = (rtcpp.pc.localDescription.sdp.match(/a=candidate:.*/g) || []);
    // rtcpp's remote candidates, from its getStats (sent every second): wait for the
    // resolved one (mDNS answers take a few hundred ms) or 5 s.
    const remotes = () => Object.values(rtcpp.stats || {}).filter((s) => s.type === 'remote-candidate');
    for (let i = 0; i < 50 && !remotes().some((c) => c.candidateType === 'host'); ++i)
      await new Promise((resolve) => setTimeout(resolve, 100));
    out.remotes = remotes();
    return out;
  });
  console.error(JSON.stringify(r));
  done = true;
  clearTimeout(deadline);
  await browser.close();
  server.kill('SIGTERM');
  const hidden = r.pageCandidates.some((c) => / [0-9a-f-]+\.local /.test(c));
  if (!hidden) fail('Chromium did not hide its host address behind an mDNS name');
  if (r.echo !== 2) fail('echo');
  // The name resolved: rtcpp knows Chromium's host candidate by its real address (the one
  // interface Chromium gathered, 10.77.0.x), as a host candidate rather than peer-reflexive.
  const resolved = r.remotes.find((c) => c.candidateType === 'host' && /^10\.77\.0\.\d+$/.test(c.address));
  if (!resolved)
    fail(`no remote host candidate with Chromium's resolved address: ${JSON.stringify(r.remotes)}`);
  console.error(`chromium mdns interop: ok (Chromium's .local host candidate resolved to ${resolved.address}; ` +
    `first channel open in ${r.connectMs.toFixed(1)} ms)`);
  process.exit(0);
}

const report = await page.evaluate(async () => {
  const out = {};
  out.connectMs = await rtcpp.connect();
  // Echo: sizes from 1 B to 256 KiB, binary and text (multi-byte UTF-8).
  const sizes = [1, 2, 100, 1000, 1200, 4096, 16384, 65535, 65536, 100000, 262144];
  const binary = sizes.map((n) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; ++i) b[i] = (i * 31 + n) & 0xff;
    return b;
  });
  const text = ['a', 'h\u00e9llo', '\u{1F30D}\u{1F680} \u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9',
    'x'.repeat(65536), '\u00e9'.repeat(100000)];
  out.echoBinary = await rtcpp.echo(binary);
  out.echoText = await rtcpp.echo(text);
  // Unordered, and partially reliable (loopback loses nothing, so everything comes back).
  const small = Array.from({ length: 200 }, (_, i) => `m${i}`);
  out.unordered = await rtcpp.echo(small, { ordered: false }, 'unordered');
  out.maxRetransmits = await rtcpp.echo(small, { ordered: false, maxRetransmits: 0 }, 'rexmit0');
  out.maxLifetime = await rtcpp.echo(small, { maxPacketLifeTime: 500 }, 'lifetime');
  // 16 channels at once.
  const counts = await Promise.all(Array.from({ length: 16 }, (_, i) =>
    rtcpp.echo(Array.from({ length: 20 }, (_, j) => `c${i}-${j}`), {}, `multi-${i}`)));
  out.multi = counts.reduce((a, b) => a + b, 0);
  // ICE restarts offered by each side, with the echo channel in use before and after.
  out.restarts = [];
  for (const byRtcpp of [false, true]) {
    const during = rtcpp.echo(Array.from({ length: 50 }, (_, i) => `r${i}`));
    const restart = await rtcpp.restartIce(byRtcpp);
    restart.echoDuring = await during;
    restart.echoAfter = await rtcpp.echo(['after restart']);
    out.restarts.push(restart);
  }
  // 64 MiB each way, checked by SHA-256.
  const big = new Uint8Array(64 << 20);
  for (let off = 0; off < big.length; off += 65536) crypto.getRandomValues(big.subarray(off, off + 65536));
  out.upload = await rtcpp.upload(big.buffer);
  out.download = await rtcpp.download(64 << 20);
  // rtcpp's getStats arrives over the WebSocket every second.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const stats = rtcpp.stats ? Object.values(rtcpp.stats) : [];
  out.statsTypes = [...new Set(stats.map((s) => s.type))].sort();
  return out;
});

console.error(JSON.stringify(report));
const problems = [];
if (report.echoBinary !== 11) problems.push('binary echo');
if (report.echoText !== 5) problems.push('text echo');
// Partially reliable channels may lose messages when a socket buffer overflows (a busy
// machine): what came back was checked for integrity and order in the page; most must arrive.
if (report.unordered !== 200 || report.maxRetransmits < 100 || report.maxLifetime < 100)
  problems.push('unordered / partially reliable echo');
if (report.multi !== 320) problems.push('16 channels');
if (interleaving !== (mode === 'idata' ? 'on' : 'off'))
  problems.push(`SCTP message interleaving ${interleaving} in mode ${mode}`);
for (const [i, r] of report.restarts.entries()) {
  if (!r.ufragChanged || r.state !== 'connected' || r.echoDuring !== 50 || r.echoAfter !== 1)
    problems.push(`ICE restart ${i === 0 ? 'by the page' : 'by rtcpp'} ${JSON.stringify(r)}`);
}
if (!report.upload.ok) problems.push(`upload ${JSON.stringify(report.upload)}`);
if (!report.download.ok) problems.push(`download ${JSON.stringify(report.download)}`);
for (const type of ['candidate-pair', 'data-channel', 'peer-connection', 'transport']) {
  if (!report.statsTypes.includes(type)) problems.push(`stats without ${type}`);
}
done = true;
clearTimeout(deadline);
await browser.close();
server.kill('SIGTERM');
if (problems.length) fail(problems.join(', '));
console.error(`chromium serve interop (${mode}, SCTP interleaving ${interleaving}): ok (first channel open in ${report.connectMs.toFixed(1)} ms; ` +
  `64 MiB upload ${report.upload.mbps.toFixed(1)} MB/s, download ${report.download.mbps.toFixed(1)} MB/s; ` +
  `ICE restart ${report.restarts.map((r) => r.ms.toFixed(1)).join(' / ')} ms (page / rtcpp))`);
