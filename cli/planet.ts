// `fluxcast check`, `manager`, `worker`, `status` and `component`: the planet commands (`up` is
// in up.ts).
// Each validates its arguments and files first and reports problems as `error CODE: message`.

import * as fs from 'fs';
import { FluxError, PROTOCOL_ERROR_CODES } from '../protocol/errors';
import { PlanetConfig, formatPath } from '../protocol/planet';
import { CheckOptions, checkPlanetText, formatIssue } from '../actors/planet/check';
import { COMPONENT_TYPES } from '../actors/components/registry';
import { Manager } from './manager-process';
import { Worker } from '../actors/worker/worker';
import { StatusJson, statusSchema } from '../protocol/status';
import { reloadSummary } from '../protocol/status';
import { adminRequest } from '../transport/admin-client';
import { CLI_ERROR_CODES, reportError } from './errors';
import { adminCommandSecret, managerAdminSecret, workerSecret } from './secrets';
import { drawTree, statusTree } from './tree';
import { stopWhenOrphaned } from './parent-watch';
import { LogOptions, makeLog } from './logging';
import { guardProcess } from './process-guard';
import { faultSocket } from './fault-socket';
import { readCa, readTls } from '../transport/tls';
import { SUPERVISION_ERROR_CODES } from '../actors/supervision';
import { EXIT_SOFTWARE } from '../actors/worker/manager-link';


function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new FluxError(CLI_ERROR_CODES.CANNOT_READ, `cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

export function loadPlanet(file: string, options: CheckOptions = {}): PlanetConfig {
  const { planet, issues } = checkPlanetText(readText(file), COMPONENT_TYPES, options);
  if (!planet) throw new FluxError(PROTOCOL_ERROR_CODES.PLANET_INVALID, `${file} has ${issues.length} problem(s):\n` + issues.map((i) => `  ${formatIssue(i)}`).join('\n'));
  return planet;
}

/** The private CA a wss:// manager's certificate is signed by: --ca-file, then $FLUXCAST_CA_FILE. */
export function caFor(opts: { caFile?: string }): Buffer | undefined {
  const file = opts.caFile ?? process.env.FLUXCAST_CA_FILE;
  return file ? readCa(file) : undefined;
}

/** Set by `up` for the processes it starts: they stop when `up` is gone. */
function stopWithParent(stop: () => void): void {
  if (process.env.FLUXCAST_EXIT_WITH_PARENT === '1') stopWhenOrphaned(stop);
}

/** `fluxcast check [--one-host] PLANET`; with --one-host, ports clash across workers as under `up`. */
export function check(file: string, options: CheckOptions = {}): number {
  const { issues, planet } = checkPlanetText(readText(file), COMPONENT_TYPES, options);
  if (!planet) {
    for (const i of issues) process.stdout.write(`${formatIssue(i)}\n`);
    process.stderr.write(`error ${PROTOCOL_ERROR_CODES.PLANET_INVALID}: ${file}: ${issues.length} problem(s)\n`);
    return 1;
  }
  const n = planet.flows.reduce((k, f) => k + f.components.length, planet.atmosphere.components.length);
  process.stdout.write(`${file}: ok (${planet.workers.length} workers, ${planet.flows.length} flows, ${n} components)\n`);
  return 0;
}

export async function runManager(opts: { planet: string; host?: string; port?: number; secret?: string; secretFile?: string; adminSecret?: string; adminSecretFile?: string } & LogOptions): Promise<void> {
  guardProcess('manager');
  const planet = loadPlanet(opts.planet);
  const log = makeLog(opts, { manager: planet.name });
  const m = new Manager(planet, {
    host: opts.host ?? planet.manager.host,
    port: opts.port ?? planet.manager.port,
    secret: workerSecret(opts, planet).secret,
    adminSecret: managerAdminSecret(opts, planet).secret,
    heartbeatIntervalMs: planet.manager['heartbeat-interval'],
    heartbeatTimeoutMs: planet.manager['heartbeat-timeout'],
    loginTimeoutMs: planet.manager['login-timeout'],
    maxPendingLogins: planet.manager['max-pending-logins'],
    planetFile: opts.planet,
    tls: planet.manager.tls ? readTls({ certFile: planet.manager.tls['cert-file'], keyFile: planet.manager.tls['key-file'], caFile: planet.manager.tls['ca-file'] }) : undefined,
    log,
    // At the root of the process, giving up ends it (70, EX_SOFTWARE): `up` or systemd starts it again.
    gaveUp: (e) => {
      reportError(new FluxError(SUPERVISION_ERROR_CODES.GAVE_UP, `manager: the supervision tree gave up: ${e.message}`));
      process.exit(EXIT_SOFTWARE);
    },
  });
  try {
    await m.listen();
  } catch (e) {
    await m.close();
    throw e;
  }
  faultSocket((path, msg) => m.sendAt(path, msg));
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void m.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // SIGHUP re-reads the planet file and applies the difference (as `fluxcast reload`).
  process.on('SIGHUP', () => {
    void m.reload().then((r) => log(r.ok ? `manager: SIGHUP: ${reloadSummary(r.result)}` : `manager: SIGHUP: reload refused: ${r.code}: ${r.message}${(r.issues ?? []).map((i) => `\n  ${formatIssue(i)}`).join('')}`));
  });
  stopWithParent(stop);
}

export async function runWorker(
  opts: { name: string; manager: string; feedPort?: number; feedHost: string; advertise?: string; secret?: string; secretFile?: string; checkInterval: number; caFile?: string; feedCert?: string; feedKey?: string; feedCa?: string } & LogOptions,
): Promise<void> {
  guardProcess(`worker ${opts.name}`);
  const feedFiles = [opts.feedCert, opts.feedKey, opts.feedCa];
  if (feedFiles.some(Boolean) && !feedFiles.every(Boolean)) throw new FluxError(CLI_ERROR_CODES.BAD_ARGUMENT, 'feeds over TLS need all of --feed-cert, --feed-key and --feed-ca');
  const feedTls = opts.feedCert && opts.feedKey && opts.feedCa ? readTls({ certFile: opts.feedCert, keyFile: opts.feedKey, caFile: opts.feedCa }) : undefined;
  const log = makeLog(opts);
  let w: Worker | null = null;
  let stopping = false;
  const stop = (code = 0) => {
    if (stopping) return;
    stopping = true;
    void (w ? w.shutdown() : Promise.resolve()).then(() => process.exit(code));
  };
  w = new Worker({
    name: opts.name,
    managerUrl: opts.manager,
    secret: workerSecret(opts).secret,
    feedHost: opts.feedHost,
    feedPort: opts.feedPort,
    advertiseHost: opts.advertise,
    checkIntervalMs: opts.checkInterval,
    managerCa: caFor(opts),
    feedTls,
    log,
    // A refusal no retry can cure exits 78 (EX_CONFIG: not restarted by `up` or systemd);
    // a supervision tree that gave up exits 70 (EX_SOFTWARE: restarted).
    fatal: (code, reason, exitCode) => {
      reportError(new FluxError(code, reason));
      stop(exitCode);
    },
  });
  try {
    await w.start();
  } catch (e) {
    await w.shutdown();
    throw e;
  }
  const started = w;
  faultSocket((path, msg) => started.sendAt(path, msg));
  process.once('SIGINT', () => stop());
  process.once('SIGTERM', () => stop());
  stopWithParent(() => stop());
}

function printStatus(s: StatusJson): void {
  const out: string[] = [`planet ${s.planet}`, 'workers:'];
  for (const w of s.workers) out.push(`  ${w.name.padEnd(16)} ${w.connected ? 'connected' : w.state}${w.host ? ` on ${w.host}` : ''}${w.pid ? ` (pid ${w.pid})` : ''}`);
  out.push('components:');
  for (const c of s.components) {
    const eaters = c.eaters.flatMap((e) => e.feeds.map((f) => `${e.name}<-${f.feedId}${f.connected ? '' : ' (down)'}`)).join(', ');
    const feeders = c.feeders.map((f) => `${f.name}:${f.clients} eater(s)`).join(', ');
    out.push(`  ${c.id.padEnd(28)} ${c.mood.padEnd(9)} ${c.type.padEnd(14)} on ${c.worker}${eaters ? `  eats ${eaters}` : ''}${feeders ? `  feeds ${feeders}` : ''}`);
    const d = c.details;
    // A streamer: each URL a listener can use, the primary first with the audience (and its peak).
    const [primary, ...more] = d?.urls ?? [];
    if (primary && c.type === 'http-streamer') {
      const peak = d?.peakClients !== undefined ? ` (peak ${d.peakClients}${d.peakTime ? ` at ${new Date(d.peakTime).toISOString().replace(/\.\d+Z$/, 'Z')}` : ''})` : '';
      out.push(`      ${primary}  ${d?.clients ?? 0} listener(s)${peak}, ${Math.round((d?.bitrateOut ?? 0) / 1000)} kbit/s out`);
    }
    const fb = d?.fallback;
    if (fb) {
      const where = fb.state === 'own' ? `on its own stream${fb.listeners ? ` (${fb.listeners} listener(s) still on fallbacks)` : ''}` : fb.state === 'fallback' ? `on fallback ${fb.servedBy ?? fb.mount} with ${fb.listeners} listener(s) moved` : `waiting: ${fb.error ?? 'no stream here nor on the fallback'}`;
      out.push(`      fallback ${fb.mount}: ${where}`);
    }
    if (d?.intro) out.push(`      intro ${d.intro.file}: ${d.intro.playing ? `${d.intro.format}, played ${d.intro.plays} time(s)` : (d.intro.error ?? 'not checked against the stream yet')}`);
    if (primary && c.type === 'whep-streamer') out.push(`      ${primary}  ${d?.clients ?? 0} WebRTC viewer(s) (peak ${d?.peakClients ?? 0}), ${d?.keyframeRequests ?? 0} keyframe request(s) from viewers, ${d?.keyframeRequestsUpstream ?? 0} sent upstream`);
    if (primary && c.type === 'hls-streamer') out.push(`      ${primary}  ${d?.clients ?? 0} player(s) in the last 30 s, ${d?.requests ?? 0} request(s)`);
    for (const u of primary ? more : []) out.push(`      ${u}`);
    if (d?.routes) out.push(`      ${d.url ?? 'porter'} routes: ${d.routes.length ? d.routes.map((r) => `${r.mount} → ${r.owner}`).join(', ') : '(none)'}`);
    const last = c.messages[c.messages.length - 1];
    if (last && last.level !== 'info') out.push(`      ${last.level}: ${last.text}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

export async function status(opts: { manager: string; json?: boolean; tree?: boolean; secret?: string; secretFile?: string; caFile?: string }): Promise<number> {
  const r = await adminRequest(opts.manager, adminCommandSecret(opts).secret, (requestId) => ({ type: 'status-request', requestId }), 5000, caFor(opts));
  if (r.type !== 'status') throw new FluxError(CLI_ERROR_CODES.CANNOT_CONNECT, 'unexpected answer');
  // Checked where it enters, like every answer: one schema for the CLI, the API and the page.
  const parsed = statusSchema.safeParse(r.status);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new FluxError(CLI_ERROR_CODES.CANNOT_CONNECT, `the manager's status is not one this CLI reads (${formatPath(i.path)}: ${i.message}); is it another version?`);
  }
  const s = parsed.data;
  if (opts.json) process.stdout.write(JSON.stringify(s) + '\n');
  else if (opts.tree) process.stdout.write(drawTree(statusTree(s)));
  else printStatus(s);
  return 0;
}

/**
 * `fluxcast reload [PLANET]`: the manager re-reads its planet file (or takes PLANET's text) and
 * applies the difference; an invalid planet is refused with every problem and nothing changes.
 */
export async function reload(file: string | undefined, opts: { manager: string; secret?: string; secretFile?: string; caFile?: string }): Promise<number> {
  const text = file === undefined ? undefined : readText(file);
  const r = await adminRequest(opts.manager, adminCommandSecret(opts).secret, (requestId) => ({ type: 'reload-request', requestId, planet: text }), 15000, caFor(opts));
  if (r.type !== 'reload-result') throw new FluxError(CLI_ERROR_CODES.CANNOT_CONNECT, 'unexpected answer');
  if (r.ok) {
    process.stdout.write(r.message + '\n');
    return 0;
  }
  for (const i of r.issues ?? []) process.stdout.write(`${formatIssue(i)}\n`);
  process.stderr.write(`error ${/^FLUX_[A-Z_]+:/.test(r.message) ? r.message : `FLUX_CLI_COMMAND_FAILED: ${r.message}`}\n`);
  return 1;
}

export async function componentCommand(action: 'start' | 'stop' | 'restart', id: string, opts: { manager: string; secret?: string; secretFile?: string; caFile?: string }): Promise<number> {
  if (!/^\/[^/\s]+\/[^/\s:]+$/.test(id)) throw new FluxError(CLI_ERROR_CODES.BAD_ARGUMENT, `component ids look like /flow/name, not '${id}'`);
  const r = await adminRequest(opts.manager, adminCommandSecret(opts).secret, (requestId) => ({ type: 'component-command', requestId, action, id }), 5000, caFor(opts));
  if (r.type !== 'command-result') throw new FluxError(CLI_ERROR_CODES.CANNOT_CONNECT, 'unexpected answer');
  (r.ok ? process.stdout : process.stderr).write(`${r.ok ? '' : 'error FLUX_CLI_COMMAND_FAILED: '}${r.message}\n`);
  return r.ok ? 0 : 1;
}
