// `npm run bench:planet [-- --runs 20 --workers 50 --components 1000 --seconds 20]`
// Control-plane figures with real processes:
//  1. time from a worker's login to all components happy (worker2 of the seed planet restarted);
//  2. time from the upstream's return (muxer happy) to the downstream happy (streamer), p50/p95;
//  3. time to detect a silent link (worker2 frozen with SIGSTOP: no FIN, no RST): manager marks
//     it lost (heartbeat timeout), the streamer goes hungry (eater check interval);
//  4. manager RSS and CPU with many workers and components (workers share one process here).
// Moods are read by polling the manager's status every 20 ms, so figures carry up to 20 ms of it.

import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { adminRequest } from '../transport/admin-client';
import { StatusJson } from '../protocol/status';
import { cpuSeconds, rssMB } from './procstat';
import { freePort } from './free-port';

const SECRET = 'bench-planet-secret';
const ADMIN_SECRET = 'bench-planet-admin-secret';
const CLI = path.resolve(__dirname, '../cli/main.js');

function num(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`error FLUX_CLI_BAD_ARGUMENT: --${name} needs a positive number\n`);
    process.exit(2);
  }
  return v;
}


function start(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env: { ...process.env, FLUXCAST_SECRET: SECRET, FLUXCAST_ADMIN_SECRET: ADMIN_SECRET }, stdio: ['ignore', 'ignore', 'pipe'] });
}

async function status(port: number): Promise<StatusJson | null> {
  try {
    const r = await adminRequest(`ws://127.0.0.1:${port}`, ADMIN_SECRET, (requestId) => ({ type: 'status-request', requestId }), 2000);
    return r.type === 'status' ? (r.status as StatusJson) : null;
  } catch {
    return null;
  }
}

/** Polls until pred holds; returns the time (ms, performance.now()) it was first seen. */
async function until(port: number, pred: (s: StatusJson) => boolean, timeoutMs = 30000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const s = await status(port);
    if (s && pred(s)) return performance.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('timed out');
}

const mood = (s: StatusJson, name: string) => s.components.find((c) => c.name === name)?.mood;
const allHappy = (s: StatusJson) => s.components.every((c) => c.mood === 'happy');
const connected = (s: StatusJson, w: string) => !!s.workers.find((x) => x.name === w)?.connected;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

async function seedFigures(runs: number): Promise<void> {
  const mport = await freePort();
  const hport = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-bench-planet-'));
  const planet = path.join(dir, 'planet.yaml');
  fs.writeFileSync(planet, fs.readFileSync(path.resolve(__dirname, '../../examples/planets/seed-scenario.yaml'), 'utf8').replace('port: 7531', `port: ${mport}`).replace('port: 8800', `port: ${hport}`));
  const manager = start(['manager', '--planet', planet]);
  const worker = (name: string) => start(['worker', '--name', name, '--manager', `ws://127.0.0.1:${mport}`, '--feed-port', '0']);
  const w1 = worker('worker1');
  let w2 = worker('worker2');
  try {
    await until(mport, allHappy);
    const login: number[] = [];
    const upstream: number[] = [];
    for (let i = 0; i < runs; i++) {
      w2.kill('SIGINT');
      await until(mport, (s) => mood(s, 'muxer') === 'sleeping' && mood(s, 'streamer') === 'hungry');
      w2 = worker('worker2');
      const tLogin = await until(mport, (s) => connected(s, 'worker2'));
      const tMuxer = await until(mport, (s) => mood(s, 'muxer') === 'happy');
      const tAll = await until(mport, allHappy);
      login.push(tAll - tLogin);
      upstream.push(tAll - tMuxer);
    }
    console.log(`1. worker login → all happy (${runs} runs): p50 ${pct(login, 0.5).toFixed(0)} ms, p95 ${pct(login, 0.95).toFixed(0)} ms, max ${Math.max(...login).toFixed(0)} ms`);
    console.log(`2. upstream happy → downstream happy (${runs} runs): p50 ${pct(upstream, 0.5).toFixed(0)} ms, p95 ${pct(upstream, 0.95).toFixed(0)} ms`);
    const silent: number[] = [];
    const hungry: number[] = [];
    for (let i = 0; i < Math.min(runs, 5); i++) {
      const t0 = performance.now();
      w2.kill('SIGSTOP');
      const tH = await until(mport, (s) => mood(s, 'streamer') === 'hungry');
      const tL = await until(mport, (s) => !connected(s, 'worker2') && mood(s, 'muxer') === 'lost');
      hungry.push(tH - t0);
      silent.push(tL - t0);
      w2.kill('SIGCONT');
      await until(mport, allHappy);
    }
    console.log(`3. silent link (SIGSTOP, ${silent.length} runs): manager marks the worker lost after p50 ${pct(silent, 0.5).toFixed(0)} ms (max ${Math.max(...silent).toFixed(0)}); the streamer is hungry after p50 ${pct(hungry, 0.5).toFixed(0)} ms`);
  } finally {
    for (const p of [w2, w1, manager]) p.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function scaleFigures(workers: number, components: number, seconds: number): Promise<void> {
  const mport = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-bench-planet-'));
  const perWorker = Math.max(2, Math.floor(components / workers / 2) * 2);
  const lines = [`name: scale`, `manager: { port: ${mport}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET} }`, 'workers:'];
  for (let w = 0; w < workers; w++) lines.push(`  - name: w${w}`);
  lines.push('flows:', '  - name: default', '    components:');
  let n = 0;
  for (let w = 0; w < workers; w++) {
    for (let k = 0; k < perWorker / 2; k++, n += 2) {
      lines.push(`      - { name: s${w}-${k}, type: test-audio, worker: w${w}, properties: { samples-per-buffer: 800 } }`);
      lines.push(`      - { name: e${w}-${k}, type: mulaw-encoder, worker: w${w}, eaters: { default: [s${w}-${k}] } }`);
    }
  }
  const planet = path.join(dir, 'planet.yaml');
  fs.writeFileSync(planet, lines.join('\n') + '\n');
  const manager = start(['manager', '--planet', planet]);
  const host = spawn(process.execPath, [path.join(__dirname, 'planet-workers.js'), '--manager', `ws://127.0.0.1:${mport}`, '--workers', String(workers)], { env: { ...process.env, FLUXCAST_SECRET: SECRET }, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const t0 = performance.now();
    await until(mport, (s) => s.workers.every((w) => w.connected) && allHappy(s), 120000);
    console.log(`4. ${workers} workers, ${n} components: all happy ${((performance.now() - t0) / 1000).toFixed(1)} s after start`);
    const pid = manager.pid as number;
    const c0 = cpuSeconds(pid);
    const start0 = performance.now();
    let maxRss = 0;
    while (performance.now() - start0 < seconds * 1000) {
      maxRss = Math.max(maxRss, rssMB(pid));
      await new Promise((r) => setTimeout(r, 500));
    }
    const cpu = cpuSeconds(pid) - c0;
    console.log(`   manager steady state over ${seconds} s: CPU ${((cpu / seconds) * 100).toFixed(1)}% of a core, RSS ${maxRss.toFixed(0)} MB`);
  } finally {
    host.kill('SIGKILL');
    manager.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await seedFigures(num('runs', 20));
  await scaleFigures(num('workers', 50), num('components', 1000), num('seconds', 20));
}

main().catch((e) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exit(1);
});
