// A message channel over one WebSocket: msgpackr frames, each checked with a zod schema where
// it enters (a bad frame is reported, never thrown; the connection lives on), and heartbeats:
// both ends ping every interval, and silence longer than the timeout ends the channel as if
// the link closed ('timeout' then 'close'). Owns no policy about what the messages mean.

import { EventEmitter } from 'events';
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import { z } from 'zod';

const packr = new Packr({ useRecords: false, moreTypes: false });

export interface ChannelEvents<In> {
  message: [msg: In];
  bad: [reason: string];
  timeout: [];
  close: [];
}

export class WsChannel<In extends { type: string }, Out extends { type: string }> extends EventEmitter<ChannelEvents<In>> {
  private lastSeen = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Largest frame decoded; bigger ones are bad frames, refused before msgpack sees them. */
  maxFrameBytes = 8 * 1024 * 1024;
  /** Bad frames tolerated before the connection is cut (Infinity: never). */
  maxBadFrames = Infinity;
  badFrames = 0;

  constructor(
    readonly ws: WebSocket,
    private readonly schema: z.ZodType<In>,
  ) {
    super();
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('close', () => this.end());
    ws.on('error', () => this.end());
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  send(msg: Out): void {
    if (!this.isOpen) return;
    this.ws.send(packr.pack(msg));
  }

  /** Starts heartbeats: a ping every intervalMs; no frame for timeoutMs ends the channel. */
  heartbeat(intervalMs: number, timeoutMs: number): void {
    if (this.timer) clearInterval(this.timer);
    this.lastSeen = Date.now();
    let lastPing = 0;
    // Silence is checked more often than pings are sent, so a dead link is declared at most
    // a tenth of the timeout after the timeout itself.
    const tick = Math.max(10, Math.min(intervalMs, timeoutMs / 10));
    this.timer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastSeen > timeoutMs) {
        this.emit('timeout');
        this.ws.terminate(); // no FIN handshake to wait for on a dead link
        this.end();
        return;
      }
      if (now - lastPing >= intervalMs) {
        lastPing = now;
        this.send({ type: 'ping', t: now } as unknown as Out);
      }
    }, tick);
    this.timer.unref?.();
  }

  close(): void {
    if (this.closed) return;
    try {
      this.ws.close();
    } catch {
      this.ws.terminate();
    }
    this.end();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    this.lastSeen = Date.now();
    if (!isBinary) return this.bad('text frames are not accepted');
    if (data.length > this.maxFrameBytes) return this.bad(`frame of ${data.length} bytes refused (at most ${this.maxFrameBytes} here)`);
    let raw: unknown;
    try {
      raw = packr.unpack(data);
    } catch (e) {
      return this.bad(`undecodable frame: ${(e as Error).message}`);
    }
    const parsed = this.schema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      return this.bad(`invalid message at ${i.path.join('.') || '(top)'}: ${i.message}`);
    }
    const msg = parsed.data;
    if (msg.type === 'ping') {
      this.send({ type: 'pong', t: (msg as unknown as { t: number }).t } as unknown as Out);
      return;
    }
    if (msg.type === 'pong') return;
    this.emit('message', msg);
  }

  private bad(reason: string): void {
    this.badFrames++;
    this.emit('bad', reason);
    if (this.badFrames >= this.maxBadFrames) {
      this.ws.terminate();
      this.end();
    }
  }

  /** Drops the connection at once, without a closing handshake (a refused or hostile peer). */
  terminate(): void {
    this.ws.terminate();
    this.end();
  }

  /** The peer's address, for per-address limits and logs. */
  get peer(): string {
    return (this.ws as unknown as { _socket?: { remoteAddress?: string } })._socket?.remoteAddress ?? '?';
  }

  /** Raises (or lowers) the largest frame the WebSocket layer itself accepts from the peer. */
  setMaxPayload(bytes: number): void {
    // ws keeps this per connection in its receiver; the server-wide option is the pre-login bound.
    const receiver = (this.ws as unknown as { _receiver?: { _maxPayload?: number } })._receiver;
    if (receiver && typeof receiver._maxPayload === 'number') receiver._maxPayload = bytes;
    this.maxFrameBytes = bytes;
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.emit('close');
  }
}
