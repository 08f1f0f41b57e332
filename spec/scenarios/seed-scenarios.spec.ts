// The seed scenarios of DESIGN.md with real processes: a manager and two workers started from
// the built CLI, an HTTP listener on the streamer, and the faults done for real (SIGINT,
// SIGKILL, a manager killed and restarted, a port taken away from a component).
import * as net from 'net';
import { get, rawRequest, RawResponse } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { Proc, SECRET, allHappy, freePort, moods, run, seedPlanet, status, waitForStatus, writePlanet } from '../helpers/planet';

jest.setTimeout(60000);

describe('seed scenarios', () => {
  let managerPort: number;
  let httpPort: number;
  let planet: string;
  let manager: Proc;
  const procs: Proc[] = [];
  const listeners: RawResponse[] = [];

  const worker = (name: string) => {
    const p = run(['worker', '--name', name, '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0', '--check-interval', '1000']);
    procs.push(p);
    return p;
  };

  async function boot(extra = ''): Promise<void> {
    managerPort = await freePort();
    httpPort = await freePort();
    planet = writePlanet(seedPlanet(managerPort, httpPort, extra));
    manager = run(['manager', '--planet', planet]);
    procs.push(manager);
    await waitFor(() => manager.log.join('').includes('manager: planet'), 10000, 'manager up');
  }

  async function listen(): Promise<RawResponse> {
    const r = await rawRequest(httpPort, get('/live.wav'));
    listeners.push(r);
    await waitFor(() => r.body().length > 1000, 10000, 'listener data');
    return r;
  }

  /** Resolves when the listener got `bytes` more bytes. */
  async function flows(r: RawResponse, bytes = 2000, timeoutMs = 10000): Promise<void> {
    const start = r.data().length;
    await waitFor(() => r.data().length >= start + bytes, timeoutMs, 'more listener data');
  }

  afterEach(async () => {
    for (const l of listeners.splice(0)) l.socket.destroy();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('1. stopping a worker: muxer sleeping, streamer hungry, listener kept; all happy again after it returns', async () => {
    await boot();
    worker('worker1');
    const w2 = worker('worker2');
    await waitForStatus(managerPort, allHappy, 15000, 'all happy');
    const listener = await listen();

    w2.child.kill('SIGINT');
    await w2.exited;
    const down = await waitForStatus(managerPort, (s) => moods(s).muxer === 'sleeping' && moods(s).streamer === 'hungry', 10000, 'muxer sleeping, streamer hungry');
    expect(down.workers.find((w) => w.name === 'worker2')?.connected).toBe(false);
    expect(listener.socket.destroyed).toBe(false);

    worker('worker2');
    await waitForStatus(managerPort, (s) => !!s.workers.find((w) => w.name === 'worker2')?.connected, 10000, 'worker2 login');
    const loggedIn = Date.now();
    await waitForStatus(managerPort, allHappy, 10000, 'all happy again');
    expect(Date.now() - loggedIn).toBeLessThanOrEqual(2000 + 300); // design: happy within 2 s of login (+ one status poll)
    await flows(listener);
    expect(listener.socket.destroyed).toBe(false);
    expect(listener.status()).toBe(200);
  });

  it('1b. a killed worker makes its component lost, not sleeping', async () => {
    await boot();
    worker('worker1');
    const w2 = worker('worker2');
    await waitForStatus(managerPort, allHappy, 15000, 'all happy');
    w2.child.kill('SIGKILL');
    await waitForStatus(managerPort, (s) => moods(s).muxer === 'lost' && moods(s).streamer === 'hungry', 10000, 'muxer lost');
  });

  it('3. manager restart: listeners never stop, workers log back in, moods as before', async () => {
    await boot();
    worker('worker1');
    worker('worker2');
    const before = await waitForStatus(managerPort, allHappy, 15000, 'all happy');
    const listener = await listen();
    manager.child.kill('SIGKILL');
    await manager.exited;
    await flows(listener, 4000); // data keeps flowing without a manager: feeds are direct sockets
    manager = run(['manager', '--planet', planet]);
    procs.push(manager);
    const after = await waitForStatus(managerPort, (s) => s.workers.every((w) => w.connected) && allHappy(s), 15000, 'workers back, all happy');
    expect(moods(after)).toEqual(moods(before));
    await flows(listener);
    expect(listener.socket.destroyed).toBe(false);
  });

  it('4. a component that keeps crashing ends sad; component restart brings it back', async () => {
    const blocker = net.createServer();
    await boot();
    await new Promise<void>((r) => blocker.listen(httpPort, '127.0.0.1', () => r())); // the streamer's port is taken
    worker('worker1');
    worker('worker2');
    const sad = await waitForStatus(managerPort, (s) => moods(s).streamer === 'sad', 30000, 'streamer sad');
    const streamer = sad.components.find((c) => c.name === 'streamer');
    expect(streamer?.messages.map((m) => m.text).join('\n')).toMatch(/restarted 5 times within 30 s; last error: .*FLUX_HTTP_ADDRESS_IN_USE: 127\.0\.0\.1:\d+ is in use/);
    await new Promise((r) => blocker.close(r));
    const cmd = run(['component', 'restart', '/default/streamer', '--manager', `ws://127.0.0.1:${managerPort}`]);
    expect(await cmd.exited).toBe(0);
    await waitForStatus(managerPort, allHappy, 15000, 'all happy after restart');
    await listen();
  });

  it('refuses a worker with the wrong secret, with a clear error', async () => {
    await boot();
    const bad = run(['worker', '--name', 'worker1', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0'], { FLUXCAST_SECRET: 'not-the-right-secret-at-all' });
    procs.push(bad);
    await waitFor(() => bad.log.join('').includes('login refused: FLUX_WIRE_AUTH_FAILED'), 10000, 'refusal');
    const s = await status(managerPort);
    expect(s?.workers.every((w) => !w.connected)).toBe(true);
    expect(SECRET).not.toBe('not-the-right-secret-at-all');
  });
});
