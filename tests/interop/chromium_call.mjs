// A call between `rtcpp peer` and headless Chromium with real encoding and decoding on both
// ends (issue: codecs, sources and sinks):
//   node chromium_call.mjs <rtcpp> receive-offer  [codec] [seconds]
//        the page offers its fake camera and microphone, playing files of rtcpp's test
//        pattern (640x480, each picture stamped with its frame number) and a 440 Hz tone;
//        rtcpp answers, decodes and records them (--record: <mid>.y4m, <mid>.wav)
//   node chromium_call.mjs <rtcpp> receive-answer [codec] [seconds]   the same, rtcpp offering
//   node chromium_call.mjs <rtcpp> send           [codec] [seconds]
//        rtcpp offers and sends its own test pattern and tone (--video testsrc --audio
//        testsrc, encoded with the codec); the page reads the frame number and capture time
//        painted in each picture it renders
//   node chromium_call.mjs <rtcpp> send-limited   [codec] [seconds]
//        the same through a path that carries RTCPP_RATE_LIMIT_KBIT (run_chromium.sh shapes
//        loopback with tc tbf to it): rtcpp's bandwidth estimate, from Chromium's transport-cc
//        feedback, must bring its encoder and pacer under the limit, so that the page decodes
//        nearly every frame without a standing queue (checks below)
// codec: vp8 (default), vp9, h264 or av1, with Opus for audio. Checks, receiving: rtcpp
// decodes at least 98 % of the frames Chromium sent, in order, with an average PSNR against
// the source picture of at least 30 dB and a minimum of 22 dB (1 Mbit/s), and the tone it
// decodes is at 440 Hz within 1 %. Sending: the page renders at 25 fps or more, frame
// numbers in order, with end-to-end latency (capture time painted in the picture to the
// page's rendering) at p95 under 200 ms, and plays the tone.
// AV1 from Chromium is received and decoded (Chromium encodes it with libaom when asked); its
// pictures are counted decoded rather than by their stamps (see below).
//
// Run it where only loopback exists (see run_chromium.sh).
import { launchChromium, makeWorkDir } from './chromium.mjs';
import http from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import readline from 'node:readline';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const [rtcppPath, mode = 'receive-offer', codec = 'vp8', secondsArg = '8'] = process.argv.slice(2);
const codecName = { vp8: 'VP8', h264: 'H264', vp9: 'VP9', av1: 'AV1' }[codec];
const seconds = Number(secondsArg);
const deadline = setTimeout(() => fail('timed out'), (seconds + 50) * 1000);
if (!codecName) fail(`unknown codec ${codec}`);
if (!['receive-offer', 'receive-answer', 'send', 'send-limited'].includes(mode)) fail(`unknown mode ${mode}`);
const limited = mode === 'send-limited';
const sending = mode === 'send' || limited;

function fail(why) {
  console.error(`chromium call (${mode}, ${codec}): FAILED: ${why}`);
  process.exit(1);
}

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>rtcpp call</title><video id="v" autoplay muted playsinline width="640" height="480"></video>' +
    '<audio id="a" autoplay></audio><canvas id="c" width="640" height="480"></canvas>');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

const work = makeWorkDir('rtcpp-call-');
const recordDir = join(work, 'rec');
const run = (args) => JSON.parse(execFileSync(rtcppPath, args, { encoding: 'utf8' }).trim().split('\n').pop());
let extra = [];
if (!sending) {
  // The fake devices play rtcpp's own test media: 10 s of pattern (Chromium loops it) and a tone.
  const y4m = join(work, 'pattern.y4m');
  const wav = join(work, 'tone.wav');
  run(['testsrc', '--out', y4m, '--frames', '300', '--fps', '30']);
  run(['testsrc', '--out', wav, '--seconds', '5', '--frequency', '440', '--sample-rate', '48000']);
  extra = [`--use-file-for-fake-video-capture=${y4m}`, `--use-file-for-fake-audio-capture=${wav}`];
}
const args = {
  'receive-offer': ['peer', '--record', recordDir, '--timeout', String(seconds + 40)],
  'receive-answer': ['peer', '--offer', '--record', recordDir, '--timeout', String(seconds + 40)],
  send: ['peer', '--offer', '--video', 'testsrc', '--audio', 'testsrc', '--video-codec', codecName,
    '--duration', String(seconds), '--timeout', String(seconds + 40)],
}[sending ? 'send' : mode];

const browser = await launchChromium({ media: true, extra });
const page = await browser.newPage();
page.on('console', (m) => console.error(`[page] ${m.text()}`));
await page.goto(url);
await page.evaluate(() => {
  window.pending = [];
  window.fromRtcpp = async (m) => { window.pending.push(m); };
});
const peer = spawn(rtcppPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
readline.createInterface({ input: peer.stderr }).on('line', (line) => console.error(line));
peer.stdin.on('error', () => {});
let result = null;
let closing = false;
await page.exposeFunction('toRtcpp', (msg) => peer.stdin.write(JSON.stringify(msg) + '\n'));
readline.createInterface({ input: peer.stdout }).on('line', async (line) => {
  const msg = JSON.parse(line);
  if (process.env.RTCPP_INTEROP_DEBUG) console.error('rtcpp:', line.slice(0, 300));
  if (msg.type === 'result') { result = msg; return; }
  if (['offer', 'answer', 'candidate', 'bye'].includes(msg.type)) {
    await page.evaluate((m) => window.fromRtcpp(m), msg).catch((e) => {
      if (!closing) fail(`page: ${e}`);
    });
  }
});
const exited = new Promise((resolve) => peer.on('exit', resolve));

const report = await page.evaluate(async ({ mode, seconds, codecName }) => {
  const pc = new RTCPeerConnection();
  const errors = [];
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const prefer = (t) => {
    const kind = t.receiver.track.kind;
    const wanted = kind === 'video' ? [`video/${codecName}`.toLowerCase(), 'video/rtx'] : ['audio/opus'];
    t.setCodecPreferences(RTCRtpReceiver.getCapabilities(kind).codecs.filter((c) =>
      wanted.includes(c.mimeType.toLowerCase()) &&
      (c.mimeType.toLowerCase() !== 'video/h264' || /packetization-mode=1/.test(c.sdpFmtpLine || '') &&
        /profile-level-id=42e0/.test(c.sdpFmtpLine || ''))));
  };
  pc.onicecandidate = (e) => window.toRtcpp(e.candidate
    ? { type: 'candidate', candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex }
    : { type: 'candidate', candidate: '' });
  let bye;
  const byeSeen = new Promise((resolve) => { bye = resolve; });
  const connected = new Promise((resolve) => {
    pc.onconnectionstatechange = () => { if (pc.connectionState === 'connected') resolve(); };
  });
  // What the page renders of rtcpp's pattern: the frame number and capture time of each
  // picture, read from the stamp band as rtcpp's reader does (3 rows of 32 blocks).
  const seen = [];
  const readStamp = (video, ctx) => {
    const w = video.videoWidth; const h = video.videoHeight;
    if (!w || !h) return null;
    ctx.canvas.width = w; ctx.canvas.height = h;
    ctx.drawImage(video, 0, 0, w, h);
    const bw = Math.floor(w / 32); const bh = Math.max(8, Math.floor(h / 30));
    const pixels = ctx.getImageData(0, 0, w, 3 * bh).data;
    const words = [0, 0, 0];
    for (let row = 0; row < 3; ++row) {
      for (let bit = 0; bit < 32; ++bit) {
        let sum = 0; let count = 0;
        for (let y = row * bh + (bh >> 2); y < row * bh + bh - (bh >> 2); ++y) {
          for (let x = bit * bw + (bw >> 2); x < bit * bw + bw - (bw >> 2); ++x) {
            const i = (y * w + x) * 4;
            sum += (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3; ++count;
          }
        }
        words[row] = ((words[row] << 1) | (sum / count > 127 ? 1 : 0)) >>> 0;
      }
    }
    const t = words[1];
    const check = (words[0] ^ (((t << 13) | (t >>> 19)) >>> 0) ^ 0xA5C35A3C) >>> 0;
    return check === words[2] ? { frame: words[0], time: words[1] } : null;
  };
  pc.ontrack = (e) => {
    if (e.track.kind === 'audio') {
      document.getElementById('a').srcObject = new MediaStream([e.track]);
      return;
    }
    const video = document.getElementById('v');
    video.srcObject = new MediaStream([e.track]);
    const ctx = document.getElementById('c').getContext('2d', { willReadFrequently: true });
    const onFrame = () => {
      const stamp = readStamp(video, ctx);
      if (stamp) seen.push({ ...stamp, latency: ((Date.now() % 4294967296) - stamp.time + 4294967296) % 4294967296 });
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  const handle = async (m) => {
    if (m.type === 'offer') {
      await pc.setRemoteDescription(m);
      if (mode === 'receive-answer') {
        const media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
        for (const track of media.getTracks()) {
          const t = pc.getTransceivers().find((x) => x.receiver.track.kind === track.kind);
          await t.sender.replaceTrack(track);
          t.direction = 'sendonly';
        }
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
  let chain = Promise.resolve();
  window.fromRtcpp = (m) => (chain = chain.then(() => handle(m)));
  for (const m of window.pending.splice(0)) window.fromRtcpp(m);
  const stats = async (type, kind) => {
    for (const s of (await pc.getStats()).values()) if (s.type === type && s.kind === kind) return s;
    return null;
  };
  if (mode === 'receive-offer') {
    const media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
    for (const track of media.getTracks()) prefer(pc.addTransceiver(track, { direction: 'sendonly', streams: [media] }));
    await pc.setLocalDescription(await pc.createOffer());
    window.toRtcpp({ type: 'offer', sdp: pc.localDescription.sdp });
  }
  if (mode !== 'send') {
    await connected;
    // 1 Mbit/s for the picture, as the quality bar is set at.
    const videoSender = pc.getSenders().find((s) => s.track && s.track.kind === 'video');
    const parameters = videoSender.getParameters();
    parameters.encodings[0].maxBitrate = 1000000;
    await videoSender.setParameters(parameters);
    await sleep(seconds * 1000);
    for (const s of pc.getSenders()) if (s.track) await s.replaceTrack(null);
    await sleep(700);
    const video = await stats('outbound-rtp', 'video');
    const audio = await stats('outbound-rtp', 'audio');
    window.toRtcpp({ type: 'bye' });
    const codecStats = video ? (await pc.getStats()).get(video.codecId) : null;
    return { errors, framesSent: video ? video.framesSent : 0, audioPacketsSent: audio ? audio.packetsSent : 0,
      codec: codecStats ? codecStats.mimeType : '?', width: video ? video.frameWidth : 0,
      encoder: video ? video.encoderImplementation : '?' };
  }
  await byeSeen;
  await sleep(500);
  const video = await stats('inbound-rtp', 'video');
  const audio = await stats('inbound-rtp', 'audio');
  return { errors, seen, framesDecoded: video ? video.framesDecoded : 0,
    framesReceived: video ? video.framesReceived : 0, width: video ? video.frameWidth : 0,
    audioEnergy: audio ? audio.totalAudioEnergy : 0, audioDuration: audio ? audio.totalSamplesDuration : 0,
    codec: video ? ((await pc.getStats()).get(video.codecId) || {}).mimeType : '?' };
}, { mode: sending ? 'send' : mode, seconds, codecName });

await exited;
closing = true;
clearTimeout(deadline);
await browser.close();
server.close();
if (!result) fail('no result line from rtcpp');
if (report.errors.length) fail(report.errors.join('; '));
if (!result.ok) fail(`rtcpp: ${result.error}`);

if (sending) {
  const seen = report.seen;
  if (seen.length < 2) fail(`the page read ${seen.length} stamped pictures`);
  const first = seen[0].frame; const last = seen[seen.length - 1].frame;
  let backwards = 0;
  for (let i = 1; i < seen.length; ++i) if (seen[i].frame < seen[i - 1].frame) ++backwards;
  const span = (last - first) / 30;  // the pattern's frame numbers count at 30 fps
  const fps = (seen.length - 1) / span;
  const latencies = seen.map((s) => s.latency).sort((a, b) => a - b);
  const p95 = latencies[Math.floor(0.95 * (latencies.length - 1))];
  const p50 = latencies[Math.floor(0.5 * (latencies.length - 1))];
  const meanEnergy = report.audioDuration > 0 ? report.audioEnergy / report.audioDuration : 0;
  console.log(`chromium call (${mode}, ${codec}): the page rendered ${seen.length} stamped pictures ` +
    `(frames ${first}..${last}, ${fps.toFixed(1)} fps, ${backwards} backwards), latency p50 ${p50} ms ` +
    `p95 ${p95} ms; ${report.codec}, decoded ${report.framesDecoded}; audio energy ${meanEnergy.toFixed(4)}/s`);
  if (backwards > 0) fail(`${backwards} pictures out of order`);
  if (limited) {
    // Under the limit: nearly every frame decoded, no standing queue. (Without the estimate,
    // 1 Mbit/s into 500 kbit/s: 5 fps rendered, latency p95 near 6 s.)
    const sent = seconds * 30;  // the test pattern's frames
    console.log(`chromium call (send-limited, ${codec}): ${process.env.RTCPP_RATE_LIMIT_KBIT} kbit/s; ` +
      `rtcpp sent ${sent} frames, Chromium decoded ${report.framesDecoded}`);
    if (report.framesDecoded < 0.9 * sent) fail(`${report.framesDecoded} of ${sent} frames decoded`);
    if (fps < 15) fail(`${fps.toFixed(1)} fps rendered`);
    if (p95 >= 600) fail(`latency p95 ${p95} ms`);
    if (!(meanEnergy > 0.01)) fail('the tone is not heard');
    process.exit(0);
  }
  if (fps < 25) fail(`${fps.toFixed(1)} fps rendered`);
  if (p95 >= 200) fail(`latency p95 ${p95} ms`);
  if (!(meanEnergy > 0.01)) fail('the tone is not heard');
  process.exit(0);
}

const files = readdirSync(recordDir);
const y4m = files.find((f) => f.endsWith('.y4m'));
const wav = files.find((f) => f.endsWith('.wav'));
if (!y4m || !wav) fail(`recordings: ${files.join(' ')}`);
const video = run(['media-check', join(recordDir, y4m)]);
const audio = run(['media-check', join(recordDir, wav)]);
const videoTrack = result.tracks.find((t) => t.kind === 'video') || {};
console.log(`chromium call (${mode}, ${codec}): Chromium sent ${report.framesSent} ${report.codec} frames ` +
  `(${report.encoder}); rtcpp decoded ${videoTrack.framesDecoded} (${video.stamped} stamped, ` +
  `${video.outOfOrder} out of order, ${video.missing} missing, ${video.repeated} repeated), ` +
  `PSNR average ${Number(video.psnrAverage).toFixed(1)} dB, minimum ${Number(video.psnrMin).toFixed(1)} dB; ` +
  `tone ${Number(audio.frequency).toFixed(2)} Hz over ${Number(audio.seconds).toFixed(1)} s`);
if (report.codec.toLowerCase() !== `video/${codecName}`.toLowerCase()) fail(`negotiated ${report.codec}`);
// AV1: Chromium's real-time libaom leaves a stale block in a picture now and then, where a
// stamp may read wrong (rtcpp's own AV1 encoder runs a slower speed for that reason): the
// pictures decoded count, not the stamps read. Since rtcpp's transport-cc feedback lets
// Chromium send at its full rate, 6-9 of 150 stamps do not read (1-7 before), and one may
// read as another frame's number, which then looks out of order and far from its "source"
// (PSNR 15 dB): for AV1 neither is checked, the decoded count and average PSNR are.
const av1 = codec === 'av1';
const delivered = av1 ? videoTrack.framesDecoded : video.stamped;
if (!(delivered >= 0.98 * report.framesSent)) fail(`rtcpp decoded ${delivered} of ${report.framesSent} frames`);
if (!av1 && video.outOfOrder > 0) fail(`${video.outOfOrder} frames out of order`);
if (!(video.psnrAverage >= 30)) fail(`PSNR average ${video.psnrAverage}`);
if (!av1 && !(video.psnrMin >= 22)) fail(`PSNR minimum ${video.psnrMin}`);
if (!(Math.abs(audio.frequency - 440) <= 4.4)) fail(`tone at ${audio.frequency} Hz`);
process.exit(0);
