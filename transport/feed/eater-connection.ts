// One eater's connection to one feed, from the first byte to its end: a socket (opened by
// eatFrom through the feed server's handshake, or handed over by the feed server when an
// upstream feeder pushes to us with feedTo), its GDP decoder and its silence watchdog. Bytes go
// from the socket straight into the decoder and each frame to a direct callback. It never
// reconnects: it ends exactly once with a reason (hang-up, EOS, a GDP error, silence, a refused
// handshake) and the eater actor that owns it is restarted by its supervisor. Upstream it
// sends only keyframe requests (sendUpstream), never more than a small backlog.

import * as net from 'net';
import { GdpDecoder, GdpFrame } from '../../protocol/gdp';
import { EVENT_TYPES } from '../../protocol/gst/event-types';
import { openFeed } from './feed-client';
import { TlsMaterial } from '../tls';

export interface EaterConnectionOptions {
  feed: string;
  /** No data for this long ends the connection (ms). */
  checkIntervalMs: number;
  maxPayloadSize?: number;
  onFrame(frame: GdpFrame): void;
  /** The first buffer arrived: the feed flows. */
  onFlowing(): void;
  /** The connection is over (called once, never after close()), with the error's code when there is one. */
  onEnd(reason: string, code?: string): void;
}

export class EaterConnection {
  private socket: net.Socket | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private lastData = 0;
  private flowingNow = false;
  private ended = false;
  /** When the connection was made (ms since the epoch), 0 before. */
  connectedAt = 0;

  constructor(private readonly o: EaterConnectionOptions) {}

  get flowing(): boolean {
    return this.flowingNow;
  }

  get lastDataAgoMs(): number | null {
    return this.lastData ? Date.now() - this.lastData : null;
  }

  get peer(): string | null {
    const s = this.socket;
    return s ? `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}` : null;
  }

  /** eatFrom: connects to the upstream worker's feed server; a refused handshake ends with its code. */
  open(host: string, port: number, secret: string, tls?: TlsMaterial): void {
    openFeed({ host, port, secret, op: 'eat', feed: this.o.feed, tls }).then(
      ({ socket, leftover }) => {
        if (this.ended) socket.destroy();
        else this.attach(socket, leftover);
      },
      (e: Error & { code?: string }) => this.end(`${e.code ? `${e.code}: ` : ''}${e.message}`, e.code),
    );
  }

  /** feedTo: the feed server handed us a socket an upstream feeder pushes GDP on (paused; resumed here). */
  attach(socket: net.Socket, leftover: Buffer): void {
    if (this.ended) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    this.connectedAt = Date.now();
    const decoder = new GdpDecoder({
      maxPayloadSize: this.o.maxPayloadSize,
      onFrame: (f) => {
        if (this.ended) return;
        this.lastData = Date.now();
        // Flowing means media: a feeder whose own upstream is idle primes a new eater with its
        // sticky events and then says nothing, which is no reason to turn happy for a moment.
        if (!this.flowingNow && f.kind === 'buffer') {
          this.flowingNow = true;
          this.o.onFlowing();
        }
        this.o.onFrame(f);
        if (f.kind === 'event' && f.eventType === EVENT_TYPES.eos) this.end('EOS');
      },
    });
    const feedBytes = (chunk: Buffer) => {
      if (this.ended) return;
      const err = decoder.push(chunk);
      if (err) this.end(`${err.code}: ${err.message}`, err.code);
    };
    socket.on('data', feedBytes);
    socket.on('error', (e: NodeJS.ErrnoException) => this.end(`socket error: ${e.code ?? e.message}`));
    socket.on('close', () => this.end('hang-up'));
    this.lastData = Date.now();
    const every = Math.max(20, Math.min(250, this.o.checkIntervalMs / 4));
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastData > this.o.checkIntervalMs) this.end(`no data for ${this.o.checkIntervalMs} ms`);
    }, every);
    this.watchdog.unref();
    if (leftover.length) feedBytes(leftover);
    socket.resume();
  }

  /** Sends a frame upstream to the feeder (a keyframe request); false when not connected or backed up. */
  sendUpstream(frame: GdpFrame): boolean {
    const s = this.socket;
    if (!s || this.ended || s.destroyed || s.writableLength > 16 * 1024) return false;
    s.write(frame.bytes);
    return true;
  }

  /** Closes without reporting an end (the owner stops on purpose). Idempotent. */
  close(): void {
    this.finish();
  }

  private end(reason: string, code?: string): void {
    if (this.ended) return;
    this.finish();
    this.o.onEnd(reason, code);
  }

  private finish(): void {
    this.ended = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.flowingNow = false;
    const s = this.socket;
    this.socket = null;
    s?.destroy();
  }
}
