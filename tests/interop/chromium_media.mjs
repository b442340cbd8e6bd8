// Media interop between `rtcpp peer` (the peer contract) and headless Chromium:
//   node chromium_media.mjs <rtcpp binary> camera-offer    the page offers its fake camera
//                                                          (getUserMedia); rtcpp answers and
//                                                          records it (--record)
//   node chromium_media.mjs <rtcpp binary> camera-answer   rtcpp offers to receive (--record);
//                                                          the page answers with its camera
//   node chromium_media.mjs <rtcpp binary> rtcpp-sends     rtcpp offers and sends a clip
//                                                          (--video); the page plays it
// A third argument names the video codec (vp8, the default, h264, vp9 or av1): the page's
// setCodecPreferences picks it for its camera's offer, rtcpp's for its clip (.ivf, or .h264
// Annex B). Not with camera-answer: Chromium as the answerer sends the first codec of the
// offer it has, whatever its own preferences (and rtcpp's offer puts VP8 first).
// Receiving: the recording decodes in ffmpeg without an error, with as many frames as
// Chromium's framesSent. Sending: Chromium decodes every frame rtcpp sent (within 5 %), at
// the clip's size, with no packet lost.
//
// Run it where only loopback exists (see run_chromium.sh).
import { chromium } from 'playwright-core';
import http from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import readline from 'node:readline';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [rtcppPath, mode = 'camera-offer', codec = 'vp8'] = process.argv.slice(2);
const codecName = { vp8: 'VP8', h264: 'H264', vp9: 'VP9', av1: 'AV1' }[codec];
const deadline = setTimeout(() => fail('timed out'), 60000);
if (!codecName) fail(`unknown codec ${codec}`);
if (mode === 'camera-answer' && codec !== 'vp8') fail('camera-answer sends the offer\'s first codec: VP8');

function fail(why) {
  console.error(`chromium media interop (${mode}, ${codec}): FAILED: ${why}`);
  process.exit(1);
}

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>rtcpp media interop</title><video id="v" autoplay muted playsinline></video>');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

const work = mkdtempSync(join(tmpdir(), 'rtcpp-media-'));
const recordDir = join(work, 'rec');
const clip = join(work, codec === 'h264' ? 'clip.h264' : 'clip.ivf');
const clipSeconds = 2;
const sendSeconds = 4;
if (mode === 'rtcpp-sends') {
  const encoder = {
    vp8: ['-c:v', 'libvpx', '-deadline', 'realtime'],
    vp9: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8'],
    av1: ['-c:v', 'libaom-av1', '-cpu-used', '8', '-usage', 'realtime'],
    h264: ['-c:v', 'libx264', '-profile:v', 'baseline', '-tune', 'zerolatency', '-bsf:v',
      'h264_mp4toannexb', '-f', 'h264'],
  }[codec];
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i',
    'testsrc=size=320x240:rate=30', '-t', String(clipSeconds), '-pix_fmt', 'yuv420p', '-g', '30',
    '-b:v', '400k', ...encoder, clip]);
}
const args = {
  'camera-offer': ['peer', '--record', recordDir, '--timeout', '50'],
  'camera-answer': ['peer', '--offer', '--record', recordDir, '--timeout', '50'],
  'rtcpp-sends': ['peer', '--offer', '--video', clip, '--duration', String(sendSeconds), '--timeout', '50'],
}[mode];
if (!args) fail(`unknown mode ${mode}`);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection',
    '--disable-features=WebRtcHideLocalIpsWithMdns', '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required'],
});
const page = await browser.newPage();
page.on('console', (m) => console.error(`[page] ${m.text()}`));
await page.goto(url);

// Lines from rtcpp wait in the page until its handler exists (getUserMedia comes first).
await page.evaluate(() => {
  window.pending = [];
  window.fromRtcpp = async (m) => { window.pending.push(m); };
});
const peer = spawn(rtcppPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
peer.stdin.on('error', () => {});
let result = null;
const events = [];
let closing = false;
await page.exposeFunction('toRtcpp', (msg) => peer.stdin.write(JSON.stringify(msg) + '\n'));
readline.createInterface({ input: peer.stdout }).on('line', async (line) => {
  const msg = JSON.parse(line);
  if (process.env.RTCPP_INTEROP_DEBUG) console.error('rtcpp:', line.slice(0, 300));
  if (msg.type === 'result') { result = msg; return; }
  if (msg.type === 'track') events.push(msg);
  if (['offer', 'answer', 'candidate', 'bye'].includes(msg.type)) {
    await page.evaluate((m) => window.fromRtcpp(m), msg).catch((e) => {
      if (!closing) fail(`page: ${e}`);
    });
  }
});
const exited = new Promise((resolve) => peer.on('exit', resolve));

const report = await page.evaluate(async ({ mode, sendSeconds, codecName }) => {
  const pc = new RTCPeerConnection();
  // The codec under test first (and only, with its repair format) in what the page offers
  // or answers.
  const prefer = (t) => {
    const codecs = RTCRtpReceiver.getCapabilities('video').codecs.filter((c) =>
      [`video/${codecName}`.toLowerCase(), 'video/rtx'].includes(c.mimeType.toLowerCase()));
    t.setCodecPreferences(codecs);
  };
  const errors = [];
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  pc.onicecandidate = (e) => window.toRtcpp(e.candidate
    ? { type: 'candidate', candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex }
    : { type: 'candidate', candidate: '' });
  let bye;
  const byeSeen = new Promise((resolve) => { bye = resolve; });
  let camera = null;
  if (mode !== 'rtcpp-sends') camera = await navigator.mediaDevices.getUserMedia({ video: true });
  const connected = new Promise((resolve) => {
    pc.onconnectionstatechange = () => { if (pc.connectionState === 'connected') resolve(); };
  });
  let remoteTrack = null;
  pc.ontrack = (e) => {
    remoteTrack = e.track;
    const v = document.getElementById('v');
    v.srcObject = new MediaStream([e.track]);
  };
  const handle = async (m) => {
    if (m.type === 'offer') {
      await pc.setRemoteDescription(m);
      if (mode === 'camera-answer') {
        // rtcpp offered to receive video: the page's camera goes on that transceiver.
        const t = pc.getTransceivers().find((x) => x.receiver.track.kind === 'video');
        await t.sender.replaceTrack(camera.getVideoTracks()[0]);
        t.direction = 'sendonly';
      }
      await pc.setLocalDescription(await pc.createAnswer());
      window.toRtcpp({ type: 'answer', sdp: pc.localDescription.sdp });
    } else if (m.type === 'answer') {
      await pc.setRemoteDescription(m);
    } else if (m.type === 'candidate') {
      await pc.addIceCandidate(m.candidate ? m : null);
    } else if (m.type === 'bye') {
      bye();
    }
  };
  // In order: what arrived while the page was getting ready, then each new line.
  let chain = Promise.resolve();
  window.fromRtcpp = (m) => (chain = chain.then(() => handle(m)));
  for (const m of window.pending.splice(0)) window.fromRtcpp(m);
  const outbound = async () => {
    const stats = await pc.getStats();
    for (const s of stats.values()) if (s.type === 'outbound-rtp' && s.kind === 'video') return s;
    return null;
  };
  const inbound = async () => {
    const stats = await pc.getStats();
    for (const s of stats.values()) if (s.type === 'inbound-rtp' && s.kind === 'video') return s;
    return null;
  };
  if (mode === 'camera-offer') {
    pc.addTrack(camera.getVideoTracks()[0], camera);
    prefer(pc.getTransceivers()[0]);
    await pc.setLocalDescription(await pc.createOffer());
    window.toRtcpp({ type: 'offer', sdp: pc.localDescription.sdp });
  }
  if (mode !== 'rtcpp-sends') {
    await connected;
    await sleep(3000);
    // Stop sending, let the last packets land, then count what was sent.
    const sender = pc.getSenders().find((s) => s.track && s.track.kind === 'video');
    await sender.replaceTrack(null);
    await sleep(700);
    const out = await outbound();
    window.toRtcpp({ type: 'bye' });
    if (!out) errors.push('no outbound-rtp stats');
    const answer = pc.currentRemoteDescription ? pc.currentRemoteDescription.sdp : '';
    return { errors, framesSent: out ? out.framesSent : 0, keyFramesEncoded: out ? out.keyFramesEncoded : 0,
      pliCount: out ? out.pliCount : 0, codec: new RegExp(`${codecName}/90000`).test(answer) ? codecName : '?',
      direction: pc.getTransceivers().map((t) => t.currentDirection).join(' ') };
  }
  // rtcpp sends: wait for its bye, then read what was decoded.
  await byeSeen;
  await sleep(500);
  const inb = await inbound();
  if (!inb) errors.push('no inbound-rtp stats');
  return { errors, framesDecoded: inb ? inb.framesDecoded : 0, framesReceived: inb ? inb.framesReceived : 0,
    packetsLost: inb ? inb.packetsLost : -1, width: inb ? inb.frameWidth : 0, height: inb ? inb.frameHeight : 0,
    keyFramesDecoded: inb ? inb.keyFramesDecoded : 0, track: remoteTrack ? remoteTrack.kind : null,
    direction: pc.getTransceivers().map((t) => t.currentDirection).join(' ') };
}, { mode, sendSeconds, codecName });

await exited;
closing = true;
if (report.errors.length) fail(report.errors.join('; '));
if (!result) fail('rtcpp printed no result');
if (!result.ok) fail(`rtcpp result: ${JSON.stringify(result)}`);

if (mode === 'rtcpp-sends') {
  const sent = sendSeconds * 30;  // the 30 fps clip, looped for --duration
  if (report.track !== 'video') fail('no track event in the page');
  if (report.framesDecoded < sent * 0.95) fail(`Chromium decoded ${report.framesDecoded} of ${sent} frames`);
  if (report.width !== 320 || report.height !== 240) fail(`frame size ${report.width}x${report.height}`);
  if (report.packetsLost !== 0) fail(`${report.packetsLost} packets lost on loopback`);
  console.log(`chromium media interop (${mode}): ok, Chromium decoded ${report.framesDecoded} of ${sent} ` +
    `${codecName} frames (${report.keyFramesDecoded} key) at ${report.width}x${report.height}, ${report.packetsLost} lost, ` +
    `transceiver ${report.direction}`);
} else {
  const track = (result.tracks || []).find((t) => t.kind === 'video');
  if (!track) fail(`rtcpp recorded no video track: ${JSON.stringify(result)}`);
  if (!events.some((e) => e.kind === 'video' && e.codec === codecName)) {
    fail(`no ${codecName} track event from rtcpp: ${JSON.stringify(events)}`);
  }
  if (track.frames !== report.framesSent) fail(`rtcpp received ${track.frames} frames, Chromium sent ${report.framesSent}`);
  const file = join(recordDir, `${track.mid}.${codec === 'h264' ? 'h264' : 'ivf'}`);
  const probe = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries',
    'stream=nb_read_frames,width,height', '-of', 'csv=p=0', file]).toString().trim();
  const [width, height, decoded] = probe.split(',').map(Number);
  let decodeErrors = '';
  try {
    execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-xerror', '-i', file, '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    decodeErrors = String(e.stderr || e);
  }
  if (decodeErrors) fail(`ffmpeg could not decode the recording: ${decodeErrors}`);
  if (decoded !== track.frames) fail(`ffprobe read ${decoded} frames of ${track.frames} recorded`);
  console.log(`chromium media interop (${mode}): ok, Chromium sent ${report.framesSent} ${codecName} frames ` +
    `(${report.keyFramesEncoded} key, ${report.pliCount} PLI), rtcpp recorded ${track.frames} ` +
    `(${track.bytes} bytes) as a ${width}x${height} file that ffmpeg decodes (${decoded} frames), transceivers ${report.direction}`);
}
clearTimeout(deadline);
await browser.close();
server.close();
