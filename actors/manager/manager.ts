// The manager process: a nact actor system with the planet actor, and a ws server (plus
// GET /status.json on the same port) where workers and admins log in with challenge-response.
// Each connection gets a challenge, must log in first, and every frame is validated; a bad
// frame gets an error reply and a log line, never a crash. Heartbeats end dead links.

import * as http from 'http';
import { Ref, dispatch, query, start as startSystem, stop as stopActor } from 'nact';
import { WebSocketServer } from 'ws';
import { FromManager, ToManager, WIRE_ERROR_CODES as E, newNonce, toManagerSchema, verifyLogin } from '../../protocol/wire';
import { PlanetConfig } from '../../protocol/planet';
import { WsChannel } from '../../transport/ws-channel';
import { spawnWorkerAvatar } from './avatars';
import { PlanetMsg, StatusJson, spawnPlanetActor } from './planet-actor';

export interface ManagerOptions {
  host: string;
  port: number;
  secret: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  log: (line: string) => void;
}

export class Manager {
  private readonly system = startSystem();
  readonly planetActor: Ref<PlanetMsg>;
  private server: http.Server | null = null;
  private wss: WebSocketServer | null = null;
  private seq = 0;

  constructor(
    readonly planet: PlanetConfig,
    readonly options: ManagerOptions,
  ) {
    this.planetActor = spawnPlanetActor(this.system, planet, options.log);
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
    const wss = new WebSocketServer({ server, maxPayload: 8 * 1024 * 1024 });
    wss.on('connection', (ws) => this.accept(new WsChannel<ToManager, FromManager>(ws, toManagerSchema)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.server = server;
    this.wss = wss;
    const port = (server.address() as { port: number }).port;
    this.options.log(`manager: planet '${this.planet.name}' on ws://${this.options.host}:${port}`);
    return port;
  }

  status(): Promise<StatusJson> {
    return query(this.planetActor, (replyTo: Ref<StatusJson>) => ({ type: 'status' as const, replyTo }), 5000);
  }

  async close(): Promise<void> {
    for (const c of this.wss?.clients ?? []) c.terminate();
    this.wss?.close();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    stopActor(this.system);
  }

  private accept(channel: WsChannel<ToManager, FromManager>): void {
    const nonce = newNonce();
    let who: { role: 'worker' | 'admin'; name: string } | null = null;
    let avatar: Ref<never> | null = null;
    const o = this.options;
    // A connection must log in within the heartbeat timeout.
    const loginTimer = setTimeout(() => !who && channel.close(), o.heartbeatTimeoutMs * 2);
    channel.send({ type: 'challenge', nonce });
    channel.on('bad', (reason) => {
      o.log(`manager: bad frame from ${who ? `${who.role} ${who.name}` : 'a new connection'}: ${reason}`);
      channel.send({ type: 'error', code: E.BAD_FRAME, reason });
    });
    channel.on('message', (msg) => {
      if (!who) {
        if (msg.type !== 'login') return channel.send({ type: 'error', code: E.NOT_LOGGED_IN, reason: 'log in first' });
        if (!verifyLogin(o.secret, nonce, msg.role, msg.name, msg.response)) {
          o.log(`manager: refused login of ${msg.role} '${msg.name}': wrong secret`);
          channel.send({ type: 'refused', code: E.AUTH_FAILED, reason: 'wrong secret' });
          setTimeout(() => channel.close(), 50);
          return;
        }
        if (msg.role === 'worker' && !this.planet.workers.some((w) => w.name === msg.name)) {
          channel.send({ type: 'refused', code: E.UNKNOWN_WORKER, reason: `the planet has no worker '${msg.name}'` });
          setTimeout(() => channel.close(), 50);
          return;
        }
        clearTimeout(loginTimer);
        who = { role: msg.role, name: msg.name };
        channel.send({ type: 'welcome', heartbeatIntervalMs: o.heartbeatIntervalMs, heartbeatTimeoutMs: o.heartbeatTimeoutMs });
        channel.heartbeat(o.heartbeatIntervalMs, o.heartbeatTimeoutMs);
        if (msg.role === 'worker') {
          const a = spawnWorkerAvatar(this.system, msg.name, channel, ++this.seq);
          avatar = a as Ref<never>;
          dispatch(this.planetActor, { type: 'worker-login', name: msg.name, info: { host: msg.host, pid: msg.pid, feedHost: msg.feedHost, feedPort: msg.feedPort }, avatar: a });
        }
        return;
      }
      this.handle(who, msg, channel);
    });
    let timedOut = false;
    channel.on('timeout', () => (timedOut = true));
    channel.on('close', () => {
      clearTimeout(loginTimer);
      if (who?.role === 'worker' && avatar) {
        dispatch(this.planetActor, { type: 'worker-gone', name: who.name, avatar, reason: timedOut ? 'heartbeat timeout' : 'connection closed' });
      }
    });
  }

  private handle(who: { role: 'worker' | 'admin'; name: string }, msg: ToManager, channel: WsChannel<ToManager, FromManager>): void {
    if (who.role === 'worker') {
      if (msg.type === 'components') dispatch(this.planetActor, { type: 'components', name: who.name, components: msg.components });
      else if (msg.type === 'shutdown') dispatch(this.planetActor, { type: 'worker-shutdown', name: who.name });
      return;
    }
    if (msg.type === 'status-request') {
      void this.status().then((status) => channel.send({ type: 'status', requestId: msg.requestId, status }));
    } else if (msg.type === 'component-command') {
      void query(this.planetActor, (replyTo: Ref<{ ok: boolean; message: string }>) => ({ type: 'command' as const, action: msg.action, id: msg.id, replyTo }), 5000).then(
        (r) => channel.send({ type: 'command-result', requestId: msg.requestId, ok: r.ok, message: r.message }),
        (e) => channel.send({ type: 'command-result', requestId: msg.requestId, ok: false, message: String(e) }),
      );
    }
  }
}
