// fluxcast as an operator installs it: `npm pack`, then `npm install -g` of the tarball into a
// prefix of its own, run from folders that have nothing to do with the checkout. The tarball
// holds what runs (dist/, the web admin's files, the example planets) and nothing of the
// development tree; the install needs no devDependencies.
//
// `npm pack --ignore-scripts`: `npm test` has built dist/ already, and a build (the `prepare`
// script a plain `npm pack` runs) would rewrite dist/ under the other specs running meanwhile.
// The install takes its packages from npm's cache (filled by `npm ci`) first (--prefer-offline).

import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { get, rawRequest } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { freePort } from '../helpers/planet';

jest.setTimeout(240000);

const ROOT = path.resolve(__dirname, '../..');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function run(cmd: string, args: string[], cwd: string, timeout = 180000): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: cleanEnv(), timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** No FLUXCAST_* or NODE_PATH of ours: the installed command finds everything by itself. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLUXCAST_') && k !== 'NODE_PATH' && !k.startsWith('npm_')));
}

function started(cmd: string, args: string[], cwd: string): { child: ChildProcess; out: () => string } {
  const child = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const gone = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGINT');
  const t = setTimeout(() => child.kill('SIGKILL'), 10000);
  const code = await gone;
  clearTimeout(t);
  return code;
}

describe('fluxcast installed from its npm tarball', () => {
  let tmp: string;
  let tarball: string;
  let files: string[];
  let bin: string;
  let installed: string;
  /** A folder far from the checkout, where the operator works. */
  let elsewhere: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-pack-'));
    elsewhere = path.join(tmp, 'operator');
    fs.mkdirSync(elsewhere);
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT);
    expect(pack.status).toBe(0);
    const info = (JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>)[0];
    tarball = path.join(tmp, info.filename);
    files = info.files.map((f) => f.path);
    const prefix = path.join(tmp, 'prefix');
    const install = await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], elsewhere);
    if (install.status !== 0) throw new Error(`npm install -g failed: ${install.stderr}`);
    bin = path.join(prefix, 'bin', 'fluxcast');
    installed = path.join(prefix, 'lib', 'node_modules', 'fluxcast');
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('packs what runs, and nothing of the development tree', () => {
    for (const f of ['package.json', 'README.md', 'dist/cli/main.js', 'dist/transport/http/sender-child.js', 'dist/admin/page/app.js',
      'admin/page/index.html', 'admin/page/style.css', 'dist/actors/components/gst-packages.json', 'examples/planets/seed-scenario.yaml',
      'deploy/systemd/fluxcast-manager.service', 'deploy/systemd/fluxcast-worker@.service', 'deploy/systemd/fluxcast.default', 'deploy/systemd/fluxcast.sysusers']) {
      expect(files).toContain(f);
    }
    const stray = files.filter((f) => /^(spec|bench|dist\/bench|dist\/spec|\.ci|node_modules)\//.test(f) || (/\.ts$/.test(f) && !f.endsWith('.d.ts')) || f.endsWith('.map'));
    expect(stray).toEqual([]);
  });

  it('installs a fluxcast command with its runtime dependencies only', () => {
    expect(fs.existsSync(bin)).toBe(true);
    const modules = fs.readdirSync(path.join(installed, 'node_modules'));
    for (const dep of ['commander', 'nact', 'ws', 'zod', 'yaml', 'pino']) expect(modules).toContain(dep);
    for (const dev of ['typescript', 'jest', 'ts-jest', 'eslint', 'playwright-core']) expect(modules).not.toContain(dev);
  });

  it('tells its version from any folder', async () => {
    const r = await run(bin, ['--version'], os.tmpdir());
    expect(r).toMatchObject({ status: 0, stdout: `${VERSION}\n` });
  });

  it('checks an example planet copied elsewhere', async () => {
    fs.copyFileSync(path.join(installed, 'examples/planets/ogg-radio.yaml'), path.join(elsewhere, 'radio.yaml'));
    expect(await run(bin, ['check', 'radio.yaml'], elsewhere)).toMatchObject({ status: 0 });
    fs.writeFileSync(path.join(elsewhere, 'broken.yaml'), 'workers: [ { name: w } ]\nflows: [ { name: f, components: [ { name: a, type: no-such-type, worker: w } ] } ]\n');
    const bad = await run(bin, ['check', 'broken.yaml'], elsewhere);
    expect(bad.status).toBe(1);
    expect(bad.stdout + bad.stderr).toMatch(/no-such-type/);
  });

  it('runs a planet with `up` from another folder: the stream answers and the web admin is served', async () => {
    const [managerPort, httpPort, feed1, feed2] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const text = fs.readFileSync(path.join(installed, 'examples/planets/seed-scenario.yaml'), 'utf8')
      .replace('port: 7531', `port: ${managerPort}`)
      .replace('port: 8800', `port: ${httpPort}`)
      .replace('  - name: worker1\n', `  - name: worker1\n    feed-port: ${feed1}\n`)
      .replace('  - name: worker2\n', `  - name: worker2\n    feed-port: ${feed2}\n`);
    expect(text).toContain(`feed-port: ${feed2}`);
    fs.writeFileSync(path.join(elsewhere, 'seed.yaml'), text);
    const up = started(bin, ['up', 'seed.yaml'], elsewhere);
    try {
      await waitFor(() => up.out().includes(`listen at http://127.0.0.1:${httpPort}/live.wav`), 30000, 'the streamer happy');
      const r = await rawRequest(httpPort, get('/live.wav'));
      await waitFor(() => r.body().length > 44, 10000, 'audio');
      expect(r.body().subarray(0, 4).toString()).toBe('RIFF');
      r.socket.destroy();
      const auth = { Authorization: `Basic ${Buffer.from('admin:fluxcast-demo-admin').toString('base64')}`, Connection: 'close' };
      for (const [asset, type] of [['/admin/', 'text/html'], ['/admin/app.js', 'text/javascript'], ['/admin/style.css', 'text/css']]) {
        const a = await rawRequest(managerPort, get(asset, auth));
        await a.closed;
        expect([asset, a.status()]).toEqual([asset, 200]);
        expect(a.head()).toContain(`Content-Type: ${type}`);
      }
      expect(await stop(up.child)).toBe(0);
    } finally {
      up.child.kill('SIGKILL');
    }
  });

  it('launches components with sender processes from another folder', async () => {
    const port = await freePort();
    const launch = started(bin, ['launch', `test-audio ! mulaw-encoder ! wav-muxer ! http-streamer port=${port} mount-point=/a.wav processes=2`], elsewhere);
    try {
      await waitFor(() => launch.out().includes(`listen at http://127.0.0.1:${port}/a.wav`), 20000, 'the streamer happy');
      const r = await rawRequest(port, get('/a.wav'));
      await waitFor(() => r.body().length > 44, 10000, 'audio through a sender process');
      expect(r.body().subarray(0, 4).toString()).toBe('RIFF');
      r.socket.destroy();
      expect(await stop(launch.child)).toBe(0);
    } finally {
      launch.child.kill('SIGKILL');
    }
  });
});
