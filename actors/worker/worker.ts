// The worker process: its actor system, its feed server and the worker actor at the root of
// its tree (worker-actor.ts). This file only starts and stops them: it binds the feed server
// (the first free port of 8600-8639 unless one is pinned), connects the feed server to the
// feeder and eater actors of the components, and turns a clean stop (SIGINT/SIGTERM) into the
// worker actor's shutdown, so the manager counts our components sleeping, not lost.

import { randomBytes } from 'crypto';
import { Ref, dispatch, query, start as startSystem, stop as stopSystem } from 'nact';
import * as os from 'os';
import { FeedServer, DEFAULT_FEED_PORTS } from '../../transport/feed/feed-server';
import { acceptEater, acceptPushed } from '../component/component-actor';
import { FromManager, ComponentState } from '../../protocol/wire';
import { LogFn } from '../log';
import { isLoopbackHost, isWildcardHost } from '../../protocol/listener-urls';
import { TlsMaterial } from '../../transport/tls';
import { WorkerMsg, WorkerRecord, spawnWorkerActor, workerRecord } from './worker-actor';

export interface WorkerOptions {
  name: string;
  /** The manager's address; null runs without one (launch). */
  managerUrl: string | null;
  secret: string;
  feedHost: string;
  /** A pinned port (0 = any free one), or a range (default 8600-8639). */
  feedPort?: number | { from: number; to: number };
  /** Host name eaters on other workers use to reach our feed server (default: feedHost, or a real address for 0.0.0.0). */
  advertiseHost?: string;
  checkIntervalMs: number;
  log: LogFn;
  /** A refusal no retry can cure (a duplicate name): the caller exits with it. */
  fatal?: (code: string, reason: string) => void;
  /** Every report of the components' states (what the manager is sent), debounced. */
  onReport?: (states: ComponentState[]) => void;
  /** A private CA the manager's certificate is signed by (wss://). */
  managerCa?: Buffer;
  /** TLS for feeds, both ways, every peer's certificate signed by `ca` (the planet's feeds: { tls: true }). */
  feedTls?: TlsMaterial;
}

/** The address other hosts reach us at when we listen on every interface. */
export function advertisedAddress(feedHost: string, advertise?: string): string {
  if (advertise) return advertise;
  if (feedHost !== '0.0.0.0' && feedHost !== '::') return feedHost;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/**
 * Where listeners reach a component's socket bound on every interface (0.0.0.0, ::): `--advertise`
 * when given; else the feed host when it is a specific outward address; else this machine's
 * first non-loopback IPv4 address (a socket on every interface is meant to be reached from
 * elsewhere, even when the feeds stay on loopback), 127.0.0.1 without one. Never a wildcard.
 */
export function listenerAddress(feedHost: string, advertise?: string): string {
  if (advertise) return advertise;
  if (!isWildcardHost(feedHost) && !isLoopbackHost(feedHost)) return feedHost;
  return advertisedAddress('0.0.0.0');
}

export class Worker {
  private readonly system = startSystem();
  readonly record: WorkerRecord = workerRecord();
  readonly feedServer: FeedServer;
  private actor: Ref<WorkerMsg> | null = null;
  private stopped = false;
  private periodic: NodeJS.Timeout | null = null;

  constructor(readonly options: WorkerOptions) {
    this.feedServer = new FeedServer(
      { host: options.feedHost, port: options.feedPort ?? DEFAULT_FEED_PORTS, secret: options.secret, tls: options.feedTls },
      {
        eat: (feed) => {
          for (const c of this.record.components.values()) {
            const a = acceptEater(c, feed);
            if (a) return a;
          }
          return null;
        },
        feed: (feed) => {
          for (const c of this.record.components.values()) {
            const a = acceptPushed(c, feed);
            if (a) return a;
          }
          return null;
        },
      },
    );
  }

  get feedPort(): number {
    return this.feedServer.port;
  }

  get ref(): Ref<WorkerMsg> | null {
    return this.actor;
  }

  /** Binds the feed server (coded errors: FLUX_FEED_ADDRESS_IN_USE, FLUX_FEED_NO_FREE_PORT) and spawns the tree. */
  async start(): Promise<void> {
    const o = this.options;
    const port = await this.feedServer.listen();
    const advertised = advertisedAddress(o.feedHost, o.advertiseHost);
    // Every line says which worker it concerns (and which component, when it does).
    const log: LogFn = (l, level, ctx) => o.log(`worker ${o.name}: ${l}`, level, { worker: o.name, ...ctx });
    log(`feed server on ${o.feedHost}:${port}${advertised !== o.feedHost ? ` (advertised as ${advertised})` : ''}`);
    this.actor = spawnWorkerActor(this.system, this.record, {
      link: o.managerUrl
        ? {
            managerUrl: o.managerUrl,
            name: o.name,
            secret: o.secret,
            instance: randomBytes(12).toString('hex'),
            feedHost: advertised,
            feedPort: () => this.feedServer.port,
            log,
            fatal: (code, reason) => o.fatal?.(code, reason),
            ca: o.managerCa,
            feedsTls: !!o.feedTls,
          }
        : null,
      componentDeps: { secret: o.secret, checkIntervalMs: o.checkIntervalMs, feedTls: o.feedTls, advertiseHost: listenerAddress(o.feedHost, o.advertiseHost) },
      log,
      onReport: o.onReport,
    });
    // Counters (listeners, data age) change without a mood changing: report every second too.
    const actor = this.actor;
    this.periodic = setInterval(() => dispatch(actor, { type: 'changed' }), 1000);
    this.periodic.unref();
  }

  /** Does what a manager would ask (launch runs without one). */
  command(msg: FromManager): void {
    if (this.actor) dispatch(this.actor, { type: 'manager', msg });
  }

  /** Clean shutdown: tell the manager, stop every component, close everything. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.periodic) clearInterval(this.periodic);
    if (this.actor) await query(this.actor, (replyTo: Ref<{ type: 'done' }>) => ({ type: 'shutdown' as const, replyTo }), 10000).catch(() => undefined);
    await this.feedServer.close();
    stopSystem(this.system);
  }
}
