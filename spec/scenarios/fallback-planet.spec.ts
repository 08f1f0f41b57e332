// Fallback mounts and intro files in a planet, with real processes and the CLI: two Ogg/Vorbis
// chains, their streamers behind one porter; the studio's mount falls back to the loop's. A
// listener of the studio gets the intro, then the studio; `fluxcast component stop` of the
// studio's muxer moves it (same TCP connection) to the loop, `fluxcast status` says so, and
// `component start` brings it back. Everything it heard decodes in GStreamer and ffmpeg.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { get, rawRequest, RawResponse } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, allHappy, freePort, run, waitForStatus, writePlanet } from '../helpers/planet';
import { runCli } from '../helpers/cli';
import { describeGst, gstLaunch } from '../helpers/gst';
import { decodeCleanly, oggLinks } from '../helpers/media';
import { StatusJson } from '../../protocol/status';

jest.setTimeout(120000);

function planet(managerPort: number, porterPort: number, intro: string): string {
  const chain = (prefix: string, worker: string, frequency: number) => `
      - { name: ${prefix}-tone, type: audiotest-producer, worker: ${worker}, properties: { frequency: ${frequency}, rate: 44100, channels: 2, volume: 0.3 } }
      - { name: ${prefix}-vorbis, type: vorbis-encoder, worker: ${worker}, eaters: { default: [${prefix}-tone] } }
      - { name: ${prefix}, type: ogg-muxer, worker: ${worker}, eaters: { default: [${prefix}-vorbis] } }`;
  return `
name: fallback-demo
manager: { host: 127.0.0.1, port: ${managerPort}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET} }
workers: [ { name: worker1 }, { name: worker2 } ]
flows:
  - name: radio
    components:${chain('studio-mix', 'worker2', 440)}${chain('loop-mix', 'worker1', 880)}
      - { name: front, type: porter, worker: worker1, properties: { port: ${porterPort} } }
      - { name: studio, type: http-streamer, worker: worker1, eaters: { default: [studio-mix] },
          properties: { porter: front, mount-point: /studio.ogg, fallback-mount: /loop.ogg, intro-file: ${intro}, write-interval: 100 } }
      - { name: loop, type: http-streamer, worker: worker1, eaters: { default: [loop-mix] }, properties: { porter: front, mount-point: /loop.ogg, write-interval: 100 } }
`;
}

describeGst('a planet with a fallback mount and an intro', () => {
  const procs: Proc[] = [];
  const listeners: RawResponse[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-fallback-planet-'));
  afterAll(() => {
    for (const l of listeners.splice(0)) l.socket.destroy();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('moves a listener to the fallback when the upstream stops, and back when it starts, the intro first', async () => {
    const intro = path.join(dir, 'intro.ogg');
    expect(gstLaunch(['-q', ...`audiotestsrc num-buffers=43 samplesperbuffer=1024 freq=660 volume=0.3 ! audio/x-raw,rate=44100,channels=2 ! audioconvert ! vorbisenc ! oggmux ! filesink location=${intro}`.split(' ')]).status).toBe(0);
    const managerPort = await freePort();
    const porterPort = await freePort();
    const manager = `ws://127.0.0.1:${managerPort}`;
    const cli = (...args: string[]) => runCli([...args, '--manager', manager, '--secret', ADMIN_SECRET]);
    procs.push(run(['manager', '--planet', writePlanet(planet(managerPort, porterPort, intro))]));
    for (const w of ['worker1', 'worker2']) procs.push(run(['worker', '--name', w, '--manager', manager, '--feed-port', '0']));
    await waitForStatus(managerPort, allHappy, 60000, 'all happy');
    const studio = (s: StatusJson) => s.components.find((c) => c.name === 'studio')!;
    const loop = (s: StatusJson) => s.components.find((c) => c.name === 'loop')!;
    await waitForStatus(managerPort, (s) => studio(s).details?.fallback?.state === 'own', 10000, 'the studio on its own stream');

    const r = await rawRequest(porterPort, get('/studio.ogg'));
    listeners.push(r);
    const introBytes = fs.readFileSync(intro);
    const more = async (bytes: number, what: string) => {
      const now = r.body().length;
      await waitFor(() => r.body().length >= now + bytes, 30000, what);
    };
    await more(introBytes.length + 12000, 'the intro, then the studio');

    expect(cli('component', 'stop', '/radio/studio-mix').status).toBe(0);
    let st = await waitForStatus(managerPort, (s) => studio(s).details?.fallback?.state === 'fallback' && loop(s).details?.clients === 1, 20000, 'the listener on the loop');
    expect(studio(st).mood).toBe('hungry');
    expect(studio(st).details?.fallback).toMatchObject({ mount: '/loop.ogg', state: 'fallback', servedBy: '/loop.ogg', listeners: 1, moved: 1 });
    expect(studio(st).details?.intro).toMatchObject({ file: intro, playing: true, plays: 1, format: 'Ogg/vorbis 44100 Hz 2 ch' });
    const text = cli('status').stdout;
    expect(text).toContain('fallback /loop.ogg: on fallback /loop.ogg with 1 listener(s) moved');
    expect(text).toContain(`intro ${intro}: Ogg/vorbis 44100 Hz 2 ch, played 1 time(s)`);
    await more(12000, 'the loop');

    expect(cli('component', 'start', '/radio/studio-mix').status).toBe(0);
    st = await waitForStatus(managerPort, (s) => studio(s).details?.clients === 1 && loop(s).details?.clients === 0, 30000, 'the listener back on the studio');
    expect(studio(st).details?.fallback).toMatchObject({ state: 'own', listeners: 0, moved: 1, returned: 1 });
    await more(12000, 'the studio again');
    expect(r.socket.destroyed).toBe(false);
    r.socket.destroy();

    const body = r.body();
    expect(body.subarray(0, introBytes.length).equals(introBytes)).toBe(true);
    expect(oggLinks(body)).toHaveLength(4); // intro, studio, loop, the studio's new stream
    expect(decodeCleanly(body, 'ogg')).toBeGreaterThan(4);
  });
});
