// Headless Chromium as the interop scripts launch it: Debian's /usr/bin/chromium (never a
// downloaded browser), with no background traffic, host candidates on loopback, and, for
// media, the fake camera and microphone without a permission prompt. playwright-core adds
// --headless and a fresh temporary --user-data-dir itself.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A fresh directory for a script's files (clips, recordings, payloads), removed when the
// process exits however it exits, so that no run leaves hundreds of megabytes behind.
// RTCPP_KEEP_WORK=1 keeps it for a look after a failure.
export function makeWorkDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (process.env.RTCPP_KEEP_WORK !== '1') {
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  } else {
    process.on('exit', () => console.error(`work files kept in ${dir}`));
  }
  return dir;
}

// media: the fake capture devices and autoplay; mdns: keep Chromium's default of hiding its
// addresses behind mDNS names; extra: more switches.
export function launchChromium({ media = false, mdns = false, extra = [] } = {}) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection',
      ...(mdns ? [] : ['--disable-features=WebRtcHideLocalIpsWithMdns']),
      ...(media ? ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
        '--autoplay-policy=no-user-gesture-required'] : []),
      ...extra],
  });
}
