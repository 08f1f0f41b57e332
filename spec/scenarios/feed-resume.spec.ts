// A feed killed from outside the process (ss -K, as a network would) is resumed where it stopped:
// an Ogg chain across two workers (the muxer on worker2), an HTTP listener of the streamer on
// worker1, and the streamer's feed from the muxer killed three times mid-stream. Each kill
// really happens (the connection is gone, the eater redialled: its restart count in the live
// tree goes up by one) and the listener's stream holds every page once, in order: per logical
// stream, each page's sequence number is the previous one's plus one.
import { execFileSync } from 'child_process';
import { Worker } from '../../actors/worker/worker';
import { get, rawRequest, RawResponse } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { describeGst } from '../helpers/gst';
import { oggPages, sequenceBreaks } from '../helpers/ogg-pages';
import { ADMIN_SECRET, Proc, SECRET, freePort, run, status, waitForStatus, writePlanet } from '../helpers/planet';

jest.setTimeout(90000);

/** The local ports of this host's established TCP connections to 127.0.0.1:port. */
function connectionsTo(port: number): string[] {
  const out = execFileSync('ss', ['-tnH', 'state', 'established', 'dst', '127.0.0.1', 'dport', '=', `:${port}`], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().split(/\s+/)[2]).filter((x): x is string => !!x);
}

describeGst('a killed feed resumes without a buffer twice', () => {
  const procs: Proc[] = [];
  let worker: Worker | null = null;
  let listener: RawResponse | null = null;
  afterEach(async () => {
    listener?.socket.destroy();
    await worker?.shutdown();
    worker = null;
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('kills the streamer\'s feed three times with ss -K: three eater restarts, and every Ogg page reaches the listener once, in order', async () => {
    const managerPort = await freePort();
    const httpPort = await freePort();
    const planet = `
name: resume
manager: { host: 127.0.0.1, port: ${managerPort}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET}, heartbeat-interval: 500, heartbeat-timeout: 2500 }
workers: [ { name: worker1 }, { name: worker2 } ]
flows:
  - name: default
    components:
      - { name: source, type: audiotest-producer, worker: worker1, properties: { rate: 22050, channels: 1 } }
      - { name: encoder, type: vorbis-encoder, worker: worker1, properties: { bitrate: 32000 }, eaters: { default: [source] } }
      - { name: muxer, type: ogg-muxer, worker: worker2, eaters: { default: [encoder] } }
      - { name: streamer, type: http-streamer, worker: worker1, properties: { port: ${httpPort}, mount-point: /live.ogg, write-interval: 0 }, eaters: { default: [muxer] } }
`;
    const mp = run(['manager', '--planet', writePlanet(planet)]);
    procs.push(mp);
    await waitFor(() => mp.log.join('').includes('manager: planet'), 10000, 'manager up');
    worker = new Worker({ name: 'worker1', managerUrl: `ws://127.0.0.1:${managerPort}`, secret: SECRET, feedHost: '127.0.0.1', feedPort: 0, checkIntervalMs: 1500, log: () => undefined });
    await worker.start();
    procs.push(run(['worker', '--name', 'worker2', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
    await waitForStatus(managerPort, (s) => s.components.every((c) => c.mood === 'happy'), 30000, 'all happy');
    const w2port = (await status(managerPort))!.workers.find((w) => w.name === 'worker2')!.feedPort!;

    listener = await rawRequest(httpPort, get('/live.ogg'));
    await waitFor(() => oggPages(listener!.body()).length > 10, 15000, 'the listener fed');
    const EATER = ['components', '/default/streamer', 'eaters', '/default/muxer:default'];
    const node = () => {
      let n = worker!.tree() ?? undefined;
      for (const id of EATER) n = n?.children.find((c) => c.id === id);
      return n;
    };
    const streamer = () => worker!.componentStates().find((c) => c.id === '/default/streamer');
    for (let kill = 0; kill < 3; kill++) {
      await waitFor(() => streamer()?.mood === 'happy' && connectionsTo(w2port).length === 1, 10000, 'the feed up');
      const before = connectionsTo(w2port);
      const restarts = node()!.restarts;
      const seen = oggPages(listener.body()).length;
      execFileSync('ss', ['-K', 'dst', '127.0.0.1', 'dport', '=', `:${w2port}`], { stdio: 'pipe' });
      // The kill happened: that connection is gone, and the eater dialled again (one restart).
      await waitFor(() => node()?.restarts === restarts + 1, 5000, 'the eater restart');
      await waitFor(() => connectionsTo(w2port).length === 1, 5000, 'a new connection');
      expect(connectionsTo(w2port)).not.toEqual(before);
      await waitFor(() => oggPages(listener!.body()).length > seen + 8, 15000, 'the listener fed after the kill');
    }
    const pages = oggPages(listener.body());
    expect(pages.length).toBeGreaterThan(30);
    expect(new Set(pages.map((p) => p.serial)).size).toBe(1);
    expect(sequenceBreaks(pages)).toEqual([]);
    expect(streamer()!.eaters[0].feeds[0]).toMatchObject({ resumes: 3, buffersLost: 0 });
    expect(listener.socket.destroyed).toBe(false);
  });
});
