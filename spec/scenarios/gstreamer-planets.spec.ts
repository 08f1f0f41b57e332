// The example planets with GStreamer pipeline components, run as real processes, checked by
// real GStreamer clients: the Ogg radio over HTTP (a first listener and a late joiner), its
// recording, the WebM TV, the "stopping a worker" scenario with pipeline components, and no
// gst-launch process surviving a killed worker.
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeGst, decodedSeconds, runGstClient } from '../helpers/gst';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, allHappy, freePort, moods, run, waitForStatus, writePlanet } from '../helpers/planet';

jest.setTimeout(120000);

const EXAMPLES = path.resolve(__dirname, '../../examples/planets');

/** A gst-launch client that runs until stopped, noting when each decoded buffer arrived. */
function watchGstClient(args: string[]): { chains: number[]; exited: boolean; errors: () => string[]; stop: () => void } {
  const child = spawn('gst-launch-1.0', ['-v', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const w = { chains: [] as number[], exited: false, text: '', errors: () => w.text.split('\n').filter((l) => l.startsWith('ERROR')), stop: () => child.kill('SIGKILL') };
  const onData = (d: Buffer) => {
    const s = d.toString();
    w.text += s;
    for (const line of s.split('\n')) if (line.includes('last-message = chain')) w.chains.push(Date.now());
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('exit', () => (w.exited = true));
  return w;
}

function gstChildren(): number[] {
  try {
    return execFileSync('pgrep', ['-f', 'gst-launch-1.0 -e'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describeGst('GStreamer planets end to end', () => {
  const procs: Proc[] = [];
  let managerPort: number;
  let recordings: string;

  async function boot(example: string, httpPort: number): Promise<void> {
    managerPort = await freePort();
    recordings = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-recordings-'));
    const yaml = fs
      .readFileSync(path.join(EXAMPLES, example), 'utf8')
      .replace('port: 7531', `port: ${managerPort}`)
      .replace(/secret: fluxcast-demo-secret/, `secret: ${SECRET}`).replace(/admin-secret: fluxcast-demo-admin/, `admin-secret: ${ADMIN_SECRET}`)
      .replace(/port: 880[01]/, `port: ${httpPort}`)
      .replaceAll('/tmp/fluxcast-recordings', recordings)
      .replace('rotate-time: 3600', 'rotate-time: 2');
    const manager = run(['manager', '--planet', writePlanet(yaml)]);
    procs.push(manager);
    await waitFor(() => manager.log.join('').includes('manager: planet'), 10000, 'manager up');
  }

  const worker = (name: string) => {
    const p = run(['worker', '--name', name, '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']);
    procs.push(p);
    return p;
  };

  afterEach(() => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    if (recordings) fs.rmSync(recordings, { recursive: true, force: true });
  });

  it('serves the Ogg radio to GStreamer listeners, late ones too, and records decodable files', async () => {
    const httpPort = await freePort();
    await boot('ogg-radio.yaml', httpPort);
    worker('worker1');
    worker('worker2');
    await waitForStatus(managerPort, allHappy, 30000, 'radio happy');
    const client = ['souphttpsrc', `location=http://127.0.0.1:${httpPort}/live.ogg`, '!', 'oggdemux', '!', 'vorbisdec', '!', 'fakesink', 'silent=false', 'sync=false'];
    expect(decodedSeconds(await runGstClient(client, 3500))).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 1500));
    expect(decodedSeconds(await runGstClient(client, 3500))).toBeGreaterThanOrEqual(2); // a late joiner
    const files = fs.readdirSync(recordings).filter((f) => f.endsWith('.ogg')).sort();
    expect(files.length).toBeGreaterThanOrEqual(2); // rotated
    const out = await runGstClient(['filesrc', `location=${path.join(recordings, files[0])}`, '!', 'oggdemux', '!', 'vorbisdec', '!', 'fakesink', 'silent=false', 'sync=false'], 8000);
    expect(out).not.toMatch(/ERROR/);
    expect(decodedSeconds(out)).toBeGreaterThan(0.5);
  });

  it('serves the WebM TV to a GStreamer listener that decodes VP8', async () => {
    const httpPort = await freePort();
    await boot('webm-tv.yaml', httpPort);
    worker('worker1');
    worker('worker2');
    await waitForStatus(managerPort, allHappy, 40000, 'tv happy');
    const out = await runGstClient(['souphttpsrc', `location=http://127.0.0.1:${httpPort}/live.webm`, '!', 'matroskademux', '!', 'vp8dec', '!', 'fakesink', 'silent=false', 'sync=false'], 4000);
    expect(out).not.toMatch(/ERROR/);
    expect(decodedSeconds(out)).toBeGreaterThanOrEqual(1.5);
  });

  it('stopping a worker with pipeline components: the listener survives and decodes again after the muxer returns', async () => {
    const httpPort = await freePort();
    managerPort = await freePort();
    recordings = '';
    // The seed scenario with GStreamer components: encoder and muxer are pipelines.
    const yaml = `
manager: { port: ${managerPort}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET} }
workers: [ { name: worker1 }, { name: worker2 } ]
flows:
  - name: default
    components:
      - { name: source, type: audiotest-producer, worker: worker1 }
      - { name: encoder, type: vorbis-encoder, worker: worker1, eaters: { default: [source] } }
      - { name: muxer, type: ogg-muxer, worker: worker2, eaters: { default: [encoder] } }
      - { name: streamer, type: http-streamer, worker: worker1, properties: { port: ${httpPort}, mount-point: /live.ogg, write-interval: 50 }, eaters: { default: [muxer] } }
`;
    const manager = run(['manager', '--planet', writePlanet(yaml)]);
    procs.push(manager);
    await waitFor(() => manager.log.join('').includes('manager: planet'), 10000, 'manager up');
    worker('worker1');
    const w2 = worker('worker2');
    await waitForStatus(managerPort, allHappy, 30000, 'all happy');
    // playbin, like a real player, follows the chained Ogg stream the restarted muxer starts.
    const listener = watchGstClient(['playbin', `uri=http://127.0.0.1:${httpPort}/live.ogg`, 'audio-sink=fakesink silent=false sync=false']);
    try {
      await waitFor(() => listener.chains.length > 10, 10000, 'decoding before');
      w2.child.kill('SIGINT');
      await w2.exited;
      await waitForStatus(managerPort, (s) => moods(s).muxer === 'sleeping' && moods(s).streamer === 'hungry', 15000, 'muxer sleeping, streamer hungry');
      worker('worker2');
      await waitForStatus(managerPort, allHappy, 20000, 'all happy again');
      const back = Date.now();
      await waitFor(() => listener.chains.filter((t) => t > back).length > 10, 10000, 'decoding again on the same connection');
      expect(listener.exited).toBe(false);
      expect(listener.errors()).toEqual([]);
    } finally {
      listener.stop();
    }
  });

  it('leaves no gst-launch-1.0 process behind when a worker is killed', async () => {
    const httpPort = await freePort();
    await boot('ogg-radio.yaml', httpPort);
    const before = new Set(gstChildren());
    const w1 = worker('worker1');
    await waitForStatus(managerPort, (s) => moods(s).tone === 'happy' && moods(s).vorbis !== 'sleeping', 30000, 'worker1 components up');
    const mine = gstChildren().filter((p) => !before.has(p));
    expect(mine.length).toBeGreaterThanOrEqual(2);
    w1.child.kill('SIGKILL');
    await w1.exited;
    await waitFor(() => gstChildren().filter((p) => mine.includes(p)).length === 0, 5000, 'children gone');
  });
});
