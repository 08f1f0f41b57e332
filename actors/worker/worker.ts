// The worker process: its feed server and its supervision tree (worker-actor.ts draws it).
// This file only starts and stops them: it binds the feed server (the first free port of
// 8600-8639 unless one is pinned), hands the connections it accepts to the feeder and eater
// actors that registered for them (feed-directory.ts), and turns a clean stop (SIGINT/SIGTERM)
// into the worker actor's shutdown, so the manager counts our components sleeping, not lost.
// When the tree's root gives up, the process must end: `fatal` is called with exit code 70.

import { randomBytes } from 'crypto';
import * as os from 'os';
import { FeedServer, DEFAULT_FEED_PORTS } from '../../transport/feed/feed-server';
import { FromManager, ComponentState } from '../../protocol/wire';
import { LogFn } from '../log';
import { isLoopbackHost, isWildcardHost } from '../../protocol/listener-urls';
import { TlsMaterial } from '../../transport/tls';
import { CONTROL_FLAGS, ChildSpec, Root, TreeNode, startRoot } from '../supervision';
import { FeedDirectory } from './feed-directory';
import { componentsSpec } from './components-supervisor';
import { EXIT_SOFTWARE, linkSpec } from './manager-link';
import { componentStates, workerActorSpec } from './worker-actor';

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
  /** A refusal no retry can cure (exit code 78), or a tree that gave up (70): the caller exits with it. */
  fatal?: (code: string, reason: string, exitCode: number) => void;
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
  readonly directory = new FeedDirectory();
  readonly feedServer: FeedServer;
  private root: Root | null = null;
  private stopped = false;
  private periodic: NodeJS.Timeout | null = null;

  constructor(readonly options: WorkerOptions) {
    this.feedServer = new FeedServer(
      { host: options.feedHost, port: options.feedPort ?? DEFAULT_FEED_PORTS, secret: options.secret, tls: options.feedTls },
      {
        eat: (feed) => this.directory.eaterArrives(feed),
        feed: (feed) => this.directory.pushArrives(feed),
      },
    );
  }

  get feedPort(): number {
    return this.feedServer.port;
  }

  /** The process's live supervision tree. */
  tree(): TreeNode | null {
    return this.root?.tree() ?? null;
  }

  /** Every component's state now, as the manager is told it. */
  componentStates(): ComponentState[] {
    const t = this.tree();
    return t ? componentStates(t) : [];
  }

  /** Sends to the actor at `path` in the live tree (ids from the root): how tests inject faults. */
  sendAt(path: string[], msg: unknown): boolean {
    return this.root?.sendAt(path, msg) ?? false;
  }

  /** Binds the feed server (coded errors: FLUX_FEED_ADDRESS_IN_USE, FLUX_FEED_NO_FREE_PORT) and starts the tree. */
  async start(): Promise<void> {
    const o = this.options;
    const port = await this.feedServer.listen();
    const advertised = advertisedAddress(o.feedHost, o.advertiseHost);
    // Every line says which worker it concerns (and which component, when it does).
    const log: LogFn = (l, level, ctx) => o.log(`worker ${o.name}: ${l}`, level, { worker: o.name, ...ctx });
    log(`feed server on ${o.feedHost}:${port}${advertised !== o.feedHost ? ` (advertised as ${advertised})` : ''}`);
    const send = (id: string, msg: unknown) => this.root?.send(id, msg) ?? false;
    const children: ChildSpec[] = [
      componentsSpec({
        eaters: { secret: o.secret, tls: o.feedTls, checkIntervalMs: o.checkIntervalMs, directory: this.directory },
        feeders: { secret: o.secret, tls: o.feedTls, directory: this.directory },
        log,
        advertiseHost: listenerAddress(o.feedHost, o.advertiseHost),
      }) as ChildSpec,
      workerActorSpec({
        toManager: (msg) => send('link', { type: 'send', msg }),
        components: (msg) => send('components', msg),
        tree: () => this.root?.tree() ?? { id: 'worker', state: 'running', restarts: 0, lastCrash: null, dropped: 0, children: [] },
        onReport: o.onReport,
      }) as ChildSpec,
    ];
    if (o.managerUrl) {
      children.push(
        linkSpec({
          managerUrl: o.managerUrl,
          name: o.name,
          secret: o.secret,
          instance: randomBytes(12).toString('hex'),
          feedHost: advertised,
          feedPort: () => this.feedServer.port,
          log,
          fatal: (code, reason, exitCode) => o.fatal?.(code, reason, exitCode),
          ca: o.managerCa,
          feedsTls: !!o.feedTls,
          deliver: (e) => send('worker', e),
        }) as ChildSpec,
      );
    }
    this.root = startRoot(children, {
      id: `worker ${o.name}`,
      flags: CONTROL_FLAGS,
      log,
      changed: () => void send('worker', { type: 'changed' }),
      gaveUp: (e) => o.fatal?.('FLUX_SUPERVISION_GAVE_UP', `worker ${o.name}: the supervision tree gave up: ${e.message}`, EXIT_SOFTWARE),
    });
    // Counters (listeners, data age) change without a mood changing: report every second too.
    this.periodic = setInterval(() => send('worker', { type: 'changed' }), 1000);
    this.periodic.unref();
  }

  /** Does what a manager would ask (launch runs without one). */
  command(msg: FromManager): void {
    this.root?.send('worker', { type: 'manager', msg });
  }

  /** Clean shutdown: tell the manager, stop every component, close everything. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.periodic) clearInterval(this.periodic);
    const root = this.root;
    if (root) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 10000);
        const done = () => {
          clearTimeout(t);
          resolve();
        };
        if (!root.send('worker', { type: 'shutdown', done })) done();
      });
      await root.stop();
    }
    await this.feedServer.close();
  }
}
