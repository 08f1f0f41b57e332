// The manager process: its actor system, its listening port and the manager actor at the root
// of its tree (manager-actor.ts). This file only starts and stops them: one HTTP server on the
// planet's port carries the ws endpoint for workers and admins (each connection is handed to
// the manager actor) and GET /status.json. A port that is taken is a coded error
// (FLUX_MANAGER_ADDRESS_IN_USE), never a stack trace.

import * as http from 'http';
import { Ref, dispatch, query, start as startSystem, stop as stopSystem } from 'nact';
import { WebSocketServer } from 'ws';
import { FromManager, ToManager, toManagerSchema } from '../../protocol/wire';
import { PlanetConfig } from '../../protocol/planet';
import { WsChannel } from '../../transport/ws-channel';
import { MANAGER_LISTEN, listenOn } from '../../transport/listen';
import { ManagerMsg, ManagerRecord, managerRecord, spawnManagerActor } from './manager-actor';
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
  log: (line: string) => void;
}

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
      log: options.log,
    });
  }

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
    const port = await listenOn(server, { host: this.options.host, port: this.options.port }, MANAGER_LISTEN);
    const wss = new WebSocketServer({ server, maxPayload: 8 * 1024 * 1024 });
    wss.on('error', () => undefined); // the server's own errors are handled below
    wss.on('connection', (ws) => dispatch(this.ref, { type: 'connection', channel: new WsChannel<ToManager, FromManager>(ws, toManagerSchema) }));
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
