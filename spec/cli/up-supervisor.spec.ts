// `fluxcast up` as the root supervisor of a one-host planet, with real processes: a worker
// killed with SIGKILL is a new process within seconds and every component is happy again; a
// killed manager is started again and rebuilds the planet while the stream goes on; restarts
// are in up's output and in status; a child that exits 78 (a refusal no restart can cure) is not
// started again; SIGTERM to up stops every child, and none is left behind.
import { execFileSync } from 'child_process';
import { get, rawRequest, RawResponse } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { Proc, SECRET, allHappy, freePort, run, seedPlanet, status, waitForStatus, writePlanet } from '../helpers/planet';

jest.setTimeout(90000);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The pids of every process whose parent is `ppid`. */
function childrenOf(ppid: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(ppid)], { encoding: 'utf8' }).trim();
  return out ? out.split(/\s+/).map(Number) : [];
}

describe('`fluxcast up` supervises the planet\'s processes', () => {
  const procs: Proc[] = [];
  const listeners: RawResponse[] = [];
  afterEach(async () => {
    for (const l of listeners.splice(0)) l.socket.destroy();
    for (const p of procs.splice(0)) {
      if (p.child.exitCode === null) {
        p.child.kill('SIGTERM');
        let t: NodeJS.Timeout | undefined;
        await Promise.race([p.exited, new Promise((r) => (t = setTimeout(r, 15000)))]);
        clearTimeout(t);
      }
    }
  });

  async function boot(): Promise<{ up: Proc; managerPort: number; httpPort: number }> {
    const managerPort = await freePort();
    const httpPort = await freePort();
    const up = run(['up', writePlanet(seedPlanet(managerPort, httpPort))]);
    procs.push(up);
    await waitForStatus(managerPort, allHappy, 20000, 'all happy');
    return { up, managerPort, httpPort };
  }

  it('starts a worker killed with SIGKILL again: a new process, every component happy within 5 s, the restart in its output and in status', async () => {
    const { up, managerPort, httpPort } = await boot();
    const listener = await rawRequest(httpPort, get('/live.wav'));
    listeners.push(listener);
    const s = await status(managerPort);
    const old = s!.workers.find((w) => w.name === 'worker2')!.pid!;
    expect(s!.workers.find((w) => w.name === 'worker2')!.process?.upRestarts).toBe(0);
    process.kill(old, 'SIGKILL');
    const killed = Date.now();
    const after = await waitForStatus(managerPort, (x) => allHappy(x) && (x.workers.find((w) => w.name === 'worker2')?.pid ?? old) !== old, 15000, 'a new worker2 and all happy');
    expect(Date.now() - killed).toBeLessThan(5000);
    expect(after.workers.find((w) => w.name === 'worker2')!.process?.upRestarts).toBe(1);
    await waitFor(() => /worker2 died \(worker2 exited \(SIGKILL\)/.test(up.log.join('')), 5000, 'the death in the output');
    expect(up.log.join('')).toMatch(/worker2 restarted \(restart 1\)/);
    expect(alive(old)).toBe(false);
    const seen = listener.body().length;
    await waitFor(() => listener.body().length > seen + 4000, 10000, 'the listener fed again');
  });

  it('starts a killed manager again; the planet is rebuilt from the workers while the stream goes on', async () => {
    const { managerPort, httpPort } = await boot();
    const listener = await rawRequest(httpPort, get('/live.wav'));
    listeners.push(listener);
    await waitFor(() => listener.body().length > 2000, 10000, 'listener data');
    // The manager's pid: the child of `up` that listens on the manager's port.
    const pid = Number(execFileSync('sh', ['-c', `ss -Htlnp 'sport = :${managerPort}' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2`], { encoding: 'utf8' }).trim());
    expect(pid).toBeGreaterThan(0);
    const before = listener.body().length;
    process.kill(pid, 'SIGKILL');
    const s = await waitForStatus(managerPort, (x) => allHappy(x) && x.manager.upRestarts === 1, 20000, 'the manager back, all happy');
    expect(s.workers.every((w) => w.connected)).toBe(true);
    expect(listener.body().length).toBeGreaterThan(before); // the stream never stopped: feeds are direct sockets
    expect(listener.socket.destroyed).toBe(false);
  });

  it('does not start again a worker that exits 78, and says so', async () => {
    const { up, managerPort } = await boot();
    const s = await status(managerPort);
    const old = s!.workers.find((w) => w.name === 'worker2')!.pid!;
    // Another process takes the name first: up's next worker2 is refused as a duplicate (exit 78).
    process.kill(old, 'SIGKILL');
    const rogue = run(['worker', '--name', 'worker2', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0'], { FLUXCAST_SECRET: SECRET });
    procs.push(rogue);
    await waitFor(() => /worker2 stopped for good \(exit code 78: FLUX_WIRE_DUPLICATE_WORKER/.test(up.log.join('')), 15000, 'the refusal in up\'s output');
    await new Promise((r) => setTimeout(r, 1500));
    expect(up.log.join('').match(/worker2 restarted/g)?.length ?? 0).toBe(1); // once (after the kill), never after the refusal
    expect((await status(managerPort))!.workers.find((w) => w.name === 'worker2')!.pid).toBe(rogue.child.pid);
  });

  it('stops every child on SIGTERM, workers first, and leaves none behind', async () => {
    const { up } = await boot();
    const kids = childrenOf(up.child.pid!);
    expect(kids.length).toBe(3);
    up.child.kill('SIGTERM');
    expect(await up.exited).toBe(0);
    await waitFor(() => kids.every((k) => !alive(k)), 5000, 'every child gone');
  });
});
