// The plain HTTP streams in a real browser (Debian's chromium driven by playwright-core): MP3 and
// Ogg/Vorbis in <audio>, WebM/VP8 in <video>, each loaded from another origin with
// crossorigin="anonymous", so they only play if the streamer's CORS headers are right.

import * as http from 'http';
import { Browser } from 'playwright-core';
import { browserTests, launchPlayer, servePage } from '../helpers/browser';
import { describeGst } from '../helpers/gst';
import { ADMIN_SECRET, Proc, SECRET, allHappy, freePort, run, waitForStatus, writePlanet } from '../helpers/planet';

jest.setTimeout(120000);


function planet(managerPort: number, ports: { mp3: number; ogg: number; webm: number }): string {
  return `
name: browser-streams
manager: { port: ${managerPort}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET} }
workers: [ { name: worker1 } ]
flows:
  - name: radio
    components:
      - { name: tone, type: audiotest-producer, worker: worker1, properties: { rate: 44100, channels: 2, volume: 0.2 } }
      - { name: mp3, type: mp3-encoder, worker: worker1, eaters: { default: [tone] } }
      - { name: mp3-streamer, type: http-streamer, worker: worker1, properties: { port: ${ports.mp3}, mount-point: /live.mp3 }, eaters: { default: [mp3] } }
      - { name: vorbis, type: vorbis-encoder, worker: worker1, eaters: { default: [tone] } }
      - { name: ogg, type: ogg-muxer, worker: worker1, eaters: { default: [vorbis] } }
      - { name: ogg-streamer, type: http-streamer, worker: worker1, properties: { port: ${ports.ogg}, mount-point: /live.ogg }, eaters: { default: [ogg] } }
  - name: tv
    components:
      - { name: picture, type: videotest-producer, worker: worker1, properties: { width: 320, height: 240, framerate: 15/1 } }
      - { name: vp8, type: vp8-encoder, worker: worker1, properties: { keyframe-interval: 15 }, eaters: { default: [picture] } }
      - { name: webm, type: webm-muxer, worker: worker1, eaters: { default: [vp8] } }
      - { name: webm-streamer, type: http-streamer, worker: worker1, properties: { port: ${ports.webm}, mount-point: /live.webm }, eaters: { default: [webm] } }
`;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>fluxcast players</title><body>
<script>
window.playFor = (tag, url) => new Promise((resolve) => {
  const el = document.createElement(tag);
  el.crossOrigin = 'anonymous';
  el.muted = true;
  el.autoplay = true;
  const errors = [];
  el.addEventListener('error', () => errors.push(el.error ? el.error.code + ' ' + el.error.message : 'error'));
  el.src = url;
  document.body.appendChild(el);
  el.play().catch((e) => errors.push(String(e)));
  const started = Date.now();
  const tick = setInterval(() => {
    if (el.currentTime >= 3 || errors.length || Date.now() - started > 20000) {
      clearInterval(tick);
      resolve({ currentTime: el.currentTime, errors, videoWidth: el.videoWidth || 0 });
      el.remove();
    }
  }, 100);
});
</script>`;

(browserTests ? describeGst : describe.skip)('plain HTTP streams in chromium', () => {
  let browser: Browser;
  let pageServer: http.Server;
  let pageUrl = '';
  const procs: Proc[] = [];

  beforeAll(async () => {
    browser = await launchPlayer();
    ({ server: pageServer, url: pageUrl } = await servePage(PAGE));
  });
  afterAll(async () => {
    await browser?.close();
    pageServer?.close();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('plays MP3 and Ogg/Vorbis in <audio> and WebM/VP8 in <video>, from another origin', async () => {
    const managerPort = await freePort();
    const ports = { mp3: await freePort(), ogg: await freePort(), webm: await freePort() };
    procs.push(run(['manager', '--planet', writePlanet(planet(managerPort, ports))]));
    procs.push(run(['worker', '--name', 'worker1', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
    await waitForStatus(managerPort, allHappy, 60000, 'every stream happy');
    const page = await browser.newPage();
    await page.goto(pageUrl);
    type Played = { currentTime: number; errors: string[]; videoWidth: number };
    const play = (tag: string, url: string) => page.evaluate(([t, u]) => (window as unknown as { playFor(t: string, u: string): Promise<Played> }).playFor(t, u), [tag, url]);
    const mp3 = await play('audio', `http://127.0.0.1:${ports.mp3}/live.mp3`);
    expect(mp3.errors).toEqual([]);
    expect(mp3.currentTime).toBeGreaterThanOrEqual(3);
    const ogg = await play('audio', `http://127.0.0.1:${ports.ogg}/live.ogg`);
    expect(ogg.errors).toEqual([]);
    expect(ogg.currentTime).toBeGreaterThanOrEqual(3);
    const webm = await play('video', `http://127.0.0.1:${ports.webm}/live.webm`);
    expect(webm.errors).toEqual([]);
    expect(webm.currentTime).toBeGreaterThanOrEqual(3);
    expect(webm.videoWidth).toBe(320);
    await page.close();
  });
});
