// Debian's chromium driven by playwright-core, for the tests that play streams in a real
// browser, and a page server on another origin (so CORS is exercised). In CI (CI=true) a
// missing chromium fails those tests; elsewhere they are skipped.

import * as fs from 'fs';
import * as http from 'http';
import { Browser, chromium } from 'playwright-core';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((f) => fs.existsSync(f));

/** Whether browser tests should run: chromium is here, or CI requires it. */
export const browserTests = !!CHROMIUM || !!process.env.CI;

/** Headless chromium that plays media without a gesture (muted); `extraArgs` add flags (WebRTC's). */
export async function launchPlayer(extraArgs: string[] = []): Promise<Browser> {
  if (!CHROMIUM) throw new Error('chromium is required in CI (apt-get install chromium)');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required', '--mute-audio', '--no-first-run', '--disable-background-networking', '--disable-component-update', ...extraArgs],
  });
}

/**
 * WebRTC on loopback: candidates on 127.0.0.1 are used (Chromium leaves loopback out by
 * default), and the fake camera and microphone publish without a permission prompt.
 */
export const WEBRTC_ARGS = ['--allow-loopback-in-peer-connection', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** Serves `page` at / and the given files (path → file) on 127.0.0.1; resolves with the page URL. */
export async function servePage(page: string, files: Record<string, string> = {}): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (file) res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(fs.readFileSync(file));
    else res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` };
}
