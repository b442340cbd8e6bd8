// Media interop between `rtcpp peer` (the peer contract) and headless Chromium:
//   node chromium_media.mjs <rtcpp binary> camera-offer    the page offers its fake camera
//                                                          (getUserMedia); rtcpp answers and
//                                                          records it (--record)
//   node chromium_media.mjs <rtcpp binary> camera-answer   rtcpp offers to receive (--record);
//                                                          the page answers with its camera
//   node chromium_media.mjs <rtcpp binary> rtcpp-sends     rtcpp offers and sends a clip
//                                                          (--video); the page plays it
// A third argument names the codec (vp8, the default, h264, vp9 or av1): the page's
// setCodecPreferences picks it for its camera's offer, rtcpp's for its clip (.ivf, or .h264
// Annex B). Not with camera-answer: Chromium as the answerer sends the first codec of the
// offer it has, whatever its own preferences (and rtcpp's offer puts VP8 first).
// Receiving: the recording decodes in ffmpeg without an error, with as many frames as
// Chromium's framesSent, and rtcpp's transport-cc feedback lets Chromium's bandwidth estimate
// pass 1 Mbit/s within 3 s. Sending: Chromium decodes every frame rtcpp sent (within 5 %), at
// the clip's size, with no packet lost.
// With opus the same runs carry audio: the page's fake microphone (a beep each second)
// recorded by rtcpp as Ogg Opus, as many packets as Chromium sent, decoding in ffmpeg and not
// silent (with camera-answer, rtcpp offering, the page's insertDTMF("1234#", 100, 70) heard
// by rtcpp in order as well); and a 440 Hz tone sent by rtcpp (--audio, Ogg Opus) that Chromium receives whole
// and plays out at the tone's level.
//
// Run it where only loopback exists (see run_chromium.sh).
import { launchChromium, makeWorkDir } from './chromium.mjs';
import http from 'node:http';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import readline from 'node:readline';
import { join } from 'node:path';

const [rtcppPath, mode = 'camera-offer', codec = 'vp8'] = process.argv.slice(2);
const codecName = { vp8: 'VP8', h264: 'H264', vp9: 'VP9', av1: 'AV1', opus: 'opus' }[codec];
const kind = codec === 'opus' ? 'audio' : 'video';
const deadline = setTimeout(() => fail('timed out'), 60000);
if (!codecName) fail(`unknown codec ${codec}`);
if (mode === 'camera-answer' && !['vp8', 'opus'].includes(codec)) fail('camera-answer sends the offer\'s first codec: VP8');

function fail(why) {
  console.error(`chromium media interop (${mode}, ${codec}): FAILED: ${why}`);
  process.exit(1);
}

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>rtcpp media interop</title><video id="v" autoplay muted playsinline></video>' +
    '<audio id="a" autoplay></audio>');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

const work = makeWorkDir('rtcpp-media-');
const recordDir = join(work, 'rec');
const clip = join(work, { h264: 'clip.h264', opus: 'clip.ogg' }[codec] || 'clip.ivf');
const clipSeconds = 2;
const sendSeconds = 4;
if (mode === 'rtcpp-sends' && kind === 'audio') {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i',
    'sine=frequency=440:sample_rate=48000', '-t', String(clipSeconds), '-c:a', 'libopus', '-b:a', '48k',
    '-frame_duration', '20', clip]);
} else if (mode === 'rtcpp-sends') {
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
  'rtcpp-sends': ['peer', '--offer', `--${kind}`, clip, '--duration', String(sendSeconds), '--timeout', '50'],
}[mode];
if (!args) fail(`unknown mode ${mode}`);

const browser = await launchChromium({ media: true });
const page = await browser.newPage();
page.on('console', (m) => console.error(`[page] ${m.text()}`));
await page.goto(url);

// Lines from rtcpp wait in the page until its handler exists (getUserMedia comes first).
await page.evaluate(() => {
  window.pending = [];
  window.fromRtcpp = async (m) => { window.pending.push(m); };
});
const peer = spawn(rtcppPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
// rtcpp's log, passed on; the DTMF tones it heard are logged there (the contract has no event).
const tonesHeard = [];
readline.createInterface({ input: peer.stderr }).on('line', (line) => {
  console.error(line);
  const m = line.match(/DTMF tone (\S+) \(event \d+\) for (\d+) ms/);
  if (m) tonesHeard.push({ tone: m[1], ms: Number(m[2]) });
});
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

const report = await page.evaluate(async ({ mode, sendSeconds, codecName, kind }) => {
  const pc = new RTCPeerConnection();
  // The codec under test first (and only, with its repair format, or DTMF's telephone events
  // for audio) in what the page offers or answers.
  const prefer = (t) => {
    const codecs = RTCRtpReceiver.getCapabilities(kind).codecs.filter((c) =>
      [`${kind}/${codecName}`.toLowerCase(), 'video/rtx', 'audio/telephone-event'].includes(c.mimeType.toLowerCase()));
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
  if (mode !== 'rtcpp-sends') camera = await navigator.mediaDevices.getUserMedia({ [kind]: true });
  const connected = new Promise((resolve) => {
    pc.onconnectionstatechange = () => { if (pc.connectionState === 'connected') resolve(); };
  });
  let remoteTrack = null;
  pc.ontrack = (e) => {
    remoteTrack = e.track;
    const element = document.getElementById(kind === 'video' ? 'v' : 'a');
    element.srcObject = new MediaStream([e.track]);
  };
  const handle = async (m) => {
    if (m.type === 'offer') {
      await pc.setRemoteDescription(m);
      if (mode === 'camera-answer') {
        // rtcpp offered to receive video: the page's camera goes on that transceiver.
        const t = pc.getTransceivers().find((x) => x.receiver.track.kind === kind);
        await t.sender.replaceTrack(camera.getTracks()[0]);
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
    for (const s of stats.values()) if (s.type === 'outbound-rtp' && s.kind === kind) return s;
    return null;
  };
  // Chromium's send-side bandwidth estimate (the selected candidate pair's
  // availableOutgoingBitrate): with transport-cc feedback from rtcpp its probes raise it within
  // a second or two; on receiver reports alone it creeps up from the 300 kbit/s start.
  const estimate = async () => {
    const stats = await pc.getStats();
    for (const s of stats.values()) {
      if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate)
        return s.availableOutgoingBitrate;
    }
    return 0;
  };
  const inbound = async () => {
    const stats = await pc.getStats();
    for (const s of stats.values()) if (s.type === 'inbound-rtp' && s.kind === kind) return s;
    return null;
  };
  if (mode === 'camera-offer') {
    pc.addTrack(camera.getTracks()[0], camera);
    prefer(pc.getTransceivers()[0]);
    await pc.setLocalDescription(await pc.createOffer());
    window.toRtcpp({ type: 'offer', sdp: pc.localDescription.sdp });
  }
  const toneChanges = [];
  if (mode !== 'rtcpp-sends') {
    await connected;
    if (kind === 'audio' && mode === 'camera-answer') {
      // W3C 7.2: "1234#" as RFC 4733 events to rtcpp, while the microphone keeps sending.
      const dtmf = pc.getSenders().find((s) => s.track && s.track.kind === 'audio').dtmf;
      await sleep(300);
      if (!dtmf.canInsertDTMF) errors.push('canInsertDTMF is false with rtcpp');
      dtmf.ontonechange = (e) => toneChanges.push(e.tone);
      dtmf.insertDTMF('1234#', 100, 70);
    }
    await sleep(3000);
    const estimated = await estimate();
    // Stop sending, let the last packets land, then count what was sent.
    const sender = pc.getSenders().find((s) => s.track && s.track.kind === kind);
    await sender.replaceTrack(null);
    await sleep(700);
    const out = await outbound();
    window.toRtcpp({ type: 'bye' });
    if (!out) errors.push('no outbound-rtp stats');
    const answer = pc.currentRemoteDescription ? pc.currentRemoteDescription.sdp : '';
    return { errors, framesSent: out ? (kind === 'audio' ? out.packetsSent : out.framesSent) : 0,
      keyFramesEncoded: out ? out.keyFramesEncoded : 0, pliCount: out ? out.pliCount : 0,
      codec: new RegExp(`${codecName}/(90000|48000)`).test(answer) ? codecName : '?',
      direction: pc.getTransceivers().map((t) => t.currentDirection).join(' '), toneChanges,
      estimateKbps: Math.round(estimated / 1000) };
  }
  // rtcpp sends: wait for its bye, then read what was decoded.
  await byeSeen;
  await sleep(500);
  const inb = await inbound();
  if (!inb) errors.push('no inbound-rtp stats');
  return { errors, framesDecoded: inb ? inb.framesDecoded : 0, framesReceived: inb ? inb.framesReceived : 0,
    packetsReceived: inb ? inb.packetsReceived : 0, totalSamplesReceived: inb ? inb.totalSamplesReceived : 0,
    concealedSamples: inb ? inb.concealedSamples : 0, totalAudioEnergy: inb ? inb.totalAudioEnergy : 0,
    totalSamplesDuration: inb ? inb.totalSamplesDuration : 0,
    packetsLost: inb ? inb.packetsLost : -1, width: inb ? inb.frameWidth : 0, height: inb ? inb.frameHeight : 0,
    keyFramesDecoded: inb ? inb.keyFramesDecoded : 0, track: remoteTrack ? remoteTrack.kind : null,
    direction: pc.getTransceivers().map((t) => t.currentDirection).join(' ') };
}, { mode, sendSeconds, codecName, kind });

await exited;
closing = true;
if (report.errors.length) fail(report.errors.join('; '));
if (!result) fail('rtcpp printed no result');
if (!result.ok) fail(`rtcpp result: ${JSON.stringify(result)}`);

if (mode === 'rtcpp-sends' && kind === 'audio') {
  const sent = sendSeconds * 50;  // 20 ms packets, looped for --duration
  if (report.track !== 'audio') fail('no track event in the page');
  if (report.packetsReceived < sent * 0.95) fail(`Chromium received ${report.packetsReceived} of ${sent} packets`);
  if (report.packetsLost !== 0) fail(`${report.packetsLost} packets lost on loopback`);
  // Played out: samples came out of the decoder, and with the tone's energy. Chromium's audio
  // level follows the peak sample, and ffmpeg's sine peaks at 1/8: about 0.0156 of energy per
  // second of audio, less the silence concealed before the first packet and after the last.
  const level = report.totalSamplesDuration > 0 ? report.totalAudioEnergy / report.totalSamplesDuration : 0;
  if (report.totalSamplesReceived < sent * 960 * 0.5) fail(`only ${report.totalSamplesReceived} samples played out`);
  if (level < 0.004) fail(`played out at mean square ${level.toFixed(5)}: not the tone`);
  console.log(`chromium media interop (${mode}, opus): ok, Chromium received ${report.packetsReceived} of ${sent} ` +
    `packets, ${report.packetsLost} lost, played ${report.totalSamplesReceived} samples ` +
    `(${report.concealedSamples} concealed) at mean square ${level.toFixed(5)}, transceiver ${report.direction}`);
} else if (mode === 'rtcpp-sends') {
  const sent = sendSeconds * 30;  // the 30 fps clip, looped for --duration
  if (report.track !== 'video') fail('no track event in the page');
  if (report.framesDecoded < sent * 0.95) fail(`Chromium decoded ${report.framesDecoded} of ${sent} frames`);
  if (report.width !== 320 || report.height !== 240) fail(`frame size ${report.width}x${report.height}`);
  if (report.packetsLost !== 0) fail(`${report.packetsLost} packets lost on loopback`);
  console.log(`chromium media interop (${mode}): ok, Chromium decoded ${report.framesDecoded} of ${sent} ` +
    `${codecName} frames (${report.keyFramesDecoded} key) at ${report.width}x${report.height}, ${report.packetsLost} lost, ` +
    `transceiver ${report.direction}`);
} else if (kind === 'audio') {
  const track = (result.tracks || []).find((t) => t.kind === 'audio');
  if (!track) fail(`rtcpp recorded no audio track: ${JSON.stringify(result)}`);
  if (!events.some((e) => e.kind === 'audio' && e.codec === codecName)) {
    fail(`no ${codecName} track event from rtcpp: ${JSON.stringify(events)}`);
  }
  // With DTMF some of Chromium's packets are telephone events, not audio frames.
  const dtmf = mode === 'camera-answer';
  if (dtmf ? track.frames > report.framesSent || track.frames < report.framesSent * 0.8
    : track.frames !== report.framesSent) {
    fail(`rtcpp received ${track.frames} audio packets, Chromium sent ${report.framesSent}`);
  }
  const file = join(recordDir, `${track.mid}.ogg`);
  const packets = Number(execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-select_streams', 'a:0',
    '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]).toString().trim());
  const decode = spawnSync('ffmpeg', ['-hide_banner', '-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
  if (decode.status !== 0 || String(decode.stderr).trim()) {
    fail(`ffmpeg could not decode the recording: ${String(decode.stderr)}`);
  }
  const volume = spawnSync('ffmpeg', ['-hide_banner', '-i', file, '-af', 'volumedetect', '-f', 'null', '-']);
  const max = String(volume.stderr).match(/max_volume: (-?[0-9.]+) dB/);
  if (packets !== track.frames) fail(`ffprobe read ${packets} packets of ${track.frames} recorded`);
  // Chromium's fake microphone beeps once a second: the recording must carry the beeps.
  if (!max || Number(max[1]) < -20) fail(`the recording is silent (max volume ${max ? max[1] : '?'} dB)`);
  // The page's DTMF: every tone played (tonechange) and heard by rtcpp, in order. libwebrtc
  // sends events in its 20 ms audio steps and ends each one step late: 120 ms for 100.
  const heard = tonesHeard.map((t) => t.tone).join('');
  if (dtmf) {
    if (report.toneChanges.join('') !== '1234#') fail(`the page played ${JSON.stringify(report.toneChanges)}`);
    if (heard !== '1234#') fail(`rtcpp heard DTMF "${heard}", the page sent "1234#"`);
    if (tonesHeard.some((t) => t.ms < 100 || t.ms > 140)) fail(`tone durations ${JSON.stringify(tonesHeard)}`);
  }
  console.log(`chromium media interop (${mode}, opus): ok, Chromium sent ${report.framesSent} packets, rtcpp ` +
    `recorded ${track.frames} (${track.bytes} bytes) as Ogg Opus that ffmpeg decodes (${packets} packets, ` +
    `max volume ${max[1]} dB)${dtmf ? `, heard the page's DTMF "${heard}" (${tonesHeard.map((t) => t.ms).join('/')} ms)` : ''}, ` +
    `transceivers ${report.direction}`);
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
  // rtcpp's transport-cc feedback drives Chromium's estimator: 3.0-3.8 Mbit/s after 3 s with
  // each codec, where without it (receiver reports only) the estimate stayed at 325-352
  // kbit/s. The sanitizer build too, since arrivals are the kernel's receive times: stamped
  // when read, a slow or busy reader's delay looked like queueing on the path (368-721 kbit/s
  // there, and about 410 kbit/s with Chromium's H.264, whose encoder kept the CPU busy).
  if (report.estimateKbps < 1000) {
    fail(`Chromium's send-side estimate is ${report.estimateKbps} kbit/s after 3 s`);
  }
  console.log(`chromium media interop (${mode}): ok, Chromium sent ${report.framesSent} ${codecName} frames ` +
    `(${report.keyFramesEncoded} key, ${report.pliCount} PLI), rtcpp recorded ${track.frames} ` +
    `(${track.bytes} bytes) as a ${width}x${height} file that ffmpeg decodes (${decoded} frames), transceivers ${report.direction}, ` +
    `Chromium's estimate after 3 s ${report.estimateKbps} kbit/s`);
}
clearTimeout(deadline);
await browser.close();
server.close();
