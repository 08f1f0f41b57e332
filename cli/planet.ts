// `fluxcast check`, `manager`, `worker`, `status`, `component` and `up`: the planet commands.
// Each validates its arguments and files first and reports problems as `error CODE: message`.

import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { FluxError, PROTOCOL_ERROR_CODES } from '../protocol/errors';
import { PlanetConfig } from '../protocol/planet';
import { checkPlanetText } from '../actors/planet/check';
import { COMPONENT_TYPES } from '../actors/components/registry';
import { Manager } from '../actors/manager/manager';
import { Worker } from '../actors/worker/worker';
import { StatusJson } from '../actors/manager/planet-actor';
import { adminRequest } from '../transport/admin-client';
import { CLI_ERROR_CODES } from './errors';

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new FluxError(CLI_ERROR_CODES.CANNOT_READ, `cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

export function loadPlanet(file: string): PlanetConfig {
  const { planet, issues } = checkPlanetText(readText(file), COMPONENT_TYPES);
  if (!planet) throw new FluxError(PROTOCOL_ERROR_CODES.PLANET_INVALID, `${file} has ${issues.length} problem(s):\n` + issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'));
  return planet;
}

/** The shared secret: --secret, --secret-file, $FLUXCAST_SECRET, then the planet's. */
export function resolveSecret(opts: { secret?: string; secretFile?: string }, planet?: PlanetConfig): string {
  if (opts.secret) return opts.secret;
  const file = opts.secretFile ?? planet?.manager['secret-file'];
  if (file) {
    try {
      return fs.readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new FluxError(CLI_ERROR_CODES.CANNOT_READ, `cannot read secret file '${file}': ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
  }
  const s = process.env.FLUXCAST_SECRET ?? planet?.manager.secret;
  if (!s) throw new FluxError(CLI_ERROR_CODES.NO_SECRET, 'no secret: use --secret, --secret-file or FLUXCAST_SECRET');
  return s;
}

export function check(file: string): number {
  const { issues, planet } = checkPlanetText(readText(file), COMPONENT_TYPES);
  if (!planet) {
    for (const i of issues) process.stdout.write(`${i.path}: ${i.message}\n`);
    process.stderr.write(`error ${PROTOCOL_ERROR_CODES.PLANET_INVALID}: ${file}: ${issues.length} problem(s)\n`);
    return 1;
  }
  const n = planet.flows.reduce((k, f) => k + f.components.length, planet.atmosphere.components.length);
  process.stdout.write(`${file}: ok (${planet.workers.length} workers, ${planet.flows.length} flows, ${n} components)\n`);
  return 0;
}

export async function runManager(opts: { planet: string; host?: string; port?: number; secret?: string; secretFile?: string }): Promise<void> {
  const planet = loadPlanet(opts.planet);
  const m = new Manager(planet, {
    host: opts.host ?? planet.manager.host,
    port: opts.port ?? planet.manager.port,
    secret: resolveSecret(opts, planet),
    heartbeatIntervalMs: planet.manager['heartbeat-interval'],
    heartbeatTimeoutMs: planet.manager['heartbeat-timeout'],
    log,
  });
  await m.listen();
  const stop = () => void m.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export async function runWorker(opts: { name: string; manager: string; feedPort: number; feedHost: string; advertise?: string; secret?: string; secretFile?: string; checkInterval: number }): Promise<void> {
  const w = new Worker({
    name: opts.name,
    managerUrl: opts.manager,
    secret: resolveSecret(opts),
    feedHost: opts.feedHost,
    feedPort: opts.feedPort,
    advertiseHost: opts.advertise,
    checkIntervalMs: opts.checkInterval,
    log,
  });
  await w.start();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void w.shutdown().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function printStatus(s: StatusJson): void {
  process.stdout.write(`planet ${s.planet}\nworkers:\n`);
  for (const w of s.workers) process.stdout.write(`  ${w.name.padEnd(16)} ${w.connected ? 'connected' : 'disconnected'}${w.host ? ` on ${w.host}` : ''}${w.pid ? ` (pid ${w.pid})` : ''}\n`);
  process.stdout.write('components:\n');
  for (const c of s.components) {
    const eaters = c.eaters.flatMap((e) => e.feeds.map((f) => `${e.name}<-${f.feedId}${f.connected ? '' : ' (down)'}`)).join(', ');
    const feeders = c.feeders.map((f) => `${f.name}:${f.clients} eater(s)`).join(', ');
    process.stdout.write(`  ${c.id.padEnd(28)} ${c.mood.padEnd(9)} ${c.type.padEnd(14)} on ${c.worker}${eaters ? `  eats ${eaters}` : ''}${feeders ? `  feeds ${feeders}` : ''}\n`);
    const last = c.messages[c.messages.length - 1];
    if (last && last.level !== 'info') process.stdout.write(`      ${last.level}: ${last.text}\n`);
  }
}

export async function status(opts: { manager: string; json?: boolean; secret?: string; secretFile?: string }): Promise<number> {
  const r = await adminRequest(opts.manager, resolveSecret(opts), (requestId) => ({ type: 'status-request', requestId }));
  if (r.type !== 'status') throw new FluxError(CLI_ERROR_CODES.CANNOT_CONNECT, 'unexpected answer');
  if (opts.json) process.stdout.write(JSON.stringify(r.status) + '\n');
  else printStatus(r.status as StatusJson);
  return 0;
}

export async function componentCommand(action: 'start' | 'stop' | 'restart', id: string, opts: { manager: string; secret?: string; secretFile?: string }): Promise<number> {
  if (!/^\/[^/\s]+\/[^/\s:]+$/.test(id)) throw new FluxError(CLI_ERROR_CODES.BAD_ARGUMENT, `component ids look like /flow/name, not '${id}'`);
  const r = await adminRequest(opts.manager, resolveSecret(opts), (requestId) => ({ type: 'component-command', requestId, action, id }));
  if (r.type !== 'command-result') throw new FluxError(CLI_ERROR_CODES.CANNOT_CONNECT, 'unexpected answer');
  (r.ok ? process.stdout : process.stderr).write(`${r.ok ? '' : 'error FLUX_CLI_COMMAND_FAILED: '}${r.message}\n`);
  return r.ok ? 0 : 1;
}

/**
 * `fluxcast up PLANET`: a manager and every worker of the planet as child processes on this
 * host; prints what runs where and the streams' URLs; Ctrl-C stops everything cleanly.
 */
export async function up(file: string, opts: { secret?: string }): Promise<void> {
  const planet = loadPlanet(file);
  const secret = resolveSecret(opts, planet);
  const cli = path.join(__dirname, 'main.js');
  const env = { ...process.env, FLUXCAST_SECRET: secret };
  const children: ChildProcess[] = [];
  const url = `ws://${planet.manager.host}:${planet.manager.port}`;
  const run = (args: string[], label: string) => {
    const c = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'inherit', 'pipe'] });
    c.stderr?.on('data', (d: Buffer) => process.stderr.write(d.toString().replace(/^(?=.)/gm, `[${label}] `)));
    children.push(c);
    return c;
  };
  run(['manager', '--planet', file], 'manager');
  await new Promise((r) => setTimeout(r, 500));
  for (const w of planet.workers) run(['worker', '--name', w.name, '--manager', url, '--feed-port', String(w['feed-port'] ?? 0)], w.name);
  process.stdout.write(`fluxcast up: planet '${planet.name}', manager ${url}\n`);
  for (const f of planet.flows) {
    for (const c of f.components) {
      const props = c.properties as Record<string, unknown>;
      const where = c.type === 'http-streamer' ? `  http://${props.host ?? '127.0.0.1'}:${props.port ?? 8800}${props['mount-point'] ?? '/'}` : '';
      process.stdout.write(`  /${f.name}/${c.name} (${c.type}) on ${c.worker}${where}\n`);
    }
  }
  process.stdout.write(`status: npx fluxcast status --manager ${url}\nCtrl-C stops everything.\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const workers = children.slice(1);
    for (const c of workers) c.kill('SIGINT');
    void Promise.all(workers.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r))))).then(() => {
      children[0].kill('SIGINT');
      children[0].once('exit', () => process.exit(0));
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
