// One eater's connection to one feed, from the first byte to its end: a socket (opened by
// eatFrom through the feed server's handshake, or handed over by the feed server when an
// upstream feeder pushes to us with feedTo), its GDP decoder and its silence watchdog. Bytes go
// from the socket straight into the decoder and each frame to a direct callback. It resumes the
// feed after the last buffer forwarded (its FeedFlow keeps that across connections) and marks
// the first buffer DISCONT when the feeder says buffers were lost. It flows once a media buffer
// arrives (never on events, filler, headers, or an old buffer replayed); media silent past the
// flow's bound ends it. It never reconnects: it ends exactly once with a reason (hang-up, EOS,
// a GDP error, silence, a refused handshake) and the eater actor that owns it is restarted. Upstream it sends only
// keyframe requests (sendUpstream), never more than a small backlog.

import * as net from 'net';
import { BUFFER_FLAG, GdpDecoder, GdpFrame, toFrame } from '../../protocol/gdp';
import { EVENT_TYPES } from '../../protocol/gst/event-types';
import { FeedStart, startSchema } from '../../protocol/feed-handshake';
import { openFeed, readLine } from './feed-client';
import { FeedFlow, isMedia } from './feed-flow';
import { TlsMaterial } from '../tls';

export interface EaterConnectionOptions {
  feed: string;
  /** The feed's flow across connections (last media, cadence, resume point); a fresh one when absent. */
  flow?: FeedFlow;
  /** The check interval of a fresh flow (ms; default 1500). */
  checkIntervalMs?: number;
  maxPayloadSize?: number;
  onFrame(frame: GdpFrame): void;
  /** A media buffer arrived within the flow's bound: the feed flows. */
  onFlowing(): void;
  /** The connection is over (called once, never after close()), with the error's code when there is one. */
  onEnd(reason: string, code?: string): void;
}

/** A buffer packet with DISCONT set (its header CRC computed again). */
function discont(f: GdpFrame): GdpFrame {
  const p = f.toPacket();
  if (p.kind !== 'buffer') return f;
  return toFrame({ ...p, flags: p.flags | BUFFER_FLAG.DISCONT }, { crcHeader: f.crcHeader, crcPayload: f.crcPayload });
}

export class EaterConnection {
  readonly flow: FeedFlow;
  private socket: net.Socket | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  /** The last media buffer on this connection (ms since the epoch), 0 before any. */
  private lastMedia = 0;
  private flowingNow = false;
  private ended = false;
  /** When the connection was made (ms since the epoch), 0 before. */
  connectedAt = 0;
  /** Where the feeder started us (null before its START line). */
  start: FeedStart | null = null;

  constructor(private readonly o: EaterConnectionOptions) {
    this.flow = o.flow ?? new FeedFlow(o.checkIntervalMs ?? 1500);
  }

  get flowing(): boolean {
    return this.flowingNow;
  }

  /** How long ago media last arrived on this feed (any connection), null before any. */
  get lastDataAgoMs(): number | null {
    return this.flow.lastMediaAgoMs();
  }

  get peer(): string | null {
    const s = this.socket;
    return s ? `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}` : null;
  }

  /** eatFrom: connects to the upstream worker's feed server; a refused handshake ends with its code. */
  open(host: string, port: number, secret: string, tls?: TlsMaterial): void {
    openFeed({ host, port, secret, op: 'eat', feed: this.o.feed, tls, resume: this.flow.resume }).then(
      ({ socket, leftover, start }) => {
        if (this.ended) socket.destroy();
        else this.run(socket, leftover, start as FeedStart);
      },
      (e: Error & { code?: string }) => this.fail(e),
    );
  }

  /**
   * feedTo: the feed server handed us a socket an upstream feeder pushes to us (paused): we say
   * where we resume, it says where it starts, then GDP.
   */
  attach(socket: net.Socket, leftover: Buffer): void {
    if (this.ended) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    socket.on('error', () => undefined); // reported through close
    socket.write(JSON.stringify({ resume: this.flow.resume }) + '\n');
    readLine(socket, leftover, startSchema, 'start line').then(
      ({ value, rest }) => {
        if (this.ended) socket.destroy();
        else this.run(socket, rest, value);
      },
      (e: Error & { code?: string }) => this.fail(e),
    );
  }

  private fail(e: Error & { code?: string }): void {
    this.end(`${e.code ? `${e.code}: ` : ''}${e.message}`, e.code);
  }

  private run(socket: net.Socket, leftover: Buffer, start: FeedStart): void {
    this.socket = socket;
    this.start = start;
    const connectedAt = (this.connectedAt = Date.now());
    const flow = this.flow;
    const resumed = !!flow.resume && flow.resume.stream === start.stream;
    if (resumed) {
      flow.resumes++;
      flow.buffersLost += start.lost;
    }
    let primeLeft = start.prime;
    let next = start.from;
    let markDiscont = start.lost > 0;
    // Buffers queued before we came were produced `idleMs` ago at the latest: a replay of old data is no flow.
    const replayedAt = connectedAt - (start.idleMs ?? 0);
    const decoder = new GdpDecoder({
      maxPayloadSize: this.o.maxPayloadSize,
      // An exact resume continues a stream whose caps the component has already.
      requireCaps: !(resumed && start.prime === 0),
      onFrame: (frame) => {
        if (this.ended) return;
        let f = frame;
        if (primeLeft > 0) {
          primeLeft--;
          this.o.onFrame(f);
          return;
        }
        if (f.kind !== 'buffer') {
          this.o.onFrame(f);
          if (f.eventType === EVENT_TYPES.eos && f.kind === 'event') this.end('EOS');
          return;
        }
        const n = next++;
        if (markDiscont) {
          markDiscont = false;
          f = discont(f);
        }
        this.o.onFrame(f);
        flow.resume = { stream: start.stream, after: n };
        if (!isMedia(f)) return;
        const now = Date.now();
        const replayed = start.head !== null && n <= start.head;
        const at = replayed ? replayedAt : now;
        // Cadence is learned from live buffers following each other on a flowing connection.
        flow.media(at, !replayed && this.flowingNow && this.lastMedia ? at - this.lastMedia : null);
        if (at > this.lastMedia) this.lastMedia = at;
        if (!this.flowingNow && now - at <= flow.bound(now)) {
          this.flowingNow = true;
          this.o.onFlowing();
        }
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
    // Silence: no media for the bound since the last media of this connection (since it was
    // made, when none came): the connection ends, and the feed is not flowing from then on.
    const every = Math.max(20, Math.min(100, flow.checkIntervalMs / 4));
    this.watchdog = setInterval(() => {
      const now = Date.now();
      const bound = flow.bound(now);
      const since = this.flowingNow ? this.lastMedia : connectedAt;
      if (now - since > bound) this.end(`no media for ${Math.round(bound)} ms`);
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
