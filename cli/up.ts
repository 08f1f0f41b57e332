// `fluxcast up PLANET`: a one-host planet in production. `up` is the root supervisor of the
// planet's processes: the manager and every worker of the planet run as its children (actors of
// the supervision module, one_for_one, each child permanent), so a child that dies is started
// again after a jittered backoff, reported in `up`'s output and in status (`upRestarts`), and
// too many deaths within a minute make `up` itself give up (exit 70, for systemd). A child that
// exits 78 (EX_CONFIG: a refusal no restart can cure, such as a refused worker) is not started
// again. The manager comes first: if its first run cannot start (its port is taken...), `up`
// stops at once with the manager's own error and starts no worker. Ctrl-C or SIGTERM stops the
// workers cleanly, then the manager; if `up` itself is killed, its children notice and stop.

import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { FluxError } from '../protocol/errors';
import { StatusJson, statusSchema } from '../protocol/status';
import { adminRequest } from '../transport/admin-client';
import { readCa } from '../transport/tls';
import { ActorDef, ChildSpec, Root, SUPERVISION_ERROR_CODES, rootCause, startRoot } from '../actors/supervision';
import { EXIT_CONFIG, EXIT_SOFTWARE } from '../actors/worker/manager-link';
import { CLI_ERROR_CODES, reportError } from './errors';
import { Secret, managerAdminSecret, workerSecret } from './secrets';
import { stopWhenOrphaned } from './parent-watch';
import { LogOptions } from './logging';
import { guardProcess } from './process-guard';
import { loadPlanet } from './planet';

/** How `up` restarts its children: 250 ms doubling to 5 s; more than 10 deaths within a minute and it gives up. */
export const UP_FLAGS = {
  strategy: 'one_for_one' as const,
  intensity: 10,
  periodMs: 60000,
  backoff: { initialMs: 250, maxMs: 5000, factor: 2, jitter: 0.3 },
  resetAfterMs: 30000,
};

/** The last `error CODE: message` line a child printed, as an error of ours. */
function childError(lines: string[], fallback: string): FluxError {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^error (FLUX_[A-Z_]+): (.*)$/.exec(lines[i]);
    if (m) return new FluxError(m[1], m[2]);
  }
  return new FluxError(CLI_ERROR_CODES.CHILD_FAILED, fallback);
}

function secretHint(src: Secret): string {
  if (src.source.startsWith('FLUXCAST_')) return '';
  if (src.file) return ` --secret-file ${src.file}`;
  return ` --secret ${src.secret}`;
}

/** A child process's exit, as a crash of its actor. */
class ProcessExited extends Error {
  constructor(
    readonly label: string,
    readonly code: number | null,
    readonly signal: string | null,
    readonly lastError: FluxError,
  ) {
    super(`${label} exited (${signal ?? `code ${code}`}): ${lastError.code}: ${lastError.message}`);
  }
}

interface ProcArgs {
  label: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Runs so far (each after the first is a restart, said in its environment for its status). */
  runs: { n: number };
  /** The child's log lines as they come (the manager's readiness is one). */
  onLine?(line: string): void;
  /** The process ended (whatever follows), with the last error it printed. */
  onExit?(why: FluxError): void;
  print(line: string): void;
}

/**
 * One child process as an actor: it starts the process, and the process's end is the actor's:
 * 78 ends it normally (not restarted: its restart type is transient), anything else crashes it
 * (restarted after the backoff). Its teardown stops the process: SIGINT, SIGKILL after 10 s.
 */
function processDef(a: ProcArgs): ActorDef<ChildProcess, { type: 'exited'; code: number | null; signal: string | null }> {
  const lines: string[] = [];
  return {
    init(ctx) {
      const restarts = a.runs.n++;
      const child = spawn(process.execPath, a.argv, { env: { ...a.env, FLUXCAST_UP_RESTARTS: String(restarts) }, stdio: ['ignore', 'inherit', 'pipe'] });
      child.stderr?.on('data', (d: Buffer) => {
        const text = d.toString();
        for (const l of text.split('\n').filter(Boolean).map((x) => x.replace(/^\S+Z /, ''))) {
          lines.push(l);
          a.onLine?.(l);
        }
        if (lines.length > 50) lines.splice(0, lines.length - 50);
        process.stderr.write(text.replace(/^(?=.)/gm, `[${a.label}] `));
      });
      child.once('exit', (code, signal) => ctx.tell({ type: 'exited', code, signal }));
      ctx.defer(
        () =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGINT');
            setTimeout(() => child.kill('SIGKILL'), 10000).unref();
          }),
      );
      return child;
    },
    receive(child, msg, ctx) {
      const why = childError(lines, `${a.label} exited (${msg.signal ?? `code ${msg.code}`})`);
      a.onExit?.(why);
      if (msg.code === EXIT_CONFIG) {
        a.print(`  ${a.label} stopped for good (exit code ${EXIT_CONFIG}: ${why.code}: ${why.message}); not restarted`);
        ctx.exit();
        return child;
      }
      throw new ProcessExited(a.label, msg.code, msg.signal, why);
    },
  };
}

const processSpec = (a: ProcArgs): ChildSpec<ProcArgs> => ({ id: a.label, args: a, restart: 'transient', shutdown: 12000, start: processDef });

export async function up(
  file: string,
  opts: { secret?: string; secretFile?: string; adminSecret?: string; adminSecretFile?: string } & LogOptions,
  options: { stopWhenOrphaned?: boolean; print?: (line: string) => void } = {},
): Promise<void> {
  const print = options.print ?? ((l: string) => process.stdout.write(l + '\n'));
  guardProcess('up');
  // `up` runs the manager and every worker here: their ports clash across workers too.
  const planet = loadPlanet(file, { oneMachine: true });
  const workers = workerSecret(opts, planet);
  const admin = managerAdminSecret(opts, planet);
  const cli = path.join(__dirname, 'main.js');
  const env = { ...process.env, FLUXCAST_SECRET: workers.secret, FLUXCAST_ADMIN_SECRET: admin.secret, FLUXCAST_EXIT_WITH_PARENT: '1' };
  const tlsCa = planet.manager.tls?.['ca-file'];
  const url = `ws${planet.manager.tls ? 's' : ''}://${planet.manager.host}:${planet.manager.port}`;
  // The children log as `up` itself would: pretty on a terminal, JSON lines otherwise.
  const logArgs = ['--log-format', opts.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json'), '--log-level', opts.logLevel ?? 'info'];

  let stopping = false;
  let managerReady: (() => void) | null = null;
  let managerFailed: ((e: FluxError) => void) | null = null;
  const ready = new Promise<void>((resolve, reject) => {
    managerReady = resolve;
    managerFailed = reject;
  });
  const root: Root = startRoot([], {
    id: 'up',
    flags: { ...UP_FLAGS, logCrashes: false },
    log: () => undefined,
    changed: undefined,
    gaveUp: (e) => {
      if (stopping) return;
      stopping = true;
      reportError(new FluxError(SUPERVISION_ERROR_CODES.GAVE_UP, `up: the planet's processes died too often (more than ${UP_FLAGS.intensity} within ${UP_FLAGS.periodMs / 1000} s): ${rootCause(e).message}`));
      process.exit(EXIT_SOFTWARE);
    },
  });
  const child = (label: string, argv: string[], hooks: Pick<ProcArgs, 'onLine' | 'onExit'> = {}): ChildSpec => processSpec({ label, argv: [cli, ...argv, ...logArgs], env, runs: { n: 0 }, print, ...hooks }) as ChildSpec;

  // The manager first, alone: its first run must start, or `up` stops with its error.
  let started = false;
  void root.startChild(
    child('manager', ['manager', '--planet', file], {
      onLine: (l) => {
        if (!started && l.includes("manager: planet '")) {
          started = true;
          managerReady?.();
        }
      },
      onExit: (why) => {
        if (!started) managerFailed?.(why);
      },
    }),
  );
  try {
    await ready;
  } catch (e) {
    stopping = true;
    await root.stop();
    throw e;
  }

  for (const w of planet.workers) {
    const args = ['worker', '--name', w.name, '--manager', url];
    if (tlsCa) args.push('--ca-file', tlsCa);
    const f = planet.feeds;
    if (f.tls && f['cert-file'] && f['key-file'] && f['ca-file']) args.push('--feed-cert', f['cert-file'], '--feed-key', f['key-file'], '--feed-ca', f['ca-file']);
    if (w['feed-port'] !== undefined) args.push('--feed-port', String(w['feed-port']));
    void root.startChild(child(w.name, args));
  }
  print(`fluxcast up: planet '${planet.name}', manager ${url}`);
  for (const f of planet.flows) for (const c of f.components) print(`  /${f.name}/${c.name} (${c.type}) on ${c.worker}`);
  print(`status: npx fluxcast status --manager ${url}${secretHint(admin)}${tlsCa ? ` --ca-file ${tlsCa}` : ''}`);
  print(`admin:  http${planet.manager.tls ? 's' : ''}://${planet.manager.host}:${planet.manager.port}/admin/ (log in with the admin secret${admin.file ? ` in ${admin.file}` : admin.source.startsWith('FLUXCAST_') ? ` in ${admin.source}` : `: ${admin.secret}`})`);
  print('Ctrl-C stops everything.');

  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    // Right to left: the workers (cleanly: their components sleep), then the manager.
    void root.stop().then(() => process.exit(code));
  };
  process.once('SIGINT', () => stopAll(0));
  process.once('SIGTERM', () => stopAll(0));
  if (options.stopWhenOrphaned) stopWhenOrphaned(() => stopAll(0));
  watchRestarts(root, print, () => stopping);
  watchMoods(url, admin.secret, print, () => stopping, tlsCa ? readCa(tlsCa) : undefined);
}

/** Says each restart of a child in `up`'s output, with why it died. */
function watchRestarts(root: Root, print: (line: string) => void, done: () => boolean): void {
  const seen = new Map<string, number>();
  const timer = setInterval(() => {
    if (done()) return clearInterval(timer);
    for (const c of root.tree().children) {
      const before = seen.get(c.id) ?? 0;
      if (c.restarts > before || (c.state === 'backoff' && !seen.has(`${c.id} backoff ${c.lastCrash?.time}`))) {
        if (c.state === 'backoff') {
          seen.set(`${c.id} backoff ${c.lastCrash?.time}`, 1);
          print(`  ${c.id} died (${c.lastCrash?.reason ?? 'unknown'}); starting it again`);
        }
        if (c.restarts > before) print(`  ${c.id} restarted (restart ${c.restarts})`);
      }
      seen.set(c.id, c.restarts);
    }
  }, 200);
  timer.unref();
}

/**
 * Prints every URL of each streamer (http-streamer, hls-streamer: `details.urls`, the primary
 * first) once it is happy, again if they change (a restart on another port), and every
 * component that turns sad, with why. Streamers added by a reload are announced the same way.
 */
function watchMoods(url: string, secret: string, print: (line: string) => void, done: () => boolean, ca?: Buffer): void {
  const seen = new Map<string, string>();
  const announced = new Map<string, string>();
  const tick = async () => {
    if (done()) return;
    const r = await adminRequest(url, secret, (requestId) => ({ type: 'status-request', requestId }), 2000, ca).catch(() => null);
    const parsed = r?.type === 'status' ? statusSchema.safeParse(r.status) : null;
    if (parsed?.success) {
      for (const c of (parsed.data as StatusJson).components) {
        const urls = c.details?.urls ?? [];
        if (c.mood === 'happy' && urls.length && announced.get(c.id) !== urls.join(' ')) {
          announced.set(c.id, urls.join(' '));
          for (const u of urls) print(`  ${c.id}: listen at ${u}`);
        }
        if (seen.get(c.id) === c.mood) continue;
        seen.set(c.id, c.mood);
        if (c.mood === 'sad') {
          const last = c.messages.filter((m) => m.level === 'error').pop();
          print(`  ${c.id}: sad${last ? `: ${last.text}` : ''}`);
        }
      }
    }
    setTimeout(() => void tick(), 500).unref();
  };
  void tick();
}
