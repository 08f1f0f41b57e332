// The systemd units of deploy/systemd as an operator installs them: systemd-analyze has nothing
// to say about them, their settings are the ones the README promises, and their ExecStart lines,
// expanded as systemd expands them (specifiers, the EnvironmentFile, credentials under %d), run a
// manager that answers and workers that log in; ExecReload reloads the planet; SIGTERM (what
// `systemctl stop` sends) stops them cleanly. /usr/local/bin/fluxcast (where `npm install -g`
// puts it on Debian) is the built CLI here.

import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI } from '../helpers/cli';
import { checkFluxcastArgs } from '../helpers/cli-args';
import { get, rawRequest } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, allHappy, freePort, SECRET, waitForStatus } from '../helpers/planet';
import { execArgv, parseEnvironmentFile, parseUnit, serviceEnvironment, Unit, values } from '../helpers/unit-file';

jest.setTimeout(60000);

const DIR = path.resolve(__dirname, '../../deploy/systemd');
const BIN = '/usr/local/bin/fluxcast';
const UNITS = ['fluxcast-manager.service', 'fluxcast-worker@.service'];
const read = (f: string) => fs.readFileSync(path.join(DIR, f), 'utf8');
const unit = (f: string): Unit => parseUnit(read(f));
const one = (u: Unit, section: string, key: string) => values(u, section, key).at(-1);

describe('deploy/systemd units', () => {
  it('restart on failure but not after exit status 78, as a user of their own with secrets from files', () => {
    for (const f of UNITS) {
      const u = unit(f);
      expect([f, one(u, 'Service', 'Restart')]).toEqual([f, 'on-failure']);
      expect([f, one(u, 'Service', 'RestartPreventExitStatus')?.split(/\s+/)]).toEqual([f, ['78']]);
      expect([f, one(u, 'Service', 'User'), one(u, 'Service', 'Group')]).toEqual([f, 'fluxcast', 'fluxcast']);
      expect(values(u, 'Service', 'LoadCredential')).toContain('workers.secret:/etc/fluxcast/workers.secret');
      expect(values(u, 'Service', 'EnvironmentFile')).toContain('-/etc/default/fluxcast');
      const exec = values(u, 'Service', 'ExecStart');
      expect(exec).toHaveLength(1);
      expect(exec[0]).toContain('--secret-file %d/workers.secret');
      expect(exec[0]).not.toMatch(/--secret |--admin-secret |FLUXCAST_SECRET|FLUXCAST_ADMIN_SECRET/);
      for (const [k, v] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['PrivateTmp', 'yes'], ['ProtectHome', 'yes']]) expect([f, k, one(u, 'Service', k)]).toEqual([f, k, v]);
      // Node's JIT (and GStreamer's ORC) write code: this one would kill them.
      expect(one(u, 'Service', 'MemoryDenyWriteExecute')).toBeUndefined();
      expect(one(u, 'Install', 'WantedBy')).toBe('multi-user.target');
    }
    const m = unit('fluxcast-manager.service');
    expect(values(m, 'Service', 'LoadCredential')).toContain('admin.secret:/etc/fluxcast/admin.secret');
    expect(one(m, 'Service', 'ExecStart')).toContain('--admin-secret-file %d/admin.secret');
    const w = unit('fluxcast-worker@.service');
    // SIGTERM to the worker alone: it stops its GStreamer children in order.
    expect(one(w, 'Service', 'KillMode')).toBe('mixed');
    expect(one(w, 'Service', 'StateDirectory')).toBe('fluxcast');
    expect(read('fluxcast.sysusers')).toMatch(/^u fluxcast /m);
    expect(Object.keys(parseEnvironmentFile(read('fluxcast.default'))).sort()).toEqual(['FLUXCAST_MANAGER_OPTS', 'FLUXCAST_MANAGER_URL', 'FLUXCAST_PLANET', 'FLUXCAST_WORKER_OPTS']);
  });

  it('start fluxcast subcommands with options that exist', () => {
    // The check itself tells a wrong line from a right one.
    expect(checkFluxcastArgs(['manager', '--plant', 'p.yaml']).problems).toEqual([
      "'fluxcast manager' has no option --plant", "'fluxcast manager' takes 0 argument(s), given p.yaml", "'fluxcast manager' needs --planet",
    ]);
    expect(checkFluxcastArgs(['workers', '--name', 'w']).problems).toEqual(["no subcommand 'workers' of 'fluxcast'"]);
    expect(checkFluxcastArgs(['check', 'a.yaml', 'b.yaml']).problems).toEqual(["'fluxcast check' takes 1 argument(s), given a.yaml b.yaml"]);
    const env = parseEnvironmentFile(read('fluxcast.default'));
    for (const [f, sub] of [['fluxcast-manager.service', 'manager'], ['fluxcast-worker@.service', 'worker']]) {
      const argv = execArgv(one(unit(f), 'Service', 'ExecStart')!, { i: 'worker1', d: '/run/credentials/x', N: 'x' }, env);
      expect(argv[0]).toBe(BIN);
      const checked = checkFluxcastArgs(argv.slice(1));
      expect(checked.problems).toEqual([]);
      expect(checked.command).toEqual([sub]);
    }
  });

  const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  if (!analyze && !process.env.CI) console.warn('NOTICE: systemd-analyze not installed; skipping `systemd-analyze verify` of deploy/systemd (apt-get install systemd)');
  (analyze || process.env.CI ? it : it.skip)('pass systemd-analyze verify without a word', () => {
    if (!analyze) throw new Error('systemd-analyze is required in CI (apt-get install systemd)');
    // verify insists that the command exists: the built CLI, run by this node, stands in for /usr/local/bin/fluxcast.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-units-'));
    try {
      for (const f of UNITS) fs.writeFileSync(path.join(dir, f), read(f).split(BIN).join(`${process.execPath} ${CLI}`));
      for (const f of [...UNITS, 'fluxcast-worker@worker1.service']) {
        if (f.includes('@worker1')) fs.copyFileSync(path.join(dir, 'fluxcast-worker@.service'), path.join(dir, f));
        const r = spawnSync('systemd-analyze', ['verify', path.join(dir, f)], { encoding: 'utf8' });
        expect({ f, status: r.status, out: r.stdout + r.stderr }).toEqual({ f, status: 0, out: '' });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/systemd ExecStart lines, run as systemd runs them', () => {
  let tmp: string;
  let creds: string;
  let planetFile: string;
  let managerPort: number;
  let httpPort: number;
  const procs: ChildProcess[] = [];

  const planet = (extra = '') => `
name: production
manager: { host: 127.0.0.1, port: ${managerPort} }
workers: [ { name: worker1 }, { name: worker2 } ]
flows:
  - name: default
    components:
      - { name: source, type: test-audio, worker: worker1 }
      - { name: encoder, type: mulaw-encoder, worker: worker1, eaters: { default: [source] } }
      - { name: muxer, type: wav-muxer, worker: worker2, eaters: { default: [encoder] } }
      - { name: streamer, type: http-streamer, worker: worker1, properties: { port: ${httpPort}, mount-point: /live.wav }, eaters: { default: [muxer] } }
${extra}`;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-systemd-'));
    // What LoadCredential= makes of /etc/fluxcast/*.secret: files named after the credential, under %d.
    creds = path.join(tmp, 'credentials');
    fs.mkdirSync(creds, { mode: 0o700 });
    fs.writeFileSync(path.join(creds, 'workers.secret'), `${SECRET}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(creds, 'admin.secret'), `${ADMIN_SECRET}\n`, { mode: 0o600 });
    managerPort = await freePort();
    httpPort = await freePort();
    planetFile = path.join(tmp, 'planet.yaml');
    fs.writeFileSync(planetFile, planet());
  });
  afterAll(() => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** /etc/default/fluxcast as shipped, with this test's planet and manager address. */
  function defaults(): string {
    return read('fluxcast.default')
      .replace(/^FLUXCAST_PLANET=.*$/m, `FLUXCAST_PLANET=${planetFile}`)
      .replace(/^FLUXCAST_MANAGER_URL=.*$/m, `FLUXCAST_MANAGER_URL=ws://127.0.0.1:${managerPort}`)
      .replace(/^FLUXCAST_WORKER_OPTS=.*$/m, 'FLUXCAST_WORKER_OPTS=--feed-port 0 --check-interval 1500');
  }

  function start(file: string, instance: string): { child: ChildProcess; log: () => string; argv: string[]; env: Record<string, string> } {
    const u = unit(file);
    const spec = { i: instance, I: instance, d: creds, N: file.replace('@.service', `@${instance}`).replace('.service', ''), n: file.replace('@.', `@${instance}.`) };
    const env = serviceEnvironment(u, (f) => (f === '/etc/default/fluxcast' ? defaults() : null), spec);
    const argv = execArgv(one(u, 'Service', 'ExecStart')!, spec, env);
    expect(argv[0]).toBe(BIN);
    // A service's environment: its own settings, PATH, and CREDENTIALS_DIRECTORY; nothing of ours.
    const child = spawn(process.execPath, [CLI, ...argv.slice(1)], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', CREDENTIALS_DIRECTORY: creds, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.push(child);
    let log = '';
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    return { child, log: () => log, argv, env };
  }

  const exit = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

  it('run a manager that answers, workers that log in and a stream that plays; reload and stop as systemctl does', async () => {
    const manager = start('fluxcast-manager.service', '');
    expect(manager.argv).toEqual([BIN, 'manager', '--planet', planetFile, '--secret-file', `${creds}/workers.secret`, '--admin-secret-file', `${creds}/admin.secret`, '--log-format', 'json']);
    await waitFor(() => manager.log().includes("planet 'production'"), 15000, 'the manager up');
    const workers = ['worker1', 'worker2'].map((name) => start('fluxcast-worker@.service', name));
    expect(workers[0].argv).toEqual([BIN, 'worker', '--name', 'worker1', '--manager', `ws://127.0.0.1:${managerPort}`, '--secret-file', `${creds}/workers.secret`, '--log-format', 'json', '--feed-port', '0', '--check-interval', '1500']);
    const s = await waitForStatus(managerPort, (st) => st.workers.every((w) => w.connected) && allHappy(st), 20000, 'workers in, all happy');
    expect(s.workers.map((w) => w.name).sort()).toEqual(['worker1', 'worker2']);
    // JSON lines for the journal, each naming its worker.
    const line = workers[0].log().split('\n').find((l) => l.startsWith('{'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ worker: 'worker1' });
    const r = await rawRequest(httpPort, get('/live.wav'));
    await waitFor(() => r.body().length > 44, 10000, 'audio');
    expect(r.body().subarray(0, 4).toString()).toBe('RIFF');
    r.socket.destroy();

    // ExecReload, with $MAINPID: the manager re-reads the planet.
    fs.writeFileSync(planetFile, planet('      - { name: second, type: test-audio, worker: worker2 }'));
    const reload = execArgv(one(unit('fluxcast-manager.service'), 'Service', 'ExecReload')!, {}, { MAINPID: String(manager.child.pid) });
    expect(spawnSync(reload[0], reload.slice(1)).status).toBe(0);
    await waitForStatus(managerPort, (st) => st.components.some((c) => c.name === 'second' && c.mood === 'happy'), 15000, 'the reloaded planet running');

    // `systemctl stop`: SIGTERM to the main process (KillMode=mixed for workers).
    for (const w of workers) w.child.kill('SIGTERM');
    expect(await Promise.all(workers.map((w) => exit(w.child)))).toEqual([0, 0]);
    manager.child.kill('SIGTERM');
    expect(await exit(manager.child)).toBe(0);
  });

  it('a worker whose credential is missing stops at once, naming the file', async () => {
    const saved = path.join(tmp, 'saved.secret');
    fs.renameSync(path.join(creds, 'workers.secret'), saved);
    try {
      const worker = start('fluxcast-worker@.service', 'worker1');
      const code = await exit(worker.child);
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(worker.log()).toMatch(/^error FLUX_CLI_[A-Z_]+: .*workers\.secret/m);
    } finally {
      fs.renameSync(saved, path.join(creds, 'workers.secret'));
    }
  });
});
