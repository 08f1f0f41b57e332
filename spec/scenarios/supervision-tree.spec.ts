// The supervision trees with real processes: a throw injected at every level of the manager's
// tree and of a worker's tree is survived (status, logins and admin commands still work, moods
// come back as they were), a feed's TCP connection killed from outside the process is one
// supervised restart of its eater while the HTTP listener stays connected, the trees are drawn
// by `status --tree`, a second worker under a connected name is refused and exits, and an
// avatar's life is the worker's place in the planet (logins leave no actors behind).
import { execFileSync } from 'child_process';
import WebSocket from 'ws';
import { Manager } from '../../cli/manager-process';
import { Worker } from '../../actors/worker/worker';
import { checkPlanetText } from '../../actors/planet/check';
import { COMPONENT_TYPES } from '../../actors/components/registry';
import { StatusJson } from '../../protocol/status';
import { FromManager, ToManager, fromManagerSchema, loginResponse, newNonce } from '../../protocol/wire';
import { WsChannel } from '../../transport/ws-channel';
import { get, rawRequest, RawResponse } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, allHappy, freePort, moods, run, seedPlanet, status, waitForStatus, writePlanet } from '../helpers/planet';
import { runCliAsync } from '../helpers/cli';

jest.setTimeout(60000);

const bogus = { type: 'bogus' };

/** Every actor of a live tree, running or not. */
function countActors(t: { children: Array<{ children: unknown[] }> }): number {
  return t.children.reduce((n: number, c) => n + 1 + countActors(c as { children: Array<{ children: unknown[] }> }), 0);
}

describe('supervision trees', () => {
  let managerPort: number;
  let httpPort: number;
  const procs: Proc[] = [];
  const listeners: RawResponse[] = [];
  let manager: Manager | null = null;
  let worker: Worker | null = null;
  const logs: string[] = [];

  afterEach(async () => {
    for (const l of listeners.splice(0)) l.socket.destroy();
    await worker?.shutdown();
    worker = null;
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await manager?.close();
    manager = null;
  });

  const startWorker = (name: string, extra: string[] = []) => {
    const p = run(['worker', '--name', name, '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0', '--check-interval', '1000', ...extra]);
    procs.push(p);
    return p;
  };

  async function inProcessManager(): Promise<Manager> {
    managerPort = await freePort();
    httpPort = await freePort();
    const { planet } = checkPlanetText(seedPlanet(managerPort, httpPort), COMPONENT_TYPES);
    manager = new Manager(planet!, { host: '127.0.0.1', port: managerPort, secret: SECRET, adminSecret: ADMIN_SECRET, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 2500, log: (l) => logs.push(l) });
    await manager.listen();
    return manager;
  }

  async function listen(): Promise<RawResponse> {
    const r = await rawRequest(httpPort, get('/live.wav'));
    listeners.push(r);
    await waitFor(() => r.body().length > 1000, 10000, 'listener data');
    return r;
  }

  /** Status, an admin command and moods all answer as before. */
  async function stillServing(before: Record<string, string>): Promise<StatusJson> {
    const after = await waitForStatus(managerPort, (s) => JSON.stringify(moods(s)) === JSON.stringify(before), 10000, 'moods as before');
    const refused = await runCliAsync(['component', 'start', '/default/source', '--manager', `ws://127.0.0.1:${managerPort}`, '--secret', ADMIN_SECRET]);
    expect(refused.stderr).toMatch(/is happy; start is allowed from sleeping/);
    return after;
  }

  it('survives a throw at every level of the manager tree, from the state each actor had', async () => {
    const m = await inProcessManager();
    startWorker('worker1');
    startWorker('worker2');
    const before = moods(await waitForStatus(managerPort, allHappy, 15000, 'all happy'));
    const node = (path: string[]) => {
      let n: ReturnType<Manager['tree']> | undefined = m.tree();
      for (const id of path) n = n?.children.find((c) => c.id === id);
      return n;
    };
    const levels: string[][] = [
      ['manager'],
      ['manager', 'planet'],
      ['manager', 'planet', 'worker worker2'],
      ['manager', 'planet', 'worker worker2', '/default/muxer'],
    ];
    for (const path of levels) {
      const n = node(path)?.restarts ?? 0;
      expect(m.sendAt(path, bogus)).toBe(true);
      await waitFor(() => node(path)?.restarts === n + 1 && node(path)?.state === 'running', 5000, `the restart of ${path.join(' / ')}`);
      await stillServing(before).catch((e) => {
        throw new Error(`after a throw in ${path.join(' / ')}: ${e.message}`);
      });
    }
    // Logins still work: a killed worker comes back and everything is happy again.
    procs[1].child.kill('SIGKILL');
    await waitForStatus(managerPort, (s) => moods(s).muxer === 'lost', 10000, 'muxer lost');
    startWorker('worker2');
    const after = await waitForStatus(managerPort, allHappy, 15000, 'all happy after a new login');
    expect(after.manager).toMatchObject({ restarts: 1, planetRestarts: 1 });
    expect(after.workers.find((w) => w.name === 'worker2')?.restarts).toBe(1);
    const tree = await runCliAsync(['status', '--tree', '--manager', `ws://127.0.0.1:${managerPort}`, '--secret', ADMIN_SECRET]);
    expect(tree.status).toBe(0);
    expect(tree.stdout.split('\n')[0]).toBe('manager process');
    expect(tree.stdout).toMatch(/^└─ manager restarts=1$/m);
    expect(tree.stdout).toMatch(/^ {3}└─ planet seed restarts=1$/m);
    expect(tree.stdout).toMatch(/[├└]─ worker worker2 connected pid=\d+ host=\S+ feed-port=\d+ restarts=1/);
    expect(tree.stdout).toMatch(/[├└]─ \/default\/muxer happy restarts=1/); // the component avatar
    expect(tree.stdout).toMatch(/eater default ← \/default\/muxer:default flowing restarts=\d+/);
    expect(tree.stdout).toMatch(/core wav-muxer restarts=0/);
  });

  it('survives a throw at every level of a worker tree; a feed killed from outside is one eater restart', async () => {
    managerPort = await freePort();
    httpPort = await freePort();
    const planetFile = writePlanet(seedPlanet(managerPort, httpPort));
    const mp = run(['manager', '--planet', planetFile]);
    procs.push(mp);
    await waitFor(() => mp.log.join('').includes('manager: planet'), 10000, 'manager up');
    worker = new Worker({ name: 'worker1', managerUrl: `ws://127.0.0.1:${managerPort}`, secret: SECRET, feedHost: '127.0.0.1', feedPort: 0, checkIntervalMs: 1000, log: (l) => logs.push(l) });
    await worker.start();
    startWorker('worker2');
    const before = moods(await waitForStatus(managerPort, allHappy, 15000, 'all happy'));
    const listener = await listen();

    // A feed's TCP connection killed from outside the process: the streamer's eater restarts once.
    const s0 = await status(managerPort);
    const w2port = s0!.workers.find((w) => w.name === 'worker2')!.feedPort!;
    const node = (path: string[]) => {
      let n = worker!.tree() ?? undefined;
      for (const id of path) n = n?.children.find((c) => c.id === id);
      return n;
    };
    const EATER = ['components', '/default/streamer', 'eaters', '/default/muxer:default'];
    const streamerState = () => worker!.componentStates().find((c) => c.id === '/default/streamer');
    const restartsBefore = node(EATER)!.restarts; // start-up may have taken a reconnection or two
    execFileSync('ss', ['-K', 'dst', '127.0.0.1', 'dport', '=', `:${w2port}`]);
    const killed = Date.now();
    await waitFor(() => node(EATER)?.restarts === restartsBefore + 1, 3000, 'the eater restart');
    await waitFor(() => streamerState()?.mood === 'happy' && streamerState()?.eaters[0].feeds[0].state === 'flowing', 2000, 'happy again');
    expect(Date.now() - killed).toBeLessThan(1000);
    const seen = listener.data().length;
    await waitFor(() => listener.data().length > seen + 2000, 5000, 'listener data after the kill');
    expect(listener.socket.destroyed).toBe(false);
    const st = await waitForStatus(managerPort, (s) => s.components.find((c) => c.name === 'streamer')?.eaters[0].feeds[0].restarts === restartsBefore + 1, 5000, 'the restart in the status');
    expect(st.components.find((c) => c.name === 'streamer')?.eaters[0].feeds[0].state).toBe('flowing');

    // A throw at each level of the worker's tree: the actor at that path restarts, and only what its supervisor's strategy says.
    const levels: string[][] = [
      ['worker'],
      ['link'],
      ['components', '/default/source', 'feeders', 'feeder default'],
      EATER,
      ['components', '/default/encoder', 'core'],
      ['components', '/default/encoder'], // the component's own supervisor: restarted, not sad
    ];
    for (const path of levels) {
      const n = node(path)!.restarts;
      expect(worker.sendAt(path, bogus)).toBe(true);
      await waitFor(() => node(path)?.restarts === n + 1 && node(path)?.state === 'running', 5000, `the restart of ${path.join(' / ')}`);
      await stillServing(before);
    }
    expect(listener.socket.destroyed).toBe(false);
    const end = await status(managerPort);
    expect(end?.workers.find((x) => x.name === 'worker1')?.process).toMatchObject({ restarts: 1, linkRestarts: 1 });
    await waitForStatus(managerPort, (x) => x.components.find((c) => c.name === 'encoder')?.mood === 'happy', 5000, 'the encoder happy after its supervisor restarted');

    // The components supervisor itself: its children end with it; the manager sees them gone
    // from the worker's report and starts each again (its listener reconnects: it was there).
    const n = node(['components'])!.restarts;
    expect(worker.sendAt(['components'], bogus)).toBe(true);
    await waitFor(() => node(['components'])?.restarts === n + 1, 5000, 'the components supervisor restarted');
    await stillServing(before);
    expect(node(['components'])!.children.map((c) => c.id).sort()).toEqual(['/default/encoder', '/default/source', '/default/streamer']);
  });

  it('refuses a second worker under a connected name; the second one exits with the reason', async () => {
    await inProcessManager();
    const first = startWorker('worker1');
    await waitForStatus(managerPort, (s) => s.workers.find((w) => w.name === 'worker1')?.connected === true, 10000, 'worker1 in');
    const second = startWorker('worker1');
    expect(await second.exited).toBe(78); // EX_CONFIG: a refusal no restart can cure
    expect(second.log.join('')).toMatch(/error FLUX_WIRE_DUPLICATE_WORKER: a worker named 'worker1' is already connected \(pid \d+/);
    const s = await status(managerPort);
    expect(s?.workers.find((w) => w.name === 'worker1')?.pid).toBe(first.child.pid);
  });

  it('keeps one avatar per planet worker however often workers log in', async () => {
    const m = await inProcessManager();
    const loginOnce = () =>
      new Promise<void>((resolve, reject) => {
        const ch = new WsChannel<FromManager, ToManager>(new WebSocket(`ws://127.0.0.1:${managerPort}`), fromManagerSchema);
        ch.on('message', (msg) => {
          if (msg.type === 'challenge') ch.send({ type: 'login', role: 'worker', name: 'worker2', response: loginResponse(SECRET, msg.nonce, 'worker', 'worker2'), clientNonce: newNonce(), feedPort: 1, feedHost: '127.0.0.1' });
          else if (msg.type === 'welcome') ch.close();
          else if (msg.type === 'refused') reject(new Error(msg.reason));
        });
        ch.on('close', () => resolve());
      });
    const actors = countActors(m.tree());
    expect(actors).toBe(1 + 1 + 2 + 4); // manager, planet, two worker avatars, four component avatars
    for (let i = 0; i < 200; i++) await loginOnce();
    await waitForStatus(managerPort, (s) => s.workers.every((w) => !w.connected), 5000, 'all logged out');
    expect(countActors(m.tree())).toBe(actors);
  });
});
