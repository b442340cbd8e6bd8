// The public API (api_peer) against headless Chromium:
//   node api_chromium.mjs <api_peer binary> renegotiation
//     Renegotiation mid-call, both ends sending video (rtcpp a VP8 clip, the page its fake
//     camera):
//     1. rtcpp adds a track and offers; the page answers sendrecv with its camera;
//     2. rtcpp adds a second track and offers; the page answers it sendrecv too;
//     3. rtcpp turns the first to recvonly and offers;
//     4. the page turns the second to recvonly and offers; rtcpp answers;
//     5. rtcpp stops the second transceiver and offers;
//     6. rtcpp turns the first to inactive and offers.
//     After each step both ends must show the same (mirrored) currentDirection for every
//     section, and media must flow exactly where the directions say: frames keep arriving
//     where a side receives (rtcpp counts whole frames, Chromium decodes them), and stop where
//     it does not.
//   node api_chromium.mjs <api_peer binary> sources
//     Audio both ways (rtcpp an Opus clip whose frames carry an audio level and two CSRCs with
//     levels, the page its fake microphone): the page's getSynchronizationSources() and
//     getContributingSources() show rtcpp's SSRC and CSRCs with their levels, and rtcpp's
//     get_synchronization_sources() shows Chromium's SSRC with an audio level, each with a
//     timestamp under a second old.
// Run it where only loopback exists (see run_chromium.sh).
import { launchChromium, makeWorkDir } from './chromium.mjs';
import http from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import readline from 'node:readline';
import { join } from 'node:path';

const [peerPath, mode = 'renegotiation'] = process.argv.slice(2);
const deadline = setTimeout(() => fail('timed out'), 150000);

function fail(why) {
  console.error(`chromium api (${mode}): FAILED: ${why}`);
  process.exit(1);
}

// A VP8 clip for rtcpp to send: 2 s at 30 fps, a key frame each second.
// A 440 Hz tone for its audio: 2 s of Opus in 20 ms packets.
const work = makeWorkDir('rtcpp-api-');
const clip = join(work, 'clip.ivf');
const tone = join(work, 'tone.ogg');
execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i',
  'testsrc=size=320x240:rate=30', '-t', '2', '-c:v', 'libvpx', '-b:v', '500k', '-g', '30',
  '-deadline', 'realtime', '-cpu-used', '8', clip]);
execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i',
  'sine=frequency=440:sample_rate=48000', '-t', '2', '-c:a', 'libopus', '-b:a', '48k',
  '-frame_duration', '20', tone]);

const peer = spawn(peerPath, [clip, tone], { stdio: ['pipe', 'pipe', 'inherit'] });
peer.on('exit', (code, signal) => { if (!finished) fail(`renegotiation_peer exited (${code ?? signal})`); });
const replies = [];
const waiters = [];
readline.createInterface({ input: peer.stdout }).on('line', (line) => {
  const reply = JSON.parse(line);
  if (waiters.length) waiters.shift()(reply); else replies.push(reply);
});
let finished = false;
async function rtcpp(command) {
  peer.stdin.write(JSON.stringify(command) + '\n');
  const reply = replies.length ? replies.shift() : await new Promise((resolve) => waiters.push(resolve));
  if (reply.error) fail(`rtcpp ${command.op}: ${reply.error}`);
  return reply;
}

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>rtcpp API interop</title><audio id="a" autoplay></audio>');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const browser = await launchChromium({ media: true });
const page = await browser.newPage();
page.on('console', (m) => console.error(`[page] ${m.text()}`));
await page.goto(`http://127.0.0.1:${server.address().port}/`);

await page.evaluate(async () => {
  const devices = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
  const pc = new RTCPeerConnection();
  window.pc = pc;
  window.camera = devices.getVideoTracks()[0];
  window.mic = devices.getAudioTracks()[0];
  // Received audio is played, so that Chromium pulls it through its jitter buffer.
  pc.ontrack = (e) => { if (e.track.kind === 'audio') document.getElementById('a').srcObject = new MediaStream([e.track]); };
  window.byMid = {};  // every transceiver seen, stopped ones included
  const gathered = () => new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
  });
  const remember = () => { for (const t of pc.getTransceivers()) if (t.mid) window.byMid[t.mid] = t; };
  // An offer from rtcpp: every new section sends the camera back (sendrecv).
  window.acceptOffer = async (sdp) => {
    await pc.setRemoteDescription({ type: 'offer', sdp });
    for (const t of pc.getTransceivers()) {
      if (t.currentDirection === 'stopped' || t.direction === 'stopped') continue;
      if (!t.sender.track && t.currentDirection === null) {
        await t.sender.replaceTrack((t.receiver.track.kind === 'audio' ? window.mic : window.camera).clone());
        t.direction = 'sendrecv';
      }
    }
    await pc.setLocalDescription();
    await gathered();
    remember();
    return pc.localDescription.sdp;
  };
  window.offerWith = async (mid, direction) => {
    window.byMid[mid].direction = direction;
    await pc.setLocalDescription();
    await gathered();
    return pc.localDescription.sdp;
  };
  window.applyAnswer = async (sdp) => {
    await pc.setRemoteDescription({ type: 'answer', sdp });
    remember();
  };
  window.state = async () => {
    const out = {};
    for (const [mid, t] of Object.entries(window.byMid)) {
      let decoded = 0;
      try {
        for (const s of (await t.receiver.getStats()).values()) {
          if (s.type === 'inbound-rtp') decoded = s.kind === 'audio' ? s.packetsReceived : s.framesDecoded ?? 0;
        }
      } catch (e) { /* a stopped receiver may have no stats */ }
      out[mid] = { direction: t.direction, current: t.currentDirection, decoded };
    }
    return { transceivers: out, count: pc.getTransceivers().length, connection: pc.connectionState };
  };
  window.sources = (mid) => {
    const receiver = window.byMid[mid].receiver;
    const plain = (list) => list.map((s) => ({ source: s.source, timestamp: s.timestamp, audioLevel: s.audioLevel, rtpTimestamp: s.rtpTimestamp }));
    return {
      synchronization: plain(receiver.getSynchronizationSources()),
      contributing: plain(receiver.getContributingSources()),
      now: performance.timeOrigin + performance.now(),
      // What the page's answer accepted of rtcpp's header extensions.
      extensions: pc.currentLocalDescription.sdp.split('\r\n').filter((l) => l.startsWith('a=extmap')),
    };
  };
});

// RFC 3264 6.1: what one end sends the other receives.
const mirror = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive', stopped: 'stopped' };
const sends = (d) => d === 'sendrecv' || d === 'sendonly';
const receives = (d) => d === 'sendrecv' || d === 'recvonly';

async function snapshot() {
  const ours = await rtcpp({ op: 'state' });
  const theirs = await page.evaluate(() => window.state());
  const byMid = {};
  for (const t of ours.transceivers) byMid[t.mid] = { rtcpp: t };
  for (const [mid, t] of Object.entries(theirs.transceivers)) (byMid[mid] ??= {}).page = t;
  return { byMid, ours, theirs };
}

// Checks the directions of each section on both ends, then that media flows (or not) for
// two seconds after a second of settling, as they say (audio counted in packets).
async function check(step, expected) {
  const before = await snapshot();
  for (const [mid, direction] of Object.entries(expected)) {
    const s = before.byMid[mid];
    if (!s?.rtcpp || !s?.page) fail(`${step}: section ${mid} missing on one end`);
    if (s.rtcpp.current !== direction)
      fail(`${step}: rtcpp's currentDirection of ${mid} is ${s.rtcpp.current}, expected ${direction}`);
    if (s.page.current !== mirror[direction])
      fail(`${step}: Chromium's currentDirection of ${mid} is ${s.page.current}, expected ${mirror[direction]}`);
  }
  await new Promise((r) => setTimeout(r, 1000));
  const start = await snapshot();
  await new Promise((r) => setTimeout(r, 2000));
  const end = await snapshot();
  const report = [];
  for (const [mid, direction] of Object.entries(expected)) {
    const rtcppGot = end.byMid[mid].rtcpp.received - start.byMid[mid].rtcpp.received;
    const pageGot = end.byMid[mid].page.decoded - start.byMid[mid].page.decoded;
    report.push(`${mid}: ${direction}, rtcpp received ${rtcppGot}, Chromium decoded ${pageGot}`);
    // 2 s is 40 frames of the fake camera (20 fps) and 60 of the clip (30 fps): at least 20
    // where media flows (the sanitizer build is slow), none where it does not.
    const flowing = direction !== 'stopped';
    if (flowing && receives(direction) && rtcppGot < 20) fail(`${step}: rtcpp received ${rtcppGot} frames on ${mid} (${direction})`);
    if (!(flowing && receives(direction)) && rtcppGot !== 0) fail(`${step}: rtcpp received ${rtcppGot} frames on ${mid} (${direction})`);
    if (flowing && sends(direction) && pageGot < 20) fail(`${step}: Chromium decoded ${pageGot} frames on ${mid} (rtcpp ${direction})`);
    if (!(flowing && sends(direction)) && pageGot !== 0) fail(`${step}: Chromium decoded ${pageGot} frames on ${mid} (rtcpp ${direction})`);
  }
  if (end.ours.connection !== 'connected' || end.theirs.connection !== 'connected')
    fail(`${step}: connection ${end.ours.connection} / ${end.theirs.connection}`);
  console.log(`${step}: ${report.join('; ')}`);
  return end;
}

async function rtcppOffers() {
  const offer = await rtcpp({ op: 'offer' });
  const answer = await page.evaluate((sdp) => window.acceptOffer(sdp), offer.sdp);
  await rtcpp({ op: 'answer', sdp: answer });
}

async function renegotiation() {
  await rtcpp({ op: 'add_track', stream: 'first' });
  await rtcppOffers();
  await check('1. one track each way', { 0: 'sendrecv' });

  await rtcpp({ op: 'add_track', stream: 'second' });
  await rtcppOffers();
  const mids = Object.keys((await snapshot()).byMid).filter((m) => m !== '0');
  if (mids.length !== 1) fail(`step 2 made sections ${JSON.stringify(mids)}`);
  const second = mids[0];
  await check('2. a second track added', { 0: 'sendrecv', [second]: 'sendrecv' });

  await rtcpp({ op: 'set_direction', mid: '0', direction: 'recvonly' });
  await rtcppOffers();
  await check('3. rtcpp makes the first recvonly', { 0: 'recvonly', [second]: 'sendrecv' });

  const pageOffer = await page.evaluate((mid) => window.offerWith(mid, 'recvonly'), second);
  const ourAnswer = await rtcpp({ op: 'accept_offer', sdp: pageOffer });
  await page.evaluate((sdp) => window.applyAnswer(sdp), ourAnswer.sdp);
  await check('4. Chromium offers the second as recvonly', { 0: 'recvonly', [second]: 'sendonly' });

  await rtcpp({ op: 'stop', mid: second });
  await rtcppOffers();
  const stopped = await check('5. rtcpp stops the second', { 0: 'recvonly', [second]: 'stopped' });
  if (stopped.ours.transceiverCount !== 1 || stopped.theirs.count !== 1)
    fail(`5: transceivers left: rtcpp ${stopped.ours.transceiverCount}, Chromium ${stopped.theirs.count}`);

  await rtcpp({ op: 'set_direction', mid: '0', direction: 'inactive' });
  await rtcppOffers();
  await check('6. rtcpp makes the first inactive', { 0: 'inactive' });
}

// The W3C 5.4.4 level of a packet: RFC 6464 / 6465 whole dB below the overload point.
const near = (level, expected) => level !== undefined && level !== null && Math.abs(level - expected) < 0.02;

async function sources() {
  const csrcs = [4660, 22136];
  await rtcpp({ op: 'add_track', kind: 'audio', level: 0.5, csrcs, levels: [0.25, 1.0] });
  await rtcppOffers();
  await check('audio both ways', { 0: 'sendrecv' });
  const seen = await page.evaluate(() => window.sources('0'));
  const ours = await rtcpp({ op: 'sources', mid: '0' });
  console.log(`Chromium's sources: ${JSON.stringify({ synchronization: seen.synchronization, contributing: seen.contributing })}`);
  console.log(`rtcpp's sources: ${JSON.stringify({ synchronization: ours.synchronization, contributing: ours.contributing })}`);
  if (seen.synchronization.length !== 1) fail(`Chromium lists ${seen.synchronization.length} synchronization sources`);
  const ssrc = seen.synchronization[0];
  if (!near(ssrc.audioLevel, 0.5)) fail(`Chromium reads rtcpp's audio level as ${ssrc.audioLevel}, sent 0.5`);
  if (seen.now - ssrc.timestamp > 1000) fail(`Chromium's SSRC timestamp is ${seen.now - ssrc.timestamp} ms old`);
  for (const [i, csrc] of csrcs.entries()) {
    const found = seen.contributing.find((c) => c.source === csrc);
    if (!found) fail(`Chromium does not list CSRC ${csrc}`);
    if (seen.now - found.timestamp > 1000) fail(`Chromium's CSRC ${csrc} timestamp is ${seen.now - found.timestamp} ms old`);
    const sent = [0.25, 1.0][i];
    const negotiated = seen.extensions.some((l) => l.includes('csrc-audio-level'));
    if (negotiated && !near(found.audioLevel, sent)) fail(`Chromium reads CSRC ${csrc}'s level as ${found.audioLevel}, sent ${sent}`);
    // Chromium does not take RFC 6465 (its answer leaves csrc-audio-level out) and gives each
    // CSRC the packet's own level instead.
    if (!negotiated && !near(found.audioLevel, 0.5)) fail(`Chromium reads CSRC ${csrc}'s level as ${found.audioLevel}, without RFC 6465 the packet's 0.5`);
    if (!negotiated && i === 0) console.log('Chromium did not accept csrc-audio-level: its CSRCs carry the packet\'s level');
  }
  if (ours.synchronization.length !== 1) fail(`rtcpp lists ${ours.synchronization.length} synchronization sources`);
  const theirs = ours.synchronization[0];
  if (theirs.audioLevel === null || theirs.audioLevel === undefined) fail('rtcpp has no audio level for Chromium\'s microphone');
  if (ours.now - theirs.timestamp > 1000) fail(`rtcpp's SSRC timestamp is ${ours.now - theirs.timestamp} ms old`);
}

if (mode === 'renegotiation') await renegotiation();
else if (mode === 'sources') await sources();
else fail(`unknown mode ${mode}`);

finished = true;
clearTimeout(deadline);
peer.stdin.end();
await browser.close();
server.close();
console.log(`chromium api (${mode}): OK`);
process.exit(0);
