// A component's feeder: the GDP it produces goes through a multi-client sender to every eater
// of the feed. Eaters either connect to our feed server (eatFrom; the server hands us their
// socket) or we connect to theirs (feedTo, for sources behind a firewall), reconnecting with
// backoff until stopped. New eaters are primed like gdppay's streamheader and start at a keyframe.

import { EventEmitter } from 'events';
import * as net from 'net';
import { GdpFrame } from '../../protocol/gdp';
import { MultiClientSender } from '../sender/multi-client-sender';
import { GdpFeedInput } from '../sender/gdp-inputs';
import { StreamHandle } from '../sender/handles';
import { openFeed } from './feed-client';
import { Backoff, FEED_BACKOFF } from './backoff';

export interface FeederEvents {
  'eater-added': [peer: string];
  'eater-removed': [peer: string, reason: string];
}

export class Feeder extends EventEmitter<FeederEvents> {
  readonly sender: MultiClientSender;
  readonly input: GdpFeedInput;
  private readonly pushTargets = new Map<string, { stop: () => void }>();

  constructor(
    readonly feed: string,
    options: { maxLagBytes?: number; timeoutMs?: number } = {},
  ) {
    super();
    this.sender = new MultiClientSender({
      syncMethod: 'latest-keyframe',
      resendStreamheader: false, // every packet, sticky ones included, is queued in order
      unitFormat: 'bytes',
      unitsMax: options.maxLagBytes ?? 16 * 1024 * 1024,
      timeoutMs: options.timeoutMs ?? 10000,
    });
    this.input = new GdpFeedInput(this.sender);
    this.sender.on('client-removed', (_id, reason, stats) => this.emit('eater-removed', stats.peer, reason));
  }

  get clientCount(): number {
    return this.sender.clientCount;
  }

  /** The data path: one frame out to every eater. */
  frame(f: GdpFrame): void {
    this.input.frame(f);
  }

  /** An eater connected to our feed server and asked for this feed. */
  addEater(socket: net.Socket): void {
    const handle = new StreamHandle(socket, { owned: true });
    if (this.sender.add(handle) !== null) this.emit('eater-added', handle.describe());
  }

  /** feedTo: keep a connection to the downstream feed server at host:port; identical repeats are ignored. */
  feedTo(host: string, port: number, secret: string): void {
    const key = `${host}:${port}`;
    if (this.pushTargets.has(key)) return;
    let stopped = false;
    let socket: net.Socket | null = null;
    let timer: NodeJS.Timeout | null = null;
    const backoff = new Backoff(FEED_BACKOFF);
    const attempt = async () => {
      if (stopped) return;
      try {
        const r = await openFeed({ host, port, secret, op: 'feed', feed: this.feed });
        if (stopped) return void r.socket.destroy();
        socket = r.socket;
        backoff.reset();
        socket.once('close', () => {
          socket = null;
          if (!stopped) timer = setTimeout(attempt, backoff.next());
        });
        this.addEater(socket);
      } catch {
        if (!stopped) timer = setTimeout(attempt, backoff.next());
      }
    };
    this.pushTargets.set(key, {
      stop: () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        socket?.destroy();
      },
    });
    void attempt();
  }

  close(): void {
    for (const t of this.pushTargets.values()) t.stop();
    this.pushTargets.clear();
    this.sender.close();
  }
}
