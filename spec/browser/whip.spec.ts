// WHIP from a real browser into a planet, and back out by WHEP: Debian's chromium publishes its
// fake camera and microphone to whip-producer (token-guarded); a listener of the planet's WebM
// output (ffmpeg) decodes the picture and the sound. A canvas that draws a millisecond clock is
// published the same way and played back by WHEP in the page: the clock read from each frame on
// screen against the wall clock is the glass-to-glass latency (reported, not asserted). A
// publisher that vanishes without DELETE is found by media silence.

import { spawnSync } from 'child_process';
import * as http from 'http';
import { Browser, Page } from 'playwright-core';
import { WEBRTC_ARGS, browserTests, launchPlayer, servePage } from '../helpers/browser';
import { describeGst } from '../helpers/gst';
import { ADMIN_SECRET, Proc, SECRET, freePort, moods, run, status, waitForStatus, writePlanet } from '../helpers/planet';
import { WEBRTC_PAGE } from '../helpers/webrtc-page';

jest.setTimeout(120000);

const TOKEN = 'whip-publisher-token-1';

function planet(managerPort: number, ports: { whip: number; whep: number; http: number; whipH264: number; hls: number }): string {
  return `
name: whip-test
manager: { port: ${managerPort}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET} }
workers: [ { name: worker1 } ]
flows:
  - name: studio
    components:
      - { name: whip, type: whip-producer, worker: worker1, properties: { port: ${ports.whip}, token-auth: [${TOKEN}], video-codecs: [vp8, h264], source-timeout: 2 } }
      - { name: webm, type: webm-muxer, worker: worker1, eaters: { default: [whip:video, whip:audio] } }
      - { name: http, type: http-streamer, worker: worker1, properties: { port: ${ports.http}, mount-point: /live.webm, write-interval: 100 }, eaters: { default: [webm] } }
      - { name: whep, type: whep-streamer, worker: worker1, properties: { port: ${ports.whep} }, eaters: { video: [whip:video], audio: [whip:audio] } }
      # The studio's other path: H.264 as published, into MPEG-TS and LL-HLS (the example planet's).
      - { name: whip264, type: whip-producer, worker: worker1, properties: { port: ${ports.whipH264}, video-codecs: [h264] } }
      - { name: sound, type: audio-decoder, worker: worker1, eaters: { default: [whip264:audio] } }
      - { name: aac, type: aac-encoder, worker: worker1, eaters: { default: [sound] } }
      - { name: ts, type: mpegts-muxer, worker: worker1, eaters: { default: [whip264:video, aac] } }
      - { name: hls, type: hls-streamer, worker: worker1, properties: { port: ${ports.hls}, mount-point: /live.m3u8, target-duration: 1, low-latency: true, part-duration: 0.2 }, eaters: { default: [ts] } }
`;
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

(browserTests ? describeGst : describe.skip)('WHIP from chromium, out by WebM and WHEP', () => {
  let browser: Browser;
  let pageServer: http.Server;
  let pageUrl = '';
  let managerPort = 0;
  const ports = { whip: 0, whep: 0, http: 0, whipH264: 0, hls: 0 };
  const procs: Proc[] = [];
  let page: Page;
  const call = <T>(fn: string, ...args: unknown[]) => page.evaluate(([f, a]) => (window as unknown as Record<string, (...x: unknown[]) => Promise<T>>)[f as string](...(a as unknown[])), [fn, args] as const);
  const mood = async (name: string) => moods(await status(managerPort))[name];
  /** Publishers of a test, let go after it whatever happened (a test that failed half-way leaves none on). */
  const published: string[] = [];
  afterEach(async () => {
    for (const id of published.splice(0)) await call('whepDelete', id).catch(() => undefined);
    await waitForStatus(managerPort, (s) => moods(s).whip === 'hungry', 8000, 'no publisher').catch(() => undefined);
  });

  beforeAll(async () => {
    managerPort = await freePort();
    for (const k of Object.keys(ports) as Array<keyof typeof ports>) ports[k] = await freePort();
    procs.push(run(['manager', '--planet', writePlanet(planet(managerPort, ports))]));
    procs.push(run(['worker', '--name', 'worker1', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
    browser = await launchPlayer(WEBRTC_ARGS);
    ({ server: pageServer, url: pageUrl } = await servePage(WEBRTC_PAGE));
    await waitForStatus(managerPort, (s) => moods(s).whip === 'hungry' && moods(s).whip264 === 'hungry', 30000, 'whip-producers waiting for a publisher');
    page = await browser.newPage();
    await page.goto(pageUrl);
  });
  afterAll(async () => {
    await browser?.close();
    pageServer?.close();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('refuses a wrong token with 401 and a coded body', async () => {
    await expect(call('whipPublish', `http://127.0.0.1:${ports.whip}/whip`, 'not-the-token', 'camera', 'vp8')).rejects.toThrow(/HTTP 401 .*FLUX_WEBRTC_UNAUTHORIZED/);
  });

  it('takes the fake camera and microphone: the WebM listener decodes picture and sound; DELETE makes it hungry', async () => {
    const id = await call<string>('whipPublish', `http://127.0.0.1:${ports.whip}/whip`, TOKEN, 'camera', 'vp8');
    published.push(id);
    await waitForStatus(managerPort, (s) => moods(s).whip === 'happy' && moods(s).http === 'happy', 30000, 'the publisher flowing to the WebM listener');
    const probe = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-t', '10', '-i', `http://127.0.0.1:${ports.http}/live.webm`, '-frames:v', '25', '-f', 'null', '-'], { encoding: 'utf8', timeout: 30000 });
    const out = probe.stderr ?? '';
    expect(out).toMatch(/Stream #0:\d+.*Video: vp8/);
    expect(out).toMatch(/Stream #0:\d+.*Audio: opus/);
    const frames = [...out.matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1]));
    if ((frames[frames.length - 1] ?? 0) < 25) console.log(out.slice(-3000));
    expect(frames[frames.length - 1]).toBeGreaterThanOrEqual(25);
    const whip = (await status(managerPort))?.components.find((c) => c.name === 'whip');
    expect(whip?.details?.source?.connected).toBe(true);
    expect(whip?.details?.source?.contentType).toBe('video/vp8 + audio/opus');
    expect(await call<number>('whepDelete', id)).toBe(200);
    await waitForStatus(managerPort, (s) => moods(s).whip === 'hungry', 5000, 'hungry after DELETE');
  });

  it('plays a published clock back by WHEP: glass-to-glass latency per frame', async () => {
    const pub = await call<string>('whipPublish', `http://127.0.0.1:${ports.whip}/whip`, TOKEN, 'clock', 'vp8');
    published.push(pub);
    await waitForStatus(managerPort, (s) => moods(s).whip === 'happy' && moods(s).whep === 'happy', 30000, 'the clock flowing to WHEP');
    const viewer = await call<string>('whepPlay', `http://127.0.0.1:${ports.whep}/whep`);
    const end = Date.now() + 15000;
    while ((await call<{ width: number }>('whepState', viewer)).width === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1500)); // past the start
    const samples = await call<number[]>('measureLatency', viewer, 6000);
    expect(samples.length).toBeGreaterThan(60);
    const p50 = percentile(samples, 50);
    const p95 = percentile(samples, 95);
    console.log(`WHIP → planet → WHEP glass-to-glass on loopback: ${samples.length} frames, p50 ${p50} ms, p95 ${p95} ms, max ${Math.max(...samples)} ms`);
    expect(p95).toBeGreaterThan(0);
    await call('whepDelete', viewer);
    await call('whepDelete', pub);
  });

  it('takes H.264 from the browser as published: the LL-HLS player decodes picture and sound', async () => {
    const id = await call<string>('whipPublish', `http://127.0.0.1:${ports.whipH264}/whip`, null, 'camera', 'h264');
    try {
      await waitForStatus(managerPort, (s) => moods(s).whip264 === 'happy' && moods(s).hls === 'happy', 45000, 'H.264 flowing to LL-HLS');
      const whip = (await status(managerPort))?.components.find((c) => c.name === 'whip264');
      expect(whip?.details?.source?.contentType).toBe('video/h264 + audio/opus');
      // Segments are cut at keyframes, which the producer asks of the browser every 2 s.
      const end = Date.now() + 20000;
      let playlist = '';
      while ((playlist.match(/#EXTINF/g) ?? []).length < 2 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 300));
        playlist = await (await fetch(`http://127.0.0.1:${ports.hls}/live.m3u8`)).text().catch(() => '');
      }
      expect((playlist.match(/#EXTINF/g) ?? []).length).toBeGreaterThanOrEqual(2);
      const probe = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-i', `http://127.0.0.1:${ports.hls}/live.m3u8`, '-t', '2', '-f', 'null', '-'], { encoding: 'utf8', timeout: 30000 });
      const out = probe.stderr ?? '';
      if (!/Video: h264/.test(out)) console.log(out.slice(-3000));
      expect(out).toMatch(/Stream #0:\d+.*Video: h264/);
      expect(out).toMatch(/Stream #0:\d+.*Audio: aac/);
      const frames = [...out.matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1]));
      expect(frames[frames.length - 1]).toBeGreaterThanOrEqual(20);
    } finally {
      await call('whepDelete', id);
    }
  });

  it('finds a publisher that vanishes without DELETE by media silence', async () => {
    await waitForStatus(managerPort, (s) => moods(s).whip === 'hungry', 5000, 'no publisher');
    const id = await call<string>('whipPublish', `http://127.0.0.1:${ports.whip}/whip`, TOKEN, 'camera', 'vp8');
    published.push(id);
    await waitForStatus(managerPort, (s) => moods(s).whip === 'happy', 30000, 'the publisher flowing');
    await call('vanish', id);
    const gone = Date.now();
    await waitForStatus(managerPort, (s) => moods(s).whip === 'hungry', 6000, 'hungry after the publisher vanished');
    expect(Date.now() - gone).toBeLessThan(6000);
    expect(await mood('whip')).toBe('hungry');
  });
});
