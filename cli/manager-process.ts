// The manager process, its composition root: its supervision tree (the manager actor and the
// planet under a process root, actors/manager/), its listening port, and the operator's
// surface on the same port (admin/api.ts: the HTTP API, its event stream, /metrics,
// /status.json, the web admin), with the ws endpoint for workers and admins beside it. It keeps
// the operator's short memory: the streamers' audience samples (actors/manager/samples.ts) and
// the recent events (admin/history.ts), every event numbered there before it is emitted. It
// lives here, outside actors/ and admin/, so that neither imports the other.
// Connections that have not logged in yet are bounded, per address and overall; a port that
// is taken is a coded error (FLUX_MANAGER_ADDRESS_IN_USE), never a stack trace.

import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import { WebSocketServer } from 'ws';
import { FromManager, ToManager, toManagerSchema } from '../protocol/wire';
import { PROTOCOL_ERROR_CODES } from '../protocol/errors';
import { PlanetConfig } from '../protocol/planet';
import { CommandResult, ListenersAnswer, ReloadOutcome, ReloadResult, StatusJson, reloadSummary } from '../protocol/status';
import { LISTENERS_ANSWER_MS } from '../actors/manager/planet-actor';
import { WsChannel } from '../transport/ws-channel';
import { MANAGER_LISTEN, listenOn } from '../transport/listen';
import { PendingEntry, PendingLimiter, peerAddress } from '../transport/pending-limit';
import { TlsMaterial, serverOptions } from '../transport/tls';
import { AdminApi } from '../admin/api';
import { PlanetEvent, statusEvents } from '../admin/events';
import { EventHistory } from '../admin/history';
import { StreamerSample, StreamerSamples, isStreamer } from '../actors/manager/samples';
import { LogFn } from '../actors/log';
import { PlanetMetrics } from '../admin/metrics';
import { checkPlanetText } from '../actors/planet/check';
import { MANAGER_PLACE } from '../actors/planet/port-clash';
import { COMPONENT_TYPES } from '../actors/components/registry';
import { CONTROL_FLAGS, ChildSpec, Root, TreeNode, startRoot } from '../actors/supervision';
import { ManagerMsg, PRE_LOGIN_FRAME_BYTES, PlanetIntent, managerActorSpec } from '../actors/manager/manager-actor';

export interface ManagerOptions {
  host: string;
  port: number;
  /** The workers' secret (logins, feeds). */
  secret: string;
  /** The admins' secret (CLI, API, web admin). */
  adminSecret: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** A connection must log in within this (ms; default 5000). */
  loginTimeoutMs?: number;
  /** Connections not logged in yet, at most (default 64; per address 16): the oldest is evicted. */
  maxPendingLogins?: number;
  /** The planet file, re-read by a reload. */
  planetFile?: string;
  /** wss:// and https:// instead of ws:// and http:// (manager.tls of the planet). */
  tls?: TlsMaterial;
  /** ms between two samples of the streamers' audience (default: the planet's manager.sample-interval). */
  sampleIntervalMs?: number;
  log: LogFn;
  /** The tree gave up: the process must end (exit 70). */
  gaveUp?(error: Error): void;
}

/** Connections on the manager's port at most, logged in or not (beyond: closed at once). */
const MAX_CONNECTIONS = 4096;
/** Changes are gathered this long before the operator's surface hears of them (ms). */
const EVENT_DEBOUNCE_MS = 50;

export class Manager {
  private readonly root: Root;
  /** What the operators asked for: the planet in force and the components they stopped. */
  readonly intent: PlanetIntent;
  /** Connections not logged in yet (a ws handshake or login under way), bounded per address and overall. */
  readonly pending: PendingLimiter;
  private readonly pendingOf = new WeakMap<net.Socket, PendingEntry>();
  /** Mood changes, messages, worker logins and logouts, listener counts, as they happen. */
  readonly events = new EventEmitter<{ event: [PlanetEvent] }>();
  private lastStatus: StatusJson | null = null;
  private eventTimer: NodeJS.Timeout | null = null;
  readonly metrics: PlanetMetrics;
  /** Each streamer's listeners and bit rate over the last 30 minutes. */
  readonly samples: StreamerSamples;
  /** The last events, numbered (every emitted event gets its `seq` there). */
  readonly history = new EventHistory();
  readonly api: AdminApi;
  private server: http.Server | null = null;
  private wss: WebSocketServer | null = null;

  constructor(
    public planet: PlanetConfig,
    readonly options: ManagerOptions,
  ) {
    this.intent = { planet, stopped: new Set(), departed: new Map() };
    this.root = startRoot(
      [
        managerActorSpec({
          intent: this.intent,
          secret: options.secret,
          adminSecret: options.adminSecret,
          heartbeatIntervalMs: options.heartbeatIntervalMs,
          heartbeatTimeoutMs: options.heartbeatTimeoutMs,
          loginTimeoutMs: options.loginTimeoutMs ?? 5000,
          log: options.log,
          reload: (text) => this.reload(text),
          commanded: (action, id, r) => {
            if (r.code !== PROTOCOL_ERROR_CODES.MANAGER_NO_SUCH_COMPONENT) this.emit({ type: 'command', id, action, ok: r.ok, message: r.message, time: Date.now() });
          },
        }) as ChildSpec,
      ],
      {
        id: 'manager process',
        flags: CONTROL_FLAGS,
        log: options.log,
        changed: () => this.changed(),
        gaveUp: (e) => (options.gaveUp ? options.gaveUp(e) : options.log(`manager: the supervision tree gave up: ${e.message}`, 'error')),
      },
    );
    const max = options.maxPendingLogins ?? 64;
    this.pending = new PendingLimiter({ maxTotal: max, maxPerAddress: Math.max(1, Math.min(16, max)) });
    this.metrics = new PlanetMetrics(() => this.status());
    this.samples = new StreamerSamples(options.sampleIntervalMs ?? planet.manager['sample-interval']);
    this.api = new AdminApi(
      {
        status: () => this.status(),
        command: (action, id) => this.command(action, id),
        reload: () => this.reload(),
        listeners: (id, kick) => this.listeners(id, kick),
        samples: (id, since) => this.audience(id, since),
        eventHistory: () => this.history.list(),
        events: this.events,
        metrics: () => this.metrics.render(),
      },
      { adminSecret: options.adminSecret, publicStatus: planet.manager['public-status'], secure: !!options.tls, log: options.log },
    );
  }

  async listen(): Promise<number> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.api.handle(req, res);
    // With TLS, the port speaks only TLS: nothing travels in clear text.
    // Slowloris: a request head within 5 s, a whole request within 10 s, checked every second.
    const timeouts = { headersTimeout: 5000, requestTimeout: 10000, keepAliveTimeout: 5000, connectionsCheckingInterval: 1000 };
    const server: http.Server = this.options.tls ? https.createServer({ ...serverOptions(this.options.tls), ...timeouts }, handler) : http.createServer(timeouts, handler);
    server.maxConnections = MAX_CONNECTIONS;
    const headDeadline = new WeakMap<net.Socket, NodeJS.Timeout>();
    server.on('connection', (socket: net.Socket) => {
      socket.on('error', () => undefined);
      // Until it logs in (ws) or sends its request (HTTP), a connection is pending...
      const entry = this.pending.admit(peerAddress(socket.remoteAddress), () => socket.destroy());
      this.pendingOf.set(socket, entry);
      // ...and it has 5 s to send a complete request head (an upgrade included) at all.
      const t = setTimeout(() => socket.destroy(), 5000);
      t.unref();
      headDeadline.set(socket, t);
      socket.once('close', () => {
        clearTimeout(t);
        this.pending.done(entry);
      });
    });
    const headArrived = (socket: net.Socket) => clearTimeout(headDeadline.get(socket));
    server.on('request', (req) => {
      headArrived(req.socket);
      const entry = this.pendingOf.get(req.socket);
      if (entry) this.pending.done(entry);
    });
    server.on('upgrade', (req) => headArrived(req.socket));
    const port = await listenOn(server, { host: this.options.host, port: this.options.port }, MANAGER_LISTEN);
    // Before login every frame is small: the WebSocket layer refuses big ones before buffering
    // them; a logged-in worker's limit is raised on its own connection.
    const wss = new WebSocketServer({ server, maxPayload: PRE_LOGIN_FRAME_BYTES });
    wss.on('error', () => undefined); // the server's own errors are handled below
    wss.on('connection', (ws, req) => {
      const entry = this.pendingOf.get(req.socket);
      const channel = new WsChannel<ToManager, FromManager>(ws, toManagerSchema);
      if (!this.tell({ type: 'connection', channel, release: () => entry && this.pending.done(entry) })) channel.terminate();
    });
    server.on('error', (e) => this.options.log(`manager: server error: ${e.message}`));
    this.server = server;
    this.wss = wss;
    // Sampled from the last status (kept fresh by every change the workers report).
    this.samples.start(() => (this.lastStatus?.components ?? []).map((c) => ({ id: c.id, type: c.type, mood: c.mood, details: c.details })));
    const s = this.options.tls ? 's' : '';
    this.options.log(`manager: planet '${this.planet.name}' on ws${s}://${this.options.host}:${port} (pid ${process.pid}); admin at http${s}://${this.options.host}:${port}/admin/`);
    return port;
  }

  private tell(msg: ManagerMsg): boolean {
    return this.root.send('manager', msg);
  }

  /** The process's live supervision tree. */
  tree(): TreeNode {
    return this.root.tree();
  }

  /** Sends to the actor at `path` in the live tree (ids from the root): how tests inject faults. */
  sendAt(path: string[], msg: unknown): boolean {
    return this.root.sendAt(path, msg);
  }

  /** Asks the actors something, with a deadline: the manager actor answers through `reply`. */
  private ask<T>(make: (reply: (v: T | null, error?: string) => void) => ManagerMsg, timeoutMs = 5000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the manager did not answer in time')), timeoutMs);
      const sent = this.tell(
        make((v, error) => {
          clearTimeout(t);
          if (v === null) reject(new Error(error ?? 'no answer'));
          else resolve(v);
        }),
      );
      if (!sent) {
        clearTimeout(t);
        reject(new Error('the manager is restarting; try again'));
      }
    });
  }

  status(): Promise<StatusJson> {
    return this.ask<StatusJson>((reply) => ({ type: 'status', reply }));
  }

  command(action: 'start' | 'stop' | 'restart', id: string): Promise<CommandResult> {
    return this.ask<CommandResult>((reply) => ({ type: 'command', action, id, reply })).catch((e: Error) => ({ ok: false, message: e.message }));
  }

  /** A streamer's samples after `since`, or null when `id` is no streamer. */
  private audience(id: string, since?: number): { samples: StreamerSample[]; intervalMs: number } | null {
    const c = this.lastStatus?.components.find((x) => x.id === id);
    if (!c || !isStreamer({ type: c.type, details: c.details })) return null;
    return { samples: this.samples.history(id, since) ?? [], intervalMs: this.samples.intervalMs };
  }

  /** A component's listeners (from the worker running it), or, with `kick`, disconnects that one. */
  listeners(id: string, kick?: string): Promise<ListenersAnswer> {
    return this.ask<ListenersAnswer>((reply) => ({ type: 'listeners', id, kick, reply }), LISTENERS_ANSWER_MS + 1000).catch((e: Error) => ({ ok: false, code: PROTOCOL_ERROR_CODES.MANAGER_NO_ANSWER, message: e.message }));
  }

  /**
   * Re-reads the planet file (or takes `text`) and applies the difference. An invalid planet is
   * refused with every problem, as `fluxcast check` prints them, and changes nothing.
   */
  async reload(text?: string): Promise<ReloadOutcome> {
    let yaml = text;
    if (yaml === undefined) {
      if (!this.options.planetFile) return { ok: false, code: PROTOCOL_ERROR_CODES.PLANET_INVALID, message: 'this manager has no planet file to re-read' };
      try {
        yaml = fs.readFileSync(this.options.planetFile, 'utf8');
      } catch (e) {
        return { ok: false, code: PROTOCOL_ERROR_CODES.PLANET_INVALID, message: `cannot read ${this.options.planetFile}: ${(e as NodeJS.ErrnoException).code ?? e}` };
      }
    }
    const { planet, issues } = checkPlanetText(yaml, COMPONENT_TYPES, { machines: this.machines() });
    if (!planet) return { ok: false, code: PROTOCOL_ERROR_CODES.PLANET_INVALID, message: `the planet has ${issues.length} problem(s); nothing was changed`, issues };
    let result: ReloadResult;
    try {
      result = await this.ask<ReloadResult>((reply) => ({ type: 'reload', planet, reply }), 10000);
    } catch (e) {
      return { ok: false, code: PROTOCOL_ERROR_CODES.PLANET_INVALID, message: (e as Error).message };
    }
    this.planet = planet;
    this.emit({ type: 'reload', message: reloadSummary(result), time: Date.now() });
    return { ok: true, result };
  }

  /**
   * The machine of each connected worker (the host name it logged in from) and of the manager:
   * a reload's port check counts workers on one machine as one place. A host name that says
   * nothing (localhost) is left out.
   */
  private machines(): Map<string, string> {
    const out = new Map<string, string>();
    const known = (h: string | undefined): h is string => !!h && !/^localhost(\.localdomain)?$/i.test(h);
    if (known(os.hostname())) out.set(MANAGER_PLACE, os.hostname());
    for (const w of this.lastStatus?.workers ?? []) if (w.connected && known(w.host ?? undefined)) out.set(w.name, w.host as string);
    return out;
  }

  /** Stops listening, drops every connection and stops the actors. Idempotent. */
  async close(): Promise<void> {
    if (this.eventTimer) clearTimeout(this.eventTimer);
    this.eventTimer = null;
    this.samples.stop();
    this.api.close();
    for (const c of this.wss?.clients ?? []) c.terminate();
    this.wss?.close();
    this.wss = null;
    const s = this.server;
    this.server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    await this.root.stop();
  }

  /** Gathers changes for a moment, then tells the operator's surface what changed. */
  private changed(): void {
    if (this.eventTimer) return;
    this.eventTimer = setTimeout(() => {
      this.eventTimer = null;
      this.status().then(
        (next) => {
          for (const e of statusEvents(this.lastStatus, next)) this.emit(e);
          this.lastStatus = next;
        },
        () => undefined,
      );
    }, EVENT_DEBOUNCE_MS);
    this.eventTimer.unref();
  }

  /** Numbers the event (and keeps it, if it is of a lasting kind), then tells every listener. */
  private emit(e: PlanetEvent): void {
    this.events.emit('event', this.history.add(e));
  }
}
