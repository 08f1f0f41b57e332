// The worker process: one per host. Logs in to the manager (challenge-response), keeps the
// link alive with heartbeats and reconnects with jittered backoff forever; runs a feed server;
// hosts component actors under supervision and does what the manager asks (start, stop,
// eat-from, feed-to), reporting every component's state back. A clean stop (SIGINT/SIGTERM)
// tells the manager first, so its components show as sleeping rather than lost.

import { Ref, dispatch, query, start as startSystem, stop as stopActor } from 'nact';
import * as os from 'os';
import WebSocket from 'ws';
import { FromManager, ToManager, fromManagerSchema, loginResponse } from '../../protocol/wire';
import { WsChannel } from '../../transport/ws-channel';
import { FeedServer } from '../../transport/feed/feed-server';
import { Backoff } from '../../transport/feed/backoff';
import { ComponentHost, HostMsg, spawnComponentHost } from './component-host';

export interface WorkerOptions {
  name: string;
  managerUrl: string;
  secret: string;
  feedHost: string;
  feedPort: number;
  /** Host name eaters on other workers use to reach our feed server (default: feedHost). */
  advertiseHost?: string;
  checkIntervalMs: number;
  log: (line: string) => void;
}

export class Worker {
  private readonly system = startSystem();
  private readonly hosts = new Map<string, ComponentHost>();
  private readonly actors = new Map<string, Ref<HostMsg>>();
  private channel: WsChannel<FromManager, ToManager> | null = null;
  private readonly feedServer: FeedServer;
  private readonly backoff = new Backoff({ initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.5 });
  private reportTimer: NodeJS.Timeout | null = null;
  private periodic: NodeJS.Timeout | null = null;
  private stopping = false;
  private actorSeq = 0;

  constructor(readonly options: WorkerOptions) {
    this.feedServer = new FeedServer(
      { host: options.feedHost, port: options.feedPort, secret: options.secret },
      {
        eat: (feed) => {
          for (const h of this.hosts.values()) {
            for (const f of h.feeders.values()) if (f.feed === feed) return (socket) => f.addEater(socket);
          }
          return null;
        },
        feed: (feed) => {
          for (const h of this.hosts.values()) {
            const a = h.acceptPushed(feed);
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

  async start(): Promise<void> {
    const port = await this.feedServer.listen();
    this.options.log(`worker ${this.options.name}: feed server on ${this.options.feedHost}:${port}`);
    this.periodic = setInterval(() => this.report(), 1000);
    this.connect();
  }

  /** Clean shutdown: tell the manager, stop every component, close everything. */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.channel?.send({ type: 'shutdown' });
    await Promise.all([...this.actors.values()].map((a) => query(a, (replyTo: Ref<{ type: 'stopped' }>) => ({ type: 'stop' as const, replyTo }), 5000).catch(() => undefined)));
    this.report(true);
    await new Promise((r) => setTimeout(r, 50));
    this.channel?.close();
    if (this.periodic) clearInterval(this.periodic);
    await this.feedServer.close();
    stopActor(this.system);
  }

  private connect(): void {
    if (this.stopping) return;
    const ws = new WebSocket(this.options.managerUrl, { maxPayload: 8 * 1024 * 1024, handshakeTimeout: 5000 });
    const channel = new WsChannel<FromManager, ToManager>(ws, fromManagerSchema);
    let loggedIn = false;
    channel.on('message', (msg) => {
      if (msg.type === 'challenge') {
        channel.send({
          type: 'login', role: 'worker', name: this.options.name, response: loginResponse(this.options.secret, msg.nonce, 'worker', this.options.name),
          pid: process.pid, host: os.hostname(), feedHost: this.options.advertiseHost ?? this.options.feedHost, feedPort: this.feedServer.port,
        });
      } else if (msg.type === 'welcome') {
        loggedIn = true;
        this.backoff.reset();
        this.channel = channel;
        channel.heartbeat(msg.heartbeatIntervalMs, msg.heartbeatTimeoutMs);
        this.options.log(`worker ${this.options.name}: logged in to ${this.options.managerUrl}`);
        this.report(true);
      } else if (msg.type === 'refused') {
        this.options.log(`worker ${this.options.name}: login refused: ${msg.code}: ${msg.reason}`);
      } else if (loggedIn) {
        this.handle(msg);
      }
    });
    channel.on('bad', (reason) => this.options.log(`worker ${this.options.name}: bad frame from manager: ${reason}`));
    channel.on('timeout', () => this.options.log(`worker ${this.options.name}: manager silent, link declared dead`));
    channel.on('close', () => {
      if (this.channel === channel) this.channel = null;
      if (this.stopping) return;
      const delay = this.backoff.next();
      setTimeout(() => this.connect(), delay).unref();
    });
  }

  private handle(msg: FromManager): void {
    switch (msg.type) {
      case 'start': {
        let a = this.actors.get(msg.spec.id);
        if (!a) {
          a = spawnComponentHost(this.system, msg.spec, { secret: this.options.secret, checkIntervalMs: this.options.checkIntervalMs, changed: () => this.report() }, this.hosts, `c${++this.actorSeq}`);
          this.actors.set(msg.spec.id, a);
        }
        dispatch(a, { type: 'start' });
        return;
      }
      case 'stop': {
        const a = this.actors.get(msg.id);
        if (!a) return;
        this.actors.delete(msg.id);
        const old = this.hosts.get(msg.id);
        // A sad component's actor may already be stopped (it never answers): stop its parts directly.
        void query(a, (replyTo: Ref<{ type: 'stopped' }>) => ({ type: 'stop' as const, replyTo }), 2000)
          .catch(() => old?.stop())
          .then(() => {
            stopActor(a);
            if (this.hosts.get(msg.id) === old) this.hosts.delete(msg.id);
            this.report(true);
          });
        return;
      }
      case 'eat-from': {
        const a = this.actors.get(msg.id);
        if (a) dispatch(a, { type: 'eat-from', feed: msg.feed, host: msg.host, port: msg.port });
        return;
      }
      case 'feed-to': {
        const a = this.actors.get(msg.id);
        if (a) dispatch(a, { type: 'feed-to', feeder: msg.feeder, host: msg.host, port: msg.port });
        return;
      }
      default:
        return;
    }
  }

  /** Sends the manager every component's state; debounced unless `now`. */
  private report(now = false): void {
    const send = () => {
      this.reportTimer = null;
      this.channel?.send({ type: 'components', components: [...this.hosts.values()].filter((h) => this.actors.has(h.id) || this.stopping).map((h) => h.state()) });
    };
    if (now) {
      if (this.reportTimer) clearTimeout(this.reportTimer);
      send();
    } else if (!this.reportTimer) {
      this.reportTimer = setTimeout(send, 30);
    }
  }
}
