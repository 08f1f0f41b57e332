// HLS and LL-HLS in a real browser: Debian's chromium (driven by playwright-core) plays the
// hls-streamer's output through hls.js, from another origin: test picture and tone → H.264 + AAC
// → MPEG-TS → HLS. The position advances, the picture has its size, no error fires; hls.js's
// live latency in low-latency mode is reported.

import * as http from 'http';
import * as path from 'path';
import { Browser } from 'playwright-core';
import { browserTests, launchPlayer, servePage } from '../helpers/browser';
import { describeGst } from '../helpers/gst';
import { hlsPlanet } from '../helpers/hls';
import { Proc, allHappy, freePort, run, waitForStatus, writePlanet } from '../helpers/planet';

jest.setTimeout(150000);

const HLS_JS = path.resolve(__dirname, '../../node_modules/hls.js/dist/hls.min.js');

const PAGE = `<!doctype html><meta charset="utf-8"><title>fluxcast HLS</title><body>
<script src="/hls.min.js"></script>
<script>
window.playHls = (url, lowLatencyMode) => new Promise((resolve) => {
  const video = document.createElement('video');
  video.muted = true;
  document.body.appendChild(video);
  const errors = [];
  const hls = new Hls({ lowLatencyMode, liveSyncDurationCount: lowLatencyMode ? undefined : 2 });
  hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) errors.push(d.type + ': ' + d.details); });
  hls.loadSource(url);
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch((e) => errors.push(String(e))));
  let first = -1;
  const latencies = [];
  const real = [];
  const started = Date.now();
  const tick = setInterval(() => {
    if (first < 0 && video.currentTime > 0) first = video.currentTime;
    if (first >= 0 && hls.latency) latencies.push(hls.latency);
    // The real latency: now minus the wall time of the frame on screen (EXT-X-PROGRAM-DATE-TIME is
    // when its segment's first byte reached the origin).
    if (first >= 0 && hls.playingDate) real.push((Date.now() - hls.playingDate.getTime()) / 1000);
    const advanced = first >= 0 ? video.currentTime - first : 0;
    if (advanced >= 3 || errors.length || Date.now() - started > 40000) {
      clearInterval(tick);
      resolve({ advanced, errors, videoWidth: video.videoWidth, latency: latencies.length ? latencies[latencies.length - 1] : null, real: real.length ? real[real.length - 1] : null,
        mse: MediaSource.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"') });
      hls.destroy();
      video.remove();
    }
  }, 100);
});
window.watchHls = (url) => {
  const video = document.createElement('video');
  video.muted = true;
  document.body.appendChild(video);
  const w = { errors: [], discontinuities: 0 };
  const hls = new Hls({ liveSyncDurationCount: 2 });
  hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) w.errors.push(d.type + ': ' + d.details); });
  hls.on(Hls.Events.LEVEL_UPDATED, (_e, d) => { w.discontinuities = Math.max(w.discontinuities, d.details.fragments.filter((f) => f.tagList.some((t) => t[0] === 'DIS')).length); });
  hls.loadSource(url);
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch((e) => w.errors.push(String(e))));
  window.progress = () => ({ time: video.currentTime, errors: w.errors, discontinuities: w.discontinuities, paused: video.paused });
};
</script>`;

(browserTests ? describeGst : describe.skip)('HLS in chromium with hls.js', () => {
  let browser: Browser;
  let pageServer: http.Server;
  let pageUrl = '';
  const procs: Proc[] = [];

  beforeAll(async () => {
    browser = await launchPlayer();
    ({ server: pageServer, url: pageUrl } = await servePage(PAGE, { '/hls.min.js': HLS_JS }));
  });
  afterAll(async () => {
    await browser?.close();
    pageServer?.close();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('plays HLS and LL-HLS video (H.264 + AAC) from another origin', async () => {
    const managerPort = await freePort();
    const ports = { hls: await freePort(), ll: await freePort() };
    procs.push(run(['manager', '--planet', writePlanet(hlsPlanet(managerPort, ports))]));
    procs.push(run(['worker', '--name', 'worker1', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
    await waitForStatus(managerPort, allHappy, 60000, 'the HLS planet happy');
    // A few segments first, so the player has a window to start in.
    await new Promise((r) => setTimeout(r, 3500));
    const page = await browser.newPage();
    await page.goto(pageUrl);
    type Played = { advanced: number; errors: string[]; videoWidth: number; latency: number | null; real: number | null; mse: boolean };
    const play = (url: string, ll: boolean) => page.evaluate(([u, l]) => (window as unknown as { playHls(u: string, l: boolean): Promise<Played> }).playHls(u as string, l as boolean), [url, ll] as const);
    const hls = await play(`http://127.0.0.1:${ports.hls}/tv.m3u8`, false);
    expect(hls.mse).toBe(true);
    expect(hls.errors).toEqual([]);
    expect(hls.advanced).toBeGreaterThanOrEqual(3);
    expect(hls.videoWidth).toBe(320);
    const ll = await play(`http://127.0.0.1:${ports.ll}/tv.m3u8`, true);
    expect(ll.errors).toEqual([]);
    expect(ll.advanced).toBeGreaterThanOrEqual(3);
    expect(ll.videoWidth).toBe(320);
    console.log(`live latency, as hls.js reports it: HLS ${hls.latency?.toFixed(2)} s, LL-HLS ${ll.latency?.toFixed(2)} s; ` +
      `real (now − the program date time on screen): HLS ${hls.real?.toFixed(2)} s, LL-HLS ${ll.real?.toFixed(2)} s`);
    expect(ll.latency).not.toBeNull();
    expect(ll.real).not.toBeNull();
    expect(ll.real as number).toBeLessThan(hls.real as number); // low latency is lower
    await page.close();
  });

  it('rides through the encoders\' worker failing and returning: playback resumes by itself after the discontinuity', async () => {
    const managerPort = await freePort();
    const ports = { hls: await freePort(), ll: await freePort() };
    procs.push(run(['manager', '--planet', writePlanet(hlsPlanet(managerPort, ports, true))]));
    const worker = (name: string) => {
      const p = run(['worker', '--name', name, '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']);
      procs.push(p);
      return p;
    };
    const w1 = worker('worker1');
    worker('worker2');
    await waitForStatus(managerPort, allHappy, 60000, 'the HLS planet happy');
    await new Promise((r) => setTimeout(r, 3500));
    const page = await browser.newPage();
    await page.goto(pageUrl);
    type Progress = { time: number; errors: string[]; discontinuities: number; paused: boolean };
    const progress = () => page.evaluate(() => (window as unknown as { progress(): Progress }).progress());
    await page.evaluate((u) => (window as unknown as { watchHls(u: string): void }).watchHls(u), `http://127.0.0.1:${ports.hls}/tv.m3u8`);
    const until = async (cond: (p: Progress) => boolean, ms: number, what: string) => {
      const end = Date.now() + ms;
      for (;;) {
        const p = await progress();
        if (cond(p)) return p;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(p)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await until((p) => p.time >= 2, 20000, 'playback');
    w1.child.kill('SIGINT');
    await w1.exited;
    await new Promise((r) => setTimeout(r, 3000));
    worker('worker1');
    const back = Date.now();
    await waitForStatus(managerPort, allHappy, 30000, 'happy again');
    const atReturn = (await progress()).time;
    const resumed = await until((p) => p.time >= atReturn + 2 && p.discontinuities > 0, 10000 + 2000, 'playback resumed after the discontinuity');
    expect(Date.now() - back).toBeLessThan(12000);
    expect(resumed.errors).toEqual([]);
    await page.close();
  });
});
