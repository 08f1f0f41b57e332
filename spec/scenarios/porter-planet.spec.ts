// The porter and sender processes in a planet, with real processes: two streamers (one with
// two sender processes) behind one porter port, `fluxcast status` showing the porter's routes,
// and `fluxcast check` refusing a streamer whose porter is on another worker.
import { get, rawRequest, RawResponse } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, allHappy, freePort, run, waitForStatus, writePlanet } from '../helpers/planet';
import { runCli } from '../helpers/cli';

jest.setTimeout(60000);

function planet(managerPort: number, porterPort: number, porterWorker = 'worker1'): string {
  return `
name: porter-demo
manager: { host: 127.0.0.1, port: ${managerPort}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET} }
workers: [ { name: worker1 }, { name: worker2 } ]
flows:
  - name: radio
    components:
      - { name: source, type: test-audio, worker: worker2 }
      - { name: encoder, type: mulaw-encoder, worker: worker2, eaters: { default: [source] } }
      - { name: muxer, type: wav-muxer, worker: worker2, eaters: { default: [encoder] } }
      - { name: front, type: porter, worker: ${porterWorker}, properties: { port: ${porterPort} } }
      - { name: big, type: http-streamer, worker: worker1, properties: { porter: front, mount-point: /big.wav, processes: 2, write-interval: 100 }, eaters: { default: [muxer] } }
      - { name: small, type: http-streamer, worker: worker1, properties: { porter: front, mount-point: /small.wav, write-interval: 100 }, eaters: { default: [muxer] } }
`;
}

describe('a planet with a porter', () => {
  const procs: Proc[] = [];
  const listeners: RawResponse[] = [];
  afterEach(() => {
    for (const l of listeners.splice(0)) l.socket.destroy();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('serves two streamers through one porter port, with sender processes, and shows the routes', async () => {
    const managerPort = await freePort();
    const porterPort = await freePort();
    procs.push(run(['manager', '--planet', writePlanet(planet(managerPort, porterPort))]));
    for (const w of ['worker1', 'worker2']) procs.push(run(['worker', '--name', w, '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
    await waitForStatus(managerPort, allHappy, 20000, 'all happy');
    const big = await Promise.all([1, 2, 3, 4].map(() => rawRequest(porterPort, get('/big.wav'))));
    const small = await rawRequest(porterPort, get('/small.wav'));
    listeners.push(...big, small);
    await waitFor(() => [...big, small].every((r) => r.body().length > 4000), 10000, 'every listener fed');
    expect([...big, small].every((r) => r.status() === 200 && r.body().subarray(0, 4).toString() === 'RIFF')).toBe(true);
    const st = await waitForStatus(managerPort, (s) => s.components.find((c) => c.name === 'big')?.details?.clients === 4, 10000, 'four listeners on big');
    expect(st.components.find((c) => c.name === 'front')?.details?.routes).toEqual([
      { mount: '/big.wav', owner: '/radio/big' },
      { mount: '/small.wav', owner: '/radio/small' },
    ]);
    const text = runCli(['status', '--manager', `ws://127.0.0.1:${managerPort}`, '--secret', ADMIN_SECRET]).stdout;
    expect(text).toContain(`http://127.0.0.1:${porterPort} routes: /big.wav → /radio/big, /small.wav → /radio/small`);
    expect(text).toMatch(new RegExp(`http://127\\.0\\.0\\.1:${porterPort}/big\\.wav  4 listener\\(s\\)`));
  });

  it('is refused by check when a streamer\'s porter runs on another worker', () => {
    const r = runCli(['check', writePlanet(planet(7531, 8800, 'worker2'))]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/flows\[0\]\.components\[4\]\.properties\.porter: porter 'front' runs on worker2, not on worker1 with this streamer/);
  });
});
