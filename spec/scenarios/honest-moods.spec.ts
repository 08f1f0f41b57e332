// Moods that tell the truth, with real processes, real GStreamer and real sources, sampled every
// 100 ms from the worker's live tree: a DJ (ffmpeg) leaving makes the whole transcoding chain
// below it hungry within 2 check intervals and keeps it hungry, as the manager's /metrics says,
// until the DJ returns; a watchdog with a real backup keeps everything downstream of it happy
// while the master's chain is hungry; and a liquidsoap-like source sending one Ogg page every
// 1.7 s (longer than the 1.5 s check interval) for a minute makes no mood flap at all.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Worker } from '../../actors/worker/worker';
import { describeFfmpeg, pushTone, FfmpegRun } from '../helpers/ffmpeg';
import { describeGst } from '../helpers/gst';
import { waitFor } from '../helpers/net';
import { oggPages } from '../helpers/ogg-pages';
import { ADMIN_SECRET, Proc, SECRET, freePort, run, writePlanet } from '../helpers/planet';

jest.setTimeout(150000);

const CHECK_INTERVAL = 1500;

type Sample = { t: number; moods: Record<string, string> };

describeGst('moods that tell the truth', () => {
  const procs: Proc[] = [];
  const djs: FfmpegRun[] = [];
  let worker: Worker | null = null;
  afterEach(async () => {
    for (const d of djs.splice(0)) await d.stop();
    await worker?.shutdown();
    worker = null;
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  /** A manager process and this process's worker (its live tree sampled directly). */
  async function boot(components: string): Promise<number> {
    const managerPort = await freePort();
    const planet = `
name: moods
manager: { host: 127.0.0.1, port: ${managerPort}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET}, heartbeat-interval: 500, heartbeat-timeout: 2500 }
workers: [ { name: worker1 } ]
flows:
  - name: default
    components:
${components}`;
    const mp = run(['manager', '--planet', writePlanet(planet)]);
    procs.push(mp);
    await waitFor(() => mp.log.join('').includes('manager: planet'), 10000, 'manager up');
    worker = new Worker({ name: 'worker1', managerUrl: `ws://127.0.0.1:${managerPort}`, secret: SECRET, feedHost: '127.0.0.1', feedPort: 0, checkIntervalMs: CHECK_INTERVAL, log: () => undefined });
    await worker.start();
    return managerPort;
  }

  const moodsNow = (): Record<string, string> => Object.fromEntries(worker!.componentStates().map((c) => [c.id.split('/')[2], c.mood]));
  const eaterRestarts = (): number => worker!.componentStates().reduce((n, c) => n + c.eaters.reduce((m, e) => m + e.feeds.reduce((k, f) => k + f.restarts, 0), 0), 0);

  /** Moods every 100 ms for `ms`. */
  async function sample(ms: number): Promise<Sample[]> {
    const out: Sample[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      out.push({ t: Date.now(), moods: moodsNow() });
      await new Promise((r) => setTimeout(r, 100));
    }
    return out;
  }

  const happy = (names: string[]) => () => names.every((n) => moodsNow()[n] === 'happy');

  /** The mood lines of /metrics for a component, mood → value. */
  async function metricMoods(managerPort: number, name: string): Promise<Record<string, string>> {
    const text = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: managerPort, path: '/metrics', headers: { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_SECRET}`).toString('base64')}` } }, (res) => {
          let t = '';
          res.on('data', (d: Buffer) => (t += d.toString()));
          res.on('end', () => resolve(t));
        })
        .on('error', reject);
    });
    const out: Record<string, string> = {};
    for (const m of text.matchAll(/^fluxcast_component_mood\{([^}]*)\} (\S+)$/gm)) {
      if (m[1].includes(`component="/default/${name}"`)) out[/mood="(\w+)"/.exec(m[1])![1]] = m[2];
    }
    return out;
  }

  const dj = (port: number) => pushTone(`icecast://source:dj-password@127.0.0.1:${port}/live`, 'ogg', 120, ['-content_type', 'audio/ogg', '-page_duration', '200000']);

  describeFfmpeg('with a DJ (ffmpeg) on an icecast-source-producer', () => {
    it('turns the whole chain below a DJ who left hungry within 2 check intervals, keeps it hungry, and happy again when the DJ returns', async () => {
      const djPort = await freePort();
      const httpPort = await freePort();
      const m = await boot(`
      - { name: dj, type: icecast-source-producer, worker: worker1, properties: { port: ${djPort}, mount-point: /live, password: dj-password } }
      - { name: decoder, type: audio-decoder, worker: worker1, eaters: { default: [dj] } }
      - { name: encoder, type: vorbis-encoder, worker: worker1, eaters: { default: [decoder] } }
      - { name: muxer, type: ogg-muxer, worker: worker1, eaters: { default: [encoder] } }
      - { name: streamer, type: http-streamer, worker: worker1, properties: { port: ${httpPort}, mount-point: /live.ogg }, eaters: { default: [muxer] } }
`);
      const chain = ['decoder', 'encoder', 'muxer', 'streamer'];
      let source = dj(djPort);
      djs.push(source);
      await waitFor(happy(['dj', ...chain]), 40000, 'all happy');
      await new Promise((r) => setTimeout(r, 4000)); // the cadence is learned
      const stop = source.stop();
      const samples = await sample(10000);
      await stop;
      const left = samples.find((s) => s.moods.dj === 'hungry')!.t;
      for (const name of chain) {
        const first = samples.findIndex((s) => s.moods[name] === 'hungry');
        expect([name, first >= 0]).toEqual([name, true]);
        expect(samples[first].t - left).toBeLessThanOrEqual(2 * CHECK_INTERVAL);
        // Hungry from then on, never a flicker of happy.
        expect([name, samples.slice(first).filter((s) => s.moods[name] !== 'hungry').length]).toEqual([name, 0]);
      }
      // What the manager says (and so /metrics) is the same.
      for (const name of chain) expect([name, await metricMoods(m, name)]).toMatchObject([name, { hungry: '1', happy: '0' }]);

      source = dj(djPort);
      djs.push(source);
      await waitFor(happy(['dj', ...chain]), 40000, 'all happy again once the DJ is back');
    });

    it('keeps everything downstream of a watchdog happy while its master chain is hungry', async () => {
      const djPort = await freePort();
      const httpPort = await freePort();
      await boot(`
      - { name: dj, type: icecast-source-producer, worker: worker1, properties: { port: ${djPort}, mount-point: /live, password: dj-password } }
      - { name: decoder, type: audio-decoder, worker: worker1, properties: { rate: 44100, channels: 2 }, eaters: { default: [dj] } }
      - { name: tone, type: test-audio, worker: worker1, properties: { rate: 44100, channels: 2, samples-per-buffer: 1764 } }
      - { name: air, type: watchdog, worker: worker1, eaters: { master: [decoder], backup: [tone] } }
      - { name: encoder, type: mulaw-encoder, worker: worker1, eaters: { default: [air] } }
      - { name: muxer, type: wav-muxer, worker: worker1, eaters: { default: [encoder] } }
      - { name: streamer, type: http-streamer, worker: worker1, properties: { port: ${httpPort}, mount-point: /live.wav }, eaters: { default: [muxer] } }
`);
      const source = dj(djPort);
      djs.push(source);
      const down = ['air', 'encoder', 'muxer', 'streamer'];
      const onMaster = () => worker!.componentStates().find((c) => c.id === '/default/air')?.messages.filter((x) => x.text.startsWith('feeding from')).at(-1)?.text === 'feeding from master';
      await waitFor(() => happy(['dj', 'decoder', 'tone', ...down])() && onMaster(), 40000, 'all happy, the DJ on air');
      await new Promise((r) => setTimeout(r, 4000));
      const stop = source.stop();
      const samples = await sample(8000);
      await stop;
      const left = samples.find((s) => s.moods.dj === 'hungry')!.t;
      const first = samples.findIndex((s) => s.moods.decoder === 'hungry');
      expect(first).toBeGreaterThanOrEqual(0);
      expect(samples[first].t - left).toBeLessThanOrEqual(2 * CHECK_INTERVAL);
      expect(samples.slice(first).filter((s) => s.moods.decoder !== 'hungry').length).toBe(0);
      for (const name of down) expect([name, samples.filter((s) => s.moods[name] !== 'happy').map((s) => s.moods[name])]).toEqual([name, []]);
      expect(onMaster()).toBe(false);
    });
  });

  it('makes no mood flap for a minute of Ogg pages 1.7 s apart (a liquidsoap on a quiet signal)', async () => {
    // One page per 1.72 s of audio, like liquidsoap's low-bitrate Vorbis.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-sparse-')), 'sparse.ogg');
    execFileSync('gst-launch-1.0', ['-q', 'audiotestsrc', 'wave=sine', 'volume=0.02', 'num-buffers=900', 'samplesperbuffer=2205', '!', 'audio/x-raw,rate=22050,channels=1', '!', 'vorbisenc', 'quality=0.0', '!',
      'oggmux', 'max-delay=1700000000', 'max-page-delay=1700000000', '!', 'filesink', `location=${file}`]);
    const pages = oggPages(fs.readFileSync(file));
    expect(pages.length).toBeGreaterThan(45);
    const djPort = await freePort();
    const httpPort = await freePort();
    await boot(`
      - { name: dj, type: icecast-source-producer, worker: worker1, properties: { port: ${djPort}, mount-point: /live, password: dj-password } }
      - { name: decoder, type: audio-decoder, worker: worker1, eaters: { default: [dj] } }
      - { name: encoder, type: vorbis-encoder, worker: worker1, eaters: { default: [decoder] } }
      - { name: muxer, type: ogg-muxer, worker: worker1, eaters: { default: [encoder] } }
      - { name: streamer, type: http-streamer, worker: worker1, properties: { port: ${httpPort}, mount-point: /live.ogg }, eaters: { default: [muxer] } }
`);
    await waitFor(() => moodsNow().dj === 'hungry', 20000, 'the ingest listening');
    const source = net.connect(djPort, '127.0.0.1');
    source.on('error', () => undefined);
    await new Promise((resolve, reject) => {
      source.once('connect', resolve);
      source.once('error', reject);
    });
    source.write(`PUT /live HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic ${Buffer.from('source:dj-password').toString('base64')}\r\nContent-Type: audio/ogg\r\nIce-Name: sparse\r\n\r\n`);
    // The headers and the first audio page at once, then one page every 1.7 s.
    let next = 0;
    const send = () => source.write(pages[next++].bytes);
    while (next < 3) send();
    const pacer = setInterval(() => next < pages.length && send(), 1700);
    try {
      const chain = ['dj', 'decoder', 'encoder', 'muxer', 'streamer'];
      await waitFor(happy(chain), 40000, 'all happy');
      const restarts = eaterRestarts();
      const samples = await sample(60000);
      for (const name of chain) expect([name, samples.filter((s) => s.moods[name] !== 'happy').length]).toEqual([name, 0]);
      expect(eaterRestarts()).toBe(restarts);
      const bounds = worker!.componentStates().flatMap((c) => c.eaters.flatMap((e) => e.feeds.map((f) => f.boundMs ?? 0)));
      for (const b of bounds) expect(b).toBeGreaterThan(3000); // 2 × the 1.7 s cadence, learned
    } finally {
      clearInterval(pacer);
      source.destroy();
    }
  });
});
