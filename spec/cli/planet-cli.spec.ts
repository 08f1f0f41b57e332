// The planet commands as a new user meets them: busy ports give one coded line, two workers
// share a host with default flags, a closed stdout ends `status` quietly, `up` stops with its
// manager's error, a planet without a secret runs with --secret, launch prints a streamer's
// URL only once it is happy (and a sad one's reason instead; never 0.0.0.0), and `check` names
// port and mount clashes with their codes.
import { execFile } from 'child_process';
import * as net from 'net';
import { CLI, runCli } from '../helpers/cli';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, allHappy, freePort, run, seedPlanet, waitForStatus, writePlanet } from '../helpers/planet';
import { advertisedAddress, listenerAddress } from '../../actors/worker/worker';
import { get, rawRequest } from '../helpers/http';
import { FeedServer } from '../../transport/feed/feed-server';

jest.setTimeout(60000);

const procs: Proc[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});
const start = (args: string[], env: Record<string, string> = {}) => {
  const p = run(args, env);
  procs.push(p);
  return p;
};

async function busyPort(): Promise<{ port: number; close: () => void }> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as net.AddressInfo).port, close: () => s.close() };
}

describe('fluxcast planet commands', () => {
  it('reports a busy manager port as one coded line and exits 1', async () => {
    const busy = await busyPort();
    const planet = writePlanet(seedPlanet(busy.port, await freePort()));
    const r = runCli(['manager', '--planet', planet]);
    busy.close();
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`error FLUX_MANAGER_ADDRESS_IN_USE: 127.0.0.1:${busy.port} is in use (another manager?)`);
  });

  it('reports a busy pinned feed port, and an exhausted range, naming the flag', async () => {
    const busy = await busyPort();
    const r = runCli(['worker', '--name', 'w', '--feed-port', String(busy.port), '--secret', SECRET]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`error FLUX_FEED_ADDRESS_IN_USE: 127.0.0.1:${busy.port} is in use (another worker? choose one with --feed-port)`);
    const server = new FeedServer({ port: { from: busy.port, to: busy.port }, secret: SECRET }, { eat: () => null, feed: () => null });
    await expect(server.listen()).rejects.toMatchObject({ code: 'FLUX_FEED_NO_FREE_PORT', message: `no free port in ${busy.port}-${busy.port} on 127.0.0.1 (pin one with --feed-port)` });
    busy.close();
  });

  it('runs two workers on one host with default flags: each takes the first free feed port of 8600-8639', async () => {
    const managerPort = await freePort();
    const planet = writePlanet(seedPlanet(managerPort, await freePort()));
    start(['manager', '--planet', planet]);
    start(['worker', '--name', 'worker1', '--manager', `ws://127.0.0.1:${managerPort}`]);
    start(['worker', '--name', 'worker2', '--manager', `ws://127.0.0.1:${managerPort}`]);
    const s = await waitForStatus(managerPort, (x) => x.workers.every((w) => w.connected) && x.components.every((c) => c.mood === 'happy'), 15000, 'both workers in, all happy');
    const ports = s.workers.map((w) => w.feedPort!);
    expect(new Set(ports).size).toBe(2);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(8600);
      expect(p).toBeLessThanOrEqual(8639);
    }
  });

  it('ends `status | head -1` quietly', async () => {
    const managerPort = await freePort();
    // Enough components that the status outgrows the pipe's buffer, so head really closes it early.
    const many = Array.from({ length: 1500 }, (_, i) => `      - { name: tone${i}, type: test-audio, worker: worker1 }`).join('\n');
    start(['manager', '--planet', writePlanet(seedPlanet(managerPort, await freePort()) + many + '\n')]);
    await waitForStatus(managerPort, () => true, 10000, 'manager up');
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${CLI}" status --manager ws://127.0.0.1:${managerPort} --secret ${ADMIN_SECRET} | head -1`], (err, stdout, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr }));
    });
    expect(r.stdout).toBe('planet seed\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('runs a planet without a secret when --secret or FLUXCAST_SECRET gives one, and says so when none does', async () => {
    const managerPort = await freePort();
    const planet = writePlanet(seedPlanet(managerPort, await freePort()).replace(`, secret: ${SECRET}`, ''));
    expect(runCli(['check', planet]).status).toBe(0);
    const none = runCli(['manager', '--planet', planet]);
    expect(none.stderr).toMatch(/^error FLUX_CLI_NO_SECRET: no secret: use --secret, --secret-file or FLUXCAST_SECRET/);
    start(['manager', '--planet', planet, '--secret', SECRET]);
    await waitForStatus(managerPort, () => true, 10000, 'manager up with --secret');
  });

  it('`up` stops with its manager\'s error when the manager cannot start, and starts no worker', async () => {
    const busy = await busyPort();
    const r = runCli(['up', writePlanet(seedPlanet(busy.port, await freePort()))]);
    busy.close();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error FLUX_MANAGER_ADDRESS_IN_USE: 127\\.0\\.0\\.1:${busy.port} is in use \\(another manager\\?\\)$`, 'm'));
    expect(r.stdout).not.toMatch(/listen at/);
    expect(r.stderr).not.toMatch(/\[worker1\]/);
  });

  it('launch prints a sad streamer\'s reason and never its URL', async () => {
    const busy = await busyPort();
    const p = start(['launch', `test-audio ! mulaw-encoder ! wav-muxer ! http-streamer port=${busy.port}`]);
    await waitFor(() => /http-streamer\d*: sad \(restarted 5 times within 30 s; last error: .*FLUX_HTTP_ADDRESS_IN_USE/.test(p.log.join('')), 30000, 'the streamer sad');
    busy.close();
    expect(p.log.join('')).not.toMatch(/listen at/);
    expect(p.log.join('')).toMatch(/test-audio\d*: happy/);
  });

  it('logs JSON lines that say which worker and component each concerns, at the level asked for', async () => {
    const managerPort = await freePort();
    start(['manager', '--planet', writePlanet(seedPlanet(managerPort, await freePort())), '--log-format', 'json']);
    const w = start(['worker', '--name', 'worker1', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0', '--log-format', 'json']);
    const quiet = start(['worker', '--name', 'worker2', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0', '--log-format', 'json', '--log-level', 'warn']);
    await waitFor(() => /"component":"\/default\/streamer"/.test(w.log.join('')), 15000, 'a component line');
    const lines = w.log.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; worker?: string; component?: string; msg: string });
    expect(lines.every((l) => l.worker === 'worker1')).toBe(true);
    expect(lines.find((l) => l.component === '/default/streamer')?.msg).toMatch(/streaming at http:\/\/127\.0\.0\.1:\d+\/live\.wav/);
    // The quiet worker has logged in and runs its muxer (it had things to say at info level by now).
    await waitForStatus(managerPort, allHappy, 15000, 'all happy');
    expect(quiet.log.join('')).toBe(''); // nothing at warn or above happened there
    expect(runCli(['worker', '--name', 'x', '--log-format', 'xml']).stderr).toMatch(/option '--log-format <format>' argument 'xml' is invalid\. expected one of json, pretty/);
  });

  it('`check` names each port clash with both components and its code; --one-host and `up` count every worker on this machine', async () => {
    const [managerPort, p1] = await Promise.all([freePort(), freePort()]);
    const twoOn = (w2: string) => writePlanet(seedPlanet(managerPort, p1) + `      - { name: twin, type: http-streamer, worker: ${w2}, properties: { port: ${p1}, mount-point: /twin.wav }, eaters: { default: [muxer] } }\n`);
    const same = twoOn('worker1');
    const r = runCli(['check', same]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(`flows[0].components[4].properties.port: port ${p1} on worker1 is also used by /default/streamer (http-streamer) [FLUX_PLANET_PORT_CLASH]\n`);
    expect(r.stderr).toBe(`error FLUX_PLANET_INVALID: ${same}: 1 problem(s)\n`);
    // On two workers: check cannot know they share a machine; --one-host says they do, as `up` runs them.
    const across = twoOn('worker2');
    expect(runCli(['check', across]).status).toBe(0);
    const oneHost = runCli(['check', '--one-host', across]);
    expect(oneHost.status).toBe(1);
    expect(oneHost.stdout).toBe(`flows[0].components[4].properties.port: port ${p1} on worker2 is also used by /default/streamer (http-streamer) on worker1 (every worker runs on this machine) [FLUX_PLANET_PORT_CLASH]\n`);
    const up = runCli(['up', across]);
    expect(up.status).toBe(1);
    expect(up.stderr).toBe(`error FLUX_PLANET_INVALID: ${across} has 1 problem(s):\n  ${oneHost.stdout}`);
    expect(up.stdout).toBe(''); // nothing started
  });

  it('`check` refuses two streamers on one path of a porter, and a porter of another worker, with their codes', () => {
    const planet = writePlanet(`
manager: { secret: ${SECRET} }
workers: [ { name: w1 }, { name: w2 } ]
flows:
  - name: radio
    components:
      - { name: src, type: test-audio, worker: w1 }
      - { name: front, type: porter, worker: w1, properties: { port: 8800 } }
      - { name: a, type: http-streamer, worker: w1, properties: { porter: front, mount-point: /live.wav }, eaters: { default: [src] } }
      - { name: b, type: http-streamer, worker: w1, properties: { porter: front, mount-point: /live.wav }, eaters: { default: [src] } }
      - { name: c, type: http-streamer, worker: w2, properties: { porter: front, mount-point: /c.wav }, eaters: { default: [src] } }
`);
    const r = runCli(['check', planet]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe([
      "flows[0].components[3].properties.mount-point: porter 'front' already has /live.wav mounted by /radio/a (http-streamer) [FLUX_PLANET_MOUNT_CLASH]",
      "flows[0].components[4].properties.porter: porter 'front' runs on w1, not on w2 with this streamer [FLUX_PLANET_BAD_PORTER]",
      '',
    ].join('\n'));
  });

  it('launch shows a streamer bound to every interface at this machine\'s address, never 0.0.0.0', async () => {
    const port = await freePort();
    const p = start(['launch', `test-audio ! mulaw-encoder ! wav-muxer ! http-streamer host=0.0.0.0 port=${port} mount-point=/live.wav`]);
    const host = listenerAddress('127.0.0.1');
    await waitFor(() => p.log.join('').includes(`listen at http://${host}:${port}/live.wav`), 15000, 'the URL at this machine\'s address');
    expect(p.log.join('')).not.toMatch(/0\.0\.0\.0/);
    const r = await rawRequest(port, get('/live.wav'));
    await waitFor(() => r.body().length > 100, 5000, 'data');
    r.socket.destroy();
    expect(r.status()).toBe(200);
    expect(r.body().subarray(0, 4).toString()).toBe('RIFF');
  });

  it('shows sockets on every interface at --advertise, else at an outward feed host, else at this machine\'s first outward address', () => {
    expect(listenerAddress('127.0.0.1', 'radio.example.org')).toBe('radio.example.org');
    expect(listenerAddress('10.1.2.3')).toBe('10.1.2.3');
    expect(listenerAddress('127.0.0.1')).toBe(advertisedAddress('0.0.0.0'));
    expect(listenerAddress('0.0.0.0')).toBe(advertisedAddress('0.0.0.0'));
    expect(listenerAddress('0.0.0.0')).not.toBe('0.0.0.0');
  });

  it('advertises a real address when the feed server listens on every interface', () => {
    expect(advertisedAddress('127.0.0.1')).toBe('127.0.0.1');
    expect(advertisedAddress('0.0.0.0', 'feeds.example.org')).toBe('feeds.example.org');
    const a = advertisedAddress('0.0.0.0');
    expect(a).not.toBe('0.0.0.0');
    expect(a).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });
});
