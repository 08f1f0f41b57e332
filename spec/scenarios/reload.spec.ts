// Hot reload with real processes: a streamer added to the seed planet serves within 2 s of
// `fluxcast reload`, a changed source restarts, the listener of the untouched streamer stays
// connected throughout; SIGHUP removes the streamer again, closing only its listeners; an
// invalid planet is refused with every problem and changes nothing.
import * as fs from 'fs';
import { get, rawRequest, RawResponse } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, allHappy, freePort, moods, run, seedPlanet, waitForStatus, writePlanet } from '../helpers/planet';
import { runCliAsync } from '../helpers/cli';

jest.setTimeout(60000);

describe('hot reload', () => {
  const procs: Proc[] = [];
  const listeners: RawResponse[] = [];
  afterEach(() => {
    for (const l of listeners.splice(0)) l.socket.destroy();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('adds, changes and removes components while the untouched streamer keeps its listener', async () => {
    const managerPort = await freePort();
    const httpPort = await freePort();
    const port2 = await freePort();
    const base = seedPlanet(managerPort, httpPort);
    const file = writePlanet(base);
    const manager = run(['manager', '--planet', file]);
    procs.push(manager);
    for (const w of ['worker1', 'worker2']) procs.push(run(['worker', '--name', w, '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
    await waitForStatus(managerPort, allHappy, 20000, 'all happy');
    const kept = await rawRequest(httpPort, get('/live.wav'));
    listeners.push(kept);
    await waitFor(() => kept.body().length > 2000, 10000, 'the first listener fed');

    // Add a second streamer eating the muxer, and change the source's frequency.
    const added = base
      .replace('{ name: source, type: test-audio, worker: worker1 }', '{ name: source, type: test-audio, worker: worker1, properties: { frequency: 880 } }')
      .concat(`      - { name: second, type: http-streamer, worker: worker2, properties: { port: ${port2}, mount-point: /second.wav, write-interval: 50 }, eaters: { default: [muxer] } }\n`);
    fs.writeFileSync(file, added);
    const r = await runCliAsync(['reload', '--manager', `ws://127.0.0.1:${managerPort}`, '--secret', ADMIN_SECRET]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^planet reloaded: added \/default\/second; restarted \/default\/source \(3 unchanged\)\n$/);
    const t0 = Date.now();
    let second: RawResponse | null = null;
    await waitFor(() => !!second && second.body().length > 1000, 5000, 'the new streamer serving', async () => {
      if (second && second.status() === 200) return;
      second?.socket.destroy();
      second = await rawRequest(port2, get('/second.wav')).catch(() => null);
      await new Promise((res) => setTimeout(res, 50));
    });
    expect(Date.now() - t0).toBeLessThan(2000 + 150);
    listeners.push(second!);
    await waitForStatus(managerPort, allHappy, 10000, 'all happy after the reload');

    // SIGHUP with the second streamer gone again: only its listener is closed.
    fs.writeFileSync(file, base);
    const seen = kept.body().length;
    manager.child.kill('SIGHUP');
    await second!.closed;
    const after = await waitForStatus(managerPort, (s) => !s.components.some((c) => c.name === 'second') && allHappy(s), 10000, 'the second streamer gone');
    expect(Object.keys(moods(after))).toEqual(['source', 'encoder', 'muxer', 'streamer']);
    await waitFor(() => kept.body().length > seen + 4000, 10000, 'the kept listener still fed');
    expect(kept.socket.destroyed).toBe(false);
    expect(manager.log.join('')).toMatch(/SIGHUP: planet reloaded: removed \/default\/second; restarted \/default\/source/);

    // An invalid planet: every problem, nothing changed.
    fs.writeFileSync(file, base.replace('type: mulaw-encoder', 'type: mulaw-encodr').replace('worker: worker2, eaters', 'worker: worker9, eaters'));
    const bad = await runCliAsync(['reload', '--manager', `ws://127.0.0.1:${managerPort}`, '--secret', ADMIN_SECRET]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/flows\[0\]\.components\[1\]\.type: unknown component type 'mulaw-encodr'/);
    expect(bad.stdout).toMatch(/flows\[0\]\.components\[2\]\.worker: unknown worker 'worker9'/);
    expect(bad.stdout).toBe((await runCliAsync(['check', file])).stdout); // exactly as `fluxcast check` prints them
    expect(bad.stderr).toMatch(/^error FLUX_PLANET_INVALID: the planet has 3 problem\(s\); nothing was changed/);
    expect(allHappy((await waitForStatus(managerPort, () => true, 5000))!)).toBe(true);
    expect(kept.socket.destroyed).toBe(false);
  });
});
