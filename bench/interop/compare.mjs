// rtcpp <-> rtcpp beside headless Chromium <-> Chromium and libdatachannel <-> libdatachannel,
// measured in the same run on the same machine: time to the first open data channel, a bulk
// transfer in 64 KiB messages with bufferedAmount backpressure, the CPU it takes, and the
// memory of one idle connection. The closing table gives each figure also as a ratio to
// rtcpp's.
//
//   node compare.mjs <rtcpp binary> [--runs N] [--bytes N] [--json FILE]
//
// Run it through run.sh, which puts it in a network namespace whose only interface is
// loopback, so that every candidate on both sides is 127.0.0.1.
//
// Chromium (Debian's /usr/bin/chromium driven by playwright-core): two browser contexts
// with one page each (two renderer processes), signaling relayed through this script.
// rtcpp: two `rtcpp peer` processes (the peer contract), signaling relayed the same way;
// plus `rtcpp demo` (two processes through the public API) for reference.
// libdatachannel (node-datachannel): two libdatachannel-peer.mjs processes, which speak the
// peer contract's lines, relayed the same way.
import { chromium } from 'playwright-core';
import http from 'node:http';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';

const usage = 'usage: node compare.mjs <rtcpp binary> [--runs N] [--bytes N] [--json FILE]';
const argv = process.argv.slice(2);
const rtcppPath = argv[0];
if (!rtcppPath || rtcppPath.startsWith('--')) {
  console.error(usage);
  process.exit(2);
}
const text = (name, fallback) => {
  const i = argv.indexOf(name);
  return i > 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const option = (name, fallback) => Number(text(name, fallback));
const here = dirname(fileURLToPath(import.meta.url));
const ldcPeerPath = join(here, 'libdatachannel-peer.mjs');
const jsonPath = text('--json', null);
const runs = option('--runs', 1);
const totalBytes = option('--bytes', 64 * 1024 * 1024);
const kChunk = 64 * 1024;
const kHighWater = 1024 * 1024;  // as `rtcpp peer`: keep bufferedAmount under about 1 MiB
const kLowThreshold = 512 * 1024;
const kIdleSettleMs = 3000;
const MiB = 1024 * 1024;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (text) => console.error(`[bench] ${text}`);

// ---- memory of process trees, from /proc ----

function children() {
  const byParent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${name}/stat`, 'utf8'); } catch { continue; }
    // pid (comm) state ppid ...; comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!byParent.has(ppid)) byParent.set(ppid, []);
    byParent.get(ppid).push(Number(name));
  }
  return byParent;
}

function descendants(pid) {
  const byParent = children();
  const out = [];
  const stack = [...(byParent.get(pid) || [])];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    stack.push(...(byParent.get(p) || []));
  }
  return out;
}

function kib(file, field) {
  try {
    const m = readFileSync(file, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;  // the process went away between listing and reading
  }
}

// RSS and PSS (shared pages split between the processes mapping them), in KiB.
function memoryNow(pids) {
  let rss = 0;
  let pss = 0;
  for (const p of pids) {
    rss += kib(`/proc/${p}/status`, 'VmRSS');
    pss += kib(`/proc/${p}/smaps_rollup`, 'Pss');
  }
  return { rss, pss, processes: pids.length };
}

// The median of five samples 200 ms apart, each of the tree as it is at that moment: a
// browser's memory moves by megabytes from one moment to the next on its own.
async function memoryOf(tree) {
  const samples = [];
  for (let i = 0; i < 5; ++i) {
    if (i) await sleep(200);
    samples.push(memoryNow(tree()));
  }
  const mid = (key) => median(samples.map((x) => x[key]));
  return { rss: mid('rss'), pss: mid('pss'), processes: samples[0].processes };
}

// Chromium rewrites its argv into one space-separated string.
// User plus system CPU seconds of the processes so far (utime and stime, in clock ticks of
// 1/100 s on Linux).
function cpuSeconds(pids) {
  let ticks = 0;
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return null;
    }
  }
  return ticks / 100;
}

function commandLine(pid) {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '); } catch { return ''; }
}

// ---- Chromium <-> Chromium ----

// Runs in both pages. Signaling leaves through window.signal (exposed by this script) and
// arrives through window.onSignal, serialized on one promise chain.
function pageSetup({ role, chunk, highWater, lowThreshold }) {
  const now = () => performance.timeOrigin + performance.now();
  const pc = new RTCPeerConnection();
  const report = { role, errors: [] };
  window.report = report;
  let chain = Promise.resolve();
  pc.onconnectionstatechange = () => console.log(`${role}: ${pc.connectionState}`);
  pc.onicecandidate = (e) => window.signal(e.candidate ? e.candidate.toJSON() : { candidate: '' });
  window.onSignal = (m) => {
    chain = chain.then(async () => {
      if (m.type === 'offer') {
        await pc.setRemoteDescription(m);
        await pc.setLocalDescription(await pc.createAnswer());
        window.signal({ type: 'answer', sdp: pc.localDescription.sdp });
      } else if (m.type === 'answer') {
        await pc.setRemoteDescription(m);
      } else if (m.candidate) {
        await pc.addIceCandidate(m);
      }
    }).catch((e) => { report.errors.push(String(e)); console.error(`${role}: ${e}`); });
  };
  if (role === 'offer') {
    const dc = pc.createDataChannel('bulk');
    dc.binaryType = 'arraybuffer';
    window.opened = new Promise((resolve) => {
      dc.onopen = () => { report.openAt = now(); resolve(); };
    });
    // Sends `total` bytes in `chunk`-byte messages, each starting with its sequence number,
    // refilling up to highWater whenever bufferedAmount falls to lowThreshold.
    window.sendBulk = (total) => new Promise((resolve) => {
      const message = new Uint8Array(chunk);
      crypto.getRandomValues(message);
      const view = new DataView(message.buffer);
      let sent = 0;
      let seq = 0;
      dc.bufferedAmountLowThreshold = lowThreshold;
      const pump = () => {
        while (sent < total && dc.bufferedAmount < highWater) {
          const n = Math.min(chunk, total - sent);
          view.setUint32(0, seq++);
          if (report.firstSendAt === undefined) report.firstSendAt = now();
          dc.send(n === chunk ? message : message.subarray(0, n));
          sent += n;
        }
        if (sent >= total) { dc.onbufferedamountlow = null; resolve(); }
      };
      dc.onbufferedamountlow = pump;
      pump();
    });
    report.offerAt = now();
    pc.createOffer()
      .then((o) => pc.setLocalDescription(o))
      .then(() => window.signal({ type: 'offer', sdp: pc.localDescription.sdp }));
  } else {
    window.opened = new Promise((resolve) => {
      pc.ondatachannel = (e) => {
        const dc = e.channel;
        dc.binaryType = 'arraybuffer';
        let received = 0;
        let seq = 0;
        window.received = new Promise((done) => {
          window.expectBytes = (total) => {
            report.total = total;
            if (received >= total) done();
          };
          dc.onmessage = (ev) => {
            if (new DataView(ev.data).getUint32(0) !== seq++) report.errors.push(`message ${seq - 1} out of order`);
            received += ev.data.byteLength;
            report.lastByteAt = now();
            report.bytes = received;
            report.messages = seq;
            if (report.total !== undefined && received >= report.total) done();
          };
        });
        if (dc.readyState === 'open') { report.openAt = now(); resolve(); }
        dc.onopen = () => { report.openAt = now(); resolve(); };
      };
    });
  }
}

async function chromiumRun(url) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    // playwright-core passes --headless and a fresh temporary --user-data-dir itself.
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns'],
  });
  try {
    // Two contexts: two renderer processes, as two tabs of unrelated sites would be. Chromium
    // offers host candidates of every interface only to pages holding a camera or microphone
    // permission; without it only the default route's address, and a namespace with nothing
    // but loopback has no default route. The permission is granted, nothing is captured.
    const pages = [];
    for (let i = 0; i < 2; ++i) {
      const context = await browser.newContext({ permissions: ['microphone', 'camera'] });
      const page = await context.newPage();
      page.on('console', (m) => log(`[page ${i}] ${m.text()}`));
      await page.goto(url);
      pages.push(page);
    }
    const tree = () => descendants(process.pid);
    // Renderers of web pages (not of the browser's own WebUI).
    const renderers = tree().map(commandLine)
      .filter((c) => c.includes('--type=renderer') && !c.includes('--top-chrome-webui')).length;
    await sleep(kIdleSettleMs);
    const empty = await memoryOf(tree);
    log(`Chromium: ${renderers} renderers, empty pages ${Math.round(empty.rss / 1024)} MiB RSS`);

    let closing = false;
    const relay = (to) => async (m) => {
      await to.evaluate((msg) => window.onSignal(msg), m).catch((e) => { if (!closing) throw e; });
    };
    await pages[0].exposeFunction('signal', relay(pages[1]));
    await pages[1].exposeFunction('signal', relay(pages[0]));
    const common = { chunk: kChunk, highWater: kHighWater, lowThreshold: kLowThreshold };
    await pages[1].evaluate(pageSetup, { role: 'answer', ...common });
    await pages[0].evaluate(pageSetup, { role: 'offer', ...common });
    await Promise.all(pages.map((p) => p.evaluate(() => window.opened)));
    log('Chromium: channel open');
    const [offer, answer] = await Promise.all(pages.map((p) => p.evaluate(() => window.report)));
    const openMs = offer.openAt - offer.offerAt;
    const remoteOpenMs = answer.openAt - offer.offerAt;

    await sleep(kIdleSettleMs);
    const idle = await memoryOf(tree);

    const cpuBefore = cpuSeconds(tree());
    const received = pages[1].evaluate(async (total) => {
      window.expectBytes(total);
      await window.received;
      return window.report;
    }, totalBytes);
    await pages[0].evaluate((total) => window.sendBulk(total), totalBytes);
    const sink = await received;
    const cpuAfter = cpuSeconds(tree());
    const cpu = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
    const source = await pages[0].evaluate(() => window.report);
    const errors = [...source.errors, ...sink.errors];
    if (errors.length) throw new Error(`Chromium: ${errors.join('; ')}`);
    if (sink.bytes !== totalBytes) throw new Error(`Chromium: ${sink.bytes} of ${totalBytes} bytes arrived`);
    const transferMs = sink.lastByteAt - source.firstSendAt;
    closing = true;
    return {
      version: browser.version(),
      openMs,
      remoteOpenMs,
      mbps: totalBytes / transferMs / 1000,
      transferMs,
      cpu,
      renderers,
      empty,
      idle,
      // One connected pair is two endpoints; the added memory is split evenly between them.
      addedRssPerEndpoint: (idle.rss - empty.rss) / 2,
      addedPssPerEndpoint: (idle.pss - empty.pss) / 2,
    };
  } finally {
    await browser.close();
  }
}

// ---- endpoints as processes: `rtcpp peer` and libdatachannel-peer.mjs ----

// Both speak the JSON lines of the peer contract. libdatachannel's ICE (libjuice) leaves
// loopback out of the interfaces it gathers from, so in a namespace with only loopback it
// offers no candidate at all unless bound to 127.0.0.1 (RtcConfig.bindAddress), which makes
// 127.0.0.1 its one host candidate.
function peerCommand(stack) {
  return stack === 'rtcpp'
    ? [rtcppPath, 'peer']
    : [process.execPath, ldcPeerPath, '--bind', '127.0.0.1'];
}

function startPeer(stack, args) {
  const [command, ...fixed] = peerCommand(stack);
  const child = spawn(command, [...fixed, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const peer = { child, lines: [], result: null, listeners: [], stderr: '' };
  child.stderr.on('data', (d) => { peer.stderr += d; });
  // A peer that has finished exits at once; lines still relayed to it are dropped.
  child.stdin.on('error', () => {});
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let msg;
    try { msg = JSON.parse(line); } catch { return; }
    msg.at = performance.now();
    if (msg.type === 'result') peer.result = msg;
    peer.lines.push(msg);
    for (const l of peer.listeners) l(msg);
  });
  peer.exited = new Promise((resolve) => child.on('exit', resolve));
  peer.waitFor = (predicate) => new Promise((resolve) => {
    const hit = peer.lines.find(predicate);
    if (hit) return resolve(hit);
    peer.listeners.push((m) => { if (predicate(m)) resolve(m); });
  });
  peer.write = (msg) => { if (!peer.child.stdin.destroyed) peer.child.stdin.write(JSON.stringify(msg) + '\n'); };
  return peer;
}

// Forwards each side's signaling lines to the other, as the FIFOs of peer_pair.sh would.
function wire(a, b) {
  const signaling = ['offer', 'answer', 'candidate', 'bye'];
  const forward = (from, to) => {
    for (const m of from.lines) if (signaling.includes(m.type)) to.write(strip(m));
    from.listeners.push((m) => { if (signaling.includes(m.type)) to.write(strip(m)); });
  };
  forward(a, b);
  forward(b, a);
}
const strip = ({ at, ...m }) => m;

// A pair whose channel never opened. Such an attempt is made again (at most twice more) and
// counted, so that one failed connection does not end a run of several minutes; the count is
// printed with the table.
class NeverOpened extends Error {}
const retried = [];
async function tryAgainIfNeverOpened(what, attempt) {
  for (let n = 1; ; ++n) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof NeverOpened) || n === 3) throw e;
      const reason = e.message.split('\n')[0];
      retried.push({ what, reason });
      log(`${what}: ${reason}; once more`);
    }
  }
}
const opened = (peer) => peer.lines.some((m) => m.type === 'open');

async function peerBulk(stack, file, want) {
  const ldc = stack === 'libdatachannel';
  const offerer = startPeer(stack, ['--offer', '--send', file, '--chunk', String(kChunk), '--timeout', '60']);
  // libdatachannel's receiver is told the size: see libdatachannel-peer.mjs on why the
  // channel's close cannot mark the end there.
  const answerer = startPeer(stack, [...(ldc ? ['--bytes', String(totalBytes)] : []), '--timeout', '60']);
  // rtcpp: CPU of both processes read from here when the sender's channel opens and when the
  // sender says it is done (just before it exits). libdatachannel-peer.mjs reads its own over
  // the same span, so that the receiver's count runs until its JavaScript has taken the last
  // message, not only until the sender is done.
  let cpuAtOpen = null;
  let cpuAtEnd = null;
  if (!ldc) {
    offerer.listeners.push((m) => {
      const pids = [offerer.child.pid, answerer.child.pid];
      if (m.type === 'open' && cpuAtOpen === null) cpuAtOpen = cpuSeconds(pids);
      if (m.type === 'bye') cpuAtEnd = cpuSeconds(pids);
    });
  }
  wire(offerer, answerer);
  await Promise.all([offerer.exited, answerer.exited]);
  const [o, a] = [offerer.result, answerer.result];
  if (!o || !o.ok || !a || !a.ok) {
    throw new (opened(offerer) ? Error : NeverOpened)(`${stack} bulk: offerer ${o?.error}, answerer ${a?.error}\n` +
      `${JSON.stringify(o)}\n${JSON.stringify(a)}\n${offerer.stderr}${answerer.stderr}`);
  }
  if (a.bytesReceived !== totalBytes || a.sha256 !== want) throw new Error(`${stack} bulk: received data differs`);
  if (ldc) {
    // As for Chromium: the sender's first send to the receiver's last message, wall clock.
    const transferMs = a.lastByteAt - o.firstSendAt;
    return { openMs: o.connectMs, mbps: totalBytes / transferMs / 1000, transferMs, cpu: o.cpuSeconds + a.cpuSeconds };
  }
  return {
    openMs: o.connectMs,
    // The sender's transferMs runs from the first send until every byte is acknowledged.
    mbps: totalBytes / o.transferMs / 1000,
    transferMs: o.transferMs,
    cpu: cpuAtOpen === null || cpuAtEnd === null ? null : cpuAtEnd - cpuAtOpen,
    receiverMbps: totalBytes / a.transferMs / 1000,
  };
}

// One idle connection: memory of both processes once the offer exists and before any
// signaling is relayed (certificate made, sockets bound), and again once the channel is open
// and nothing has moved for a while.
async function peerIdle(stack) {
  const offerer = startPeer(stack, ['--offer', '--timeout', '60']);
  const answerer = startPeer(stack, [...(stack === 'rtcpp' ? ['--echo'] : []), '--timeout', '60']);
  const peers = [offerer, answerer];
  const each = () => Promise.all(peers.map((p) => memoryOf(() => [p.child.pid])));
  await offerer.waitFor((m) => m.type === 'offer');
  await sleep(500);
  const before = await each();
  wire(offerer, answerer);
  await Promise.all(peers.map((p) => p.waitFor((m) => m.type === 'open' || m.type === 'result')));
  await sleep(kIdleSettleMs);
  const after = await each();
  for (const p of peers) p.write({ type: 'bye' });
  await Promise.all(peers.map((p) => p.exited));
  if (!offerer.result?.ok || !answerer.result?.ok) {
    throw new (opened(offerer) ? Error : NeverOpened)(`${stack} idle: offerer ${offerer.result?.error}, answerer ${answerer.result?.error}\n` +
      `${JSON.stringify(offerer.result)}\n${JSON.stringify(answerer.result)}\n${offerer.stderr}${answerer.stderr}`);
  }
  const added = (key) => (after[0][key] - before[0][key] + after[1][key] - before[1][key]) / 2;
  return {
    before,
    after,
    wholeRss: (after[0].rss + after[1].rss) / 2,
    addedRssPerEndpoint: added('rss'),
    addedPssPerEndpoint: added('pss'),
  };
}

// `rtcpp demo`: two processes through the public API (its summary line is on stderr).
async function rtcppDemo() {
  const child = spawn(rtcppPath, ['demo', '--bytes', String(totalBytes), '--timeout', '60'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d) => { out += d; });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  const open = out.match(/first channel open after ([\d.]+) ms/);
  const rate = out.match(/done: \d+ bytes in [\d.]+ s \(([\d.]+) MB\/s\)/);
  if (code !== 0 || !open || !rate) throw new Error(`rtcpp demo failed:\n${out}`);
  return { openMs: Number(open[1]), mbps: Number(rate[1]) };
}


// ---- the table ----

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const stacks = [
  ['rtcpp', 'rtcpp peer <-> rtcpp peer'],
  ['chromium', 'Chromium <-> Chromium'],
  ['libdatachannel', 'libdatachannel <-> libdatachannel'],
  ['demo', 'rtcpp demo (public API)'],
];
const mib = (kb) => kb / 1024;
// Each measure: how to read it from one run for each stack that has it.
const measures = [
  {
    key: 'openMs', label: 'first channel open after createOffer', unit: 'ms', digits: 1,
    of: { rtcpp: (r) => r.rtcpp.bulk.openMs, chromium: (r) => r.chromium.openMs,
      libdatachannel: (r) => r.libdatachannel.bulk.openMs, demo: (r) => r.demo.openMs },
  },
  {
    key: 'mbps', label: `${totalBytes / MiB} MiB in 64 KiB messages`, unit: 'MB/s', digits: 1,
    of: { rtcpp: (r) => r.rtcpp.bulk.mbps, chromium: (r) => r.chromium.mbps,
      libdatachannel: (r) => r.libdatachannel.bulk.mbps, demo: (r) => r.demo.mbps },
  },
  {
    key: 'cpuSeconds', label: 'CPU over the transfer, both endpoints', unit: 's', digits: 2,
    of: { rtcpp: (r) => r.rtcpp.bulk.cpu, chromium: (r) => r.chromium.cpu,
      libdatachannel: (r) => r.libdatachannel.bulk.cpu },
  },
  {
    key: 'idleAddedRssMiB', label: 'idle connection: RSS added per endpoint', unit: 'MiB', digits: 1,
    of: { rtcpp: (r) => mib(r.rtcpp.idle.addedRssPerEndpoint), chromium: (r) => mib(r.chromium.addedRssPerEndpoint),
      libdatachannel: (r) => mib(r.libdatachannel.idle.addedRssPerEndpoint) },
  },
  {
    key: 'idleAddedPssMiB', label: 'idle connection: PSS added per endpoint', unit: 'MiB', digits: 1,
    of: { rtcpp: (r) => mib(r.rtcpp.idle.addedPssPerEndpoint), chromium: (r) => mib(r.chromium.addedPssPerEndpoint),
      libdatachannel: (r) => mib(r.libdatachannel.idle.addedPssPerEndpoint) },
  },
  {
    key: 'idleWholeRssMiB', label: 'idle: whole RSS of one peer process / Chromium\'s tree', unit: 'MiB', digits: 1,
    of: { rtcpp: (r) => mib(r.rtcpp.idle.wholeRss), chromium: (r) => mib(r.chromium.idle.rss),
      libdatachannel: (r) => mib(r.libdatachannel.idle.wholeRss) },
  },
];

// Median, min and max of every measure for every stack, and the median as a ratio to
// rtcpp peer's median.
function summarize(results) {
  const summary = {};
  for (const m of measures) {
    summary[m.key] = { label: m.label, unit: m.unit };
    for (const [stack] of stacks) {
      const xs = m.of[stack] ? results.map(m.of[stack]) : [];
      if (!xs.length || xs.some((x) => x === null || x === undefined || Number.isNaN(x))) continue;
      summary[m.key][stack] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs };
    }
    const base = summary[m.key].rtcpp?.median;
    for (const [stack] of stacks) {
      const s = summary[m.key][stack];
      if (s) s.ratioToRtcpp = base ? s.median / base : null;
    }
  }
  return summary;
}

const ratioText = (r) => `${r.toFixed(r >= 100 ? 0 : r >= 10 ? 1 : 2)}x`;

function table(summary) {
  const rows = measures.map((m) => [`${m.label} (${m.unit})`, ...stacks.map(([stack]) => {
    const s = summary[m.key][stack];
    if (!s) return '-';
    let text = s.median.toFixed(m.digits);
    if (s.runs.length > 1) text += ` (${s.min.toFixed(m.digits)}-${s.max.toFixed(m.digits)})`;
    if (stack !== 'rtcpp' && s.ratioToRtcpp !== null) text += `, ${ratioText(s.ratioToRtcpp)} rtcpp`;
    return text;
  })]);
  const head = ['measure', ...stacks.map(([, title]) => title)];
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells) => '| ' + cells.map((x, k) => x.padEnd(widths[k])).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

// ---- main ----

const deadline = setTimeout(() => { console.error('bench: timed out'); process.exit(1); }, runs * 300000);
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>rtcpp bench</title>');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

const work = mkdtempSync(join(tmpdir(), 'rtcpp-bench-'));
const file = join(work, 'payload.bin');
const payload = randomBytes(totalBytes);
writeFileSync(file, payload);
const want = createHash('sha256').update(payload).digest('hex');

const loadAtStart = loadavg();
const results = [];
try {
  for (let run = 1; run <= runs; ++run) {
    log(`run ${run}/${runs}: Chromium <-> Chromium`);
    const chromiumResult = await chromiumRun(url);
    log(`run ${run}/${runs}: rtcpp peer <-> rtcpp peer, ${totalBytes} bytes, then idle`);
    const rtcpp = {
      bulk: await tryAgainIfNeverOpened('rtcpp bulk', () => peerBulk('rtcpp', file, want)),
      idle: await tryAgainIfNeverOpened('rtcpp idle', () => peerIdle('rtcpp')),
    };
    log(`run ${run}/${runs}: libdatachannel <-> libdatachannel, ${totalBytes} bytes, then idle`);
    const libdatachannel = {
      bulk: await tryAgainIfNeverOpened('libdatachannel bulk', () => peerBulk('libdatachannel', file, want)),
      idle: await tryAgainIfNeverOpened('libdatachannel idle', () => peerIdle('libdatachannel')),
    };
    log(`run ${run}/${runs}: rtcpp demo`);
    const demo = await rtcppDemo();
    const result = { run, rtcpp, chromium: chromiumResult, libdatachannel, demo };
    console.log(JSON.stringify({ type: 'run', ...result }));
    results.push(result);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const loadAtEnd = loadavg();
const versions = {
  chromium: results[0].chromium.version,
  nodeDatachannel: JSON.parse(readFileSync(join(here, 'node_modules/node-datachannel/package.json'), 'utf8')).version,
  // Loaded only now, so that the addon is not in this process while it measures.
  libdatachannel: (await import('node-datachannel')).default.getLibraryVersion(),
  node: process.versions.node,
};
const summary = summarize(results);
const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
console.log(`\nChromium ${versions.chromium} (${results[0].chromium.renderers} renderer processes), ` +
  `node-datachannel ${versions.nodeDatachannel} (libdatachannel ${versions.libdatachannel}), Node ${versions.node}; ` +
  `load average ${load(loadAtStart)} at the start, ${load(loadAtEnd)} at the end; ` +
  `${runs} run(s): median (min-max), and the median's ratio to rtcpp peer's\n`);
console.log(table(summary));
for (const r of retried) console.log(`\nmade again: ${r.what}: ${r.reason}`);
if (jsonPath) {
  writeFileSync(jsonPath, JSON.stringify({
    date: new Date().toISOString(), runs, bytes: totalBytes, chunk: kChunk, versions,
    loadAverage: { start: loadAtStart, end: loadAtEnd }, retried, summary, results,
  }, null, 2) + '\n');
  log(`numbers written to ${jsonPath}`);
}
clearTimeout(deadline);
server.close();
process.exit(0);
