// The manager process: its actor system, its listening port and the manager actor at the root
// of its tree (manager-actor.ts). This file only starts and stops them: one HTTP server on the
// planet's port carries the ws endpoint for workers and admins (each connection is handed to
// the manager actor) and GET /status.json. A port that is taken is a coded error
// (FLUX_MANAGER_ADDRESS_IN_USE), never a stack trace.

import * as http from 'http';
import * as net from 'net';
import { Ref, dispatch, query, start as startSystem, stop as stopSystem } from 'nact';
import { WebSocketServer } from 'ws';
import { FromManager, ToManager, toManagerSchema } from '../../protocol/wire';
import { PlanetConfig } from '../../protocol/planet';
import { WsChannel } from '../../transport/ws-channel';
import { MANAGER_LISTEN, listenOn } from '../../transport/listen';
import { ManagerMsg, ManagerRecord, PRE_LOGIN_FRAME_BYTES, managerRecord, spawnManagerActor } from './manager-actor';
import { PendingEntry, PendingLimiter, peerAddress } from '../../transport/pending-limit';
import { planetRecord } from './planet-actor';
import { StatusJson } from './status';

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
  log: (line: string) => void;
}

/** Connections on the manager's port at most, logged in or not (beyond: closed at once). */
const MAX_CONNECTIONS = 4096;

export class Manager {
  private readonly system = startSystem();
  readonly record: ManagerRecord;
  readonly ref: Ref<ManagerMsg>;
  private server: http.Server | null = null;
  private wss: WebSocketServer | null = null;

  constructor(
    readonly planet: PlanetConfig,
    readonly options: ManagerOptions,
  ) {
    this.record = managerRecord(planetRecord(planet));
    this.ref = spawnManagerActor(this.system, this.record, {
      secret: options.secret,
      adminSecret: options.adminSecret,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      loginTimeoutMs: options.loginTimeoutMs ?? 5000,
      log: options.log,
    });
    const max = options.maxPendingLogins ?? 64;
    this.pending = new PendingLimiter({ maxTotal: max, maxPerAddress: Math.max(1, Math.min(16, max)) });
  }

  /** Connections not logged in yet (a ws handshake or login under way), bounded per address and overall. */
  readonly pending: PendingLimiter;
  private readonly pendingOf = new WeakMap<net.Socket, PendingEntry>();

  async listen(): Promise<number> {
    const server = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/status.json') {
        void this.status().then(
          (s) => {
            res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
            res.end(JSON.stringify(s, null, 2));
          },
          () => {
            res.writeHead(503);
            res.end();
          },
        );
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('fluxcast manager: see /status.json\n');
    });
    // Slowloris: a request head within 5 s, a whole request within 10 s, checked every second.
    server.headersTimeout = 5000;
    server.requestTimeout = 10000;
    server.keepAliveTimeout = 5000;
    server.maxConnections = MAX_CONNECTIONS;
    server.on('connection', (socket: net.Socket) => {
      socket.on('error', () => undefined);
      // Until it logs in (ws) or sends its request (HTTP), a connection is pending.
      const entry = this.pending.admit(peerAddress(socket.remoteAddress), () => socket.destroy());
      this.pendingOf.set(socket, entry);
      socket.once('close', () => this.pending.done(entry));
    });
    server.on('request', (req) => {
      const entry = this.pendingOf.get(req.socket);
      if (entry) this.pending.done(entry);
    });
    const port = await listenOn(server, { host: this.options.host, port: this.options.port }, MANAGER_LISTEN);
    // Before login every frame is small: the WebSocket layer refuses big ones before buffering
    // them; a logged-in worker's limit is raised on its own connection.
    const wss = new WebSocketServer({ server, maxPayload: PRE_LOGIN_FRAME_BYTES });
    wss.on('error', () => undefined); // the server's own errors are handled below
    wss.on('connection', (ws, req) => {
      const entry = this.pendingOf.get(req.socket);
      const channel = new WsChannel<ToManager, FromManager>(ws, toManagerSchema);
      dispatch(this.ref, { type: 'connection', channel, release: () => entry && this.pending.done(entry) });
    });
    server.on('error', (e) => this.options.log(`manager: server error: ${e.message}`));
    this.server = server;
    this.wss = wss;
    this.options.log(`manager: planet '${this.planet.name}' on ws://${this.options.host}:${port} (pid ${process.pid})`);
    return port;
  }

  status(): Promise<StatusJson> {
    return query(this.ref, (replyTo: Ref<StatusJson>) => ({ type: 'status' as const, replyTo }), 5000);
  }

  /** Stops listening, drops every connection and stops the actors. Idempotent. */
  async close(): Promise<void> {
    for (const c of this.wss?.clients ?? []) c.terminate();
    this.wss?.close();
    this.wss = null;
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    stopSystem(this.system);
  }
}
