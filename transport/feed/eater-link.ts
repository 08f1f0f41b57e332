// One eater's link to one feed: gets GDP (by connecting to the upstream worker's feed server,
// eatFrom, or by being handed a socket an upstream feeder pushed to us, feedTo), decodes it
// and hands frames on; watches that data arrives within the check interval. Silence, EOS, a
// hang-up or a GDP error all end the connection with a reason; with eatFrom it reconnects with
// jittered exponential backoff, forever, until stop(). Frames go to a direct callback.

import { EventEmitter } from 'events';
import * as net from 'net';
import { GdpDecoder, GdpFrame } from '../../protocol/gdp';
import { EVENT_TYPES } from '../../protocol/gst/event-types';
import { openFeed } from './feed-client';
import { Backoff, BackoffPolicy, FEED_BACKOFF } from './backoff';

export interface EaterLinkOptions {
  feed: string;
  secret: string;
  /** No data for this long means the feed is disconnected (ms). */
  checkIntervalMs: number;
  backoff: BackoffPolicy;
  maxPayloadSize?: number;
  onFrame: (frame: GdpFrame) => void;
}

export interface EaterLinkEvents {
  connected: [];
  disconnected: [reason: string];
  /** A connection attempt failed (before any data); the link will retry. */
  retry: [reason: string, delayMs: number];
}

export class EaterLink extends EventEmitter<EaterLinkEvents> {
  readonly options: EaterLinkOptions;
  private socket: net.Socket | null = null;
  private target: { host: string; port: number } | null = null;
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private lastData = 0;
  private flowing = false;
  private stopped = false;
  private generation = 0;
  /** Connections made, for stats. */
  connections = 0;

  constructor(options: Partial<EaterLinkOptions> & Pick<EaterLinkOptions, 'feed' | 'secret' | 'onFrame'>) {
    super();
    this.options = { checkIntervalMs: 2000, backoff: FEED_BACKOFF, ...options };
    this.backoff = new Backoff(this.options.backoff);
  }

  get connected(): boolean {
    return this.flowing;
  }

  get lastDataAgoMs(): number | null {
    return this.lastData ? Date.now() - this.lastData : null;
  }

  /** Eat from host:port (the upstream worker's feed server); an identical repeat is ignored. */
  eatFrom(host: string, port: number): void {
    if (this.target && this.target.host === host && this.target.port === port && !this.stopped) return;
    this.stopped = false;
    this.target = { host, port };
    this.drop('upstream moved');
    this.connectSoon(0);
  }

  /** feedTo: an upstream feeder connected to our feed server and pushes GDP on `socket`. */
  acceptSocket(socket: net.Socket, leftover: Buffer): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.drop('replaced by a new connection');
    this.attach(socket, leftover);
  }

  stop(): void {
    this.stopped = true;
    this.target = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.drop('stopped');
  }

  private connectSoon(delay: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
    this.retryTimer.unref?.();
  }

  private async connect(): Promise<void> {
    const t = this.target;
    if (!t || this.stopped || this.socket) return;
    const gen = ++this.generation;
    try {
      const { socket, leftover } = await openFeed({ host: t.host, port: t.port, secret: this.options.secret, op: 'eat', feed: this.options.feed });
      if (gen !== this.generation || this.stopped) {
        socket.destroy();
        return;
      }
      this.attach(socket, leftover);
    } catch (e) {
      if (gen !== this.generation || this.stopped) return;
      const delay = this.backoff.next();
      this.emit('retry', (e as Error).message, delay);
      this.connectSoon(delay);
    }
  }

  private attach(socket: net.Socket, leftover: Buffer): void {
    const gen = ++this.generation;
    this.socket = socket;
    this.connections++;
    const decoder = new GdpDecoder({
      maxPayloadSize: this.options.maxPayloadSize,
      onFrame: (f) => {
        this.lastData = Date.now();
        if (!this.flowing) {
          this.flowing = true;
          this.backoff.reset();
          this.emit('connected');
        }
        this.options.onFrame(f);
        if (f.kind === 'event' && f.eventType === EVENT_TYPES.eos) this.lost(gen, 'EOS');
      },
    });
    const feedBytes = (chunk: Buffer) => {
      if (gen !== this.generation) return;
      const err = decoder.push(chunk);
      if (err) this.lost(gen, `${err.code}: ${err.message}`);
    };
    socket.on('data', feedBytes);
    socket.on('error', () => undefined);
    socket.on('close', () => this.lost(gen, 'hang-up'));
    this.lastData = Date.now();
    this.startWatchdog(gen);
    if (leftover.length) feedBytes(leftover);
  }

  private startWatchdog(gen: number): void {
    if (this.watchdog) clearInterval(this.watchdog);
    const every = Math.max(20, Math.min(250, this.options.checkIntervalMs / 4));
    this.watchdog = setInterval(() => {
      if (gen !== this.generation) return;
      if (Date.now() - this.lastData > this.options.checkIntervalMs) this.lost(gen, `no data for ${this.options.checkIntervalMs} ms`);
    }, every);
    this.watchdog.unref?.();
  }

  /** The connection of generation `gen` ended: report it and (eatFrom) reconnect. */
  private lost(gen: number, reason: string): void {
    if (gen !== this.generation || !this.socket) return;
    this.drop(reason);
    if (this.target && !this.stopped) this.connectSoon(this.backoff.next());
  }

  private drop(reason: string): void {
    this.generation++;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    const s = this.socket;
    this.socket = null;
    if (s) s.destroy();
    if (this.flowing) {
      this.flowing = false;
      this.emit('disconnected', reason);
    }
  }
}
