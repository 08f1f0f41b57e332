// Thin adapters that let the multi-client sender write to anything: a net.Socket or other
// Writable stream, a raw file descriptor (socket, pipe or file), or a file it opens itself.
// They only know how to write a batch and when they can take more; all policy is in the sender.
// A handle closes its fd or stream on release only if it owns it (opened it, or was told to).

import * as fs from 'fs';
import { Writable } from 'stream';
import { Socket } from 'net';
import { socketKey } from '../tcp-backlog';

export type HandleEnd = { reason: 'closed' | 'error'; error?: Error };

/** Who a handle reports to (the sender), with the token it was given: no closures per client. */
export interface HandleOwner<T = unknown> {
  handleDrained(token: T): void;
  handleEnded(token: T, end: HandleEnd): void;
}

export interface ClientHandle {
  /** Identity for duplicate detection: the same socket, fd number or path twice is a duplicate. */
  readonly key: unknown;
  /** Writes one batch; returns false when the writer should wait for the drain callback. */
  write(chunks: Buffer[], bytes: number): boolean;
  /** Bytes accepted by write() but not yet handed to the kernel. */
  readonly pendingBytes: number;
  /** Registers the sender (called once, when the client is added). */
  attach<T>(owner: HandleOwner<T>, token: T): void;
  /** Releases the handle: stops listening, and closes what it owns (or everything, with close). Idempotent. */
  release(close?: boolean): void;
  /**
   * Lets go of its sender without closing anything (a listener moved to another sender): it
   * stops reporting to that owner and may be attached to another one.
   */
  detach(): void;
  /** Peer address or path, for logs and stats. */
  describe(): string;
  /** A TCP connection's key and local port, for the kernel backlog probe (transport/tcp-backlog.ts). */
  readonly tcp?: { key: string; localPort: number } | null;
}

const OWNER = Symbol('fluxcast.handle');

// Listeners shared by every StreamHandle (`this` is the stream): 10,000 listeners cost no
// closures. Each finds its handle through a symbol property on the stream.
function streamDrained(this: Writable): void {
  (this as unknown as Record<symbol, StreamHandle | undefined>)[OWNER]?.drained();
}
function streamErrored(this: Writable, error: Error): void {
  (this as unknown as Record<symbol, StreamHandle | undefined>)[OWNER]?.ended({ reason: isPeerGone(error) ? 'closed' : 'error', error });
}
function streamClosed(this: Writable): void {
  (this as unknown as Record<symbol, StreamHandle | undefined>)[OWNER]?.ended({ reason: 'closed' });
}

/** A socket or any Writable stream (child process pipes included). */
export class StreamHandle implements ClientHandle {
  private released = false;
  private finished = false;
  private readonly highWater: number;
  readonly tcp: { key: string; localPort: number } | null;
  private owner: HandleOwner<unknown> | null = null;
  private token: unknown = null;

  constructor(
    readonly stream: Writable,
    private readonly options: { owned?: boolean; highWaterBytes?: number; label?: string } = {},
  ) {
    this.highWater = options.highWaterBytes ?? 64 * 1024;
    const key = stream instanceof Socket ? socketKey(stream) : null;
    this.tcp = key && stream instanceof Socket ? { key, localPort: stream.localPort as number } : null;
  }

  get key(): unknown {
    return this.stream;
  }

  get pendingBytes(): number {
    return this.stream.writableLength;
  }

  write(chunks: Buffer[], _bytes: number): boolean {
    const s = this.stream;
    if (chunks.length === 1) {
      s.write(chunks[0]);
    } else {
      s.cork();
      for (const c of chunks) s.write(c);
      s.uncork(); // one writev for the whole batch
    }
    return s.writableLength < this.highWater;
  }

  attach<T>(owner: HandleOwner<T>, token: T): void {
    const s = this.stream;
    this.owner = owner as HandleOwner<unknown>;
    this.token = token;
    (s as unknown as Record<symbol, StreamHandle>)[OWNER] = this;
    s.on('drain', streamDrained);
    if (!s.listeners('error').includes(streamErrored)) s.on('error', streamErrored); // kept by detach()
    s.on('close', streamClosed);
    if (s instanceof Socket) {
      // What clients send is read and discarded (multifdsink's handle-read): a flowing socket
      // with no data listener drops it. EOF means they left.
      s.on('end', streamClosed);
      s.resume();
    }
  }

  /** @internal from the shared listeners */
  drained(): void {
    if (!this.released) this.owner?.handleDrained(this.token);
  }

  /** @internal from the shared listeners */
  ended(e: HandleEnd): void {
    if (this.finished || this.released) return;
    this.finished = true;
    this.owner?.handleEnded(this.token, e);
  }

  release(close = false): void {
    if (this.released) return;
    this.released = true;
    this.unhook();
    if (this.options.owned || close) this.stream.destroy();
  }

  detach(): void {
    if (!this.released) this.unhook();
  }

  private unhook(): void {
    const s = this.stream;
    s.removeListener('drain', streamDrained);
    s.removeListener('close', streamClosed);
    s.removeListener('end', streamClosed);
    delete (s as unknown as Record<symbol, StreamHandle | undefined>)[OWNER];
    // streamErrored stays: late errors of a released stream find no handle and are dropped.
    this.owner = null;
  }

  describe(): string {
    if (this.options.label) return this.options.label;
    const s = this.stream;
    return s instanceof Socket ? `${s.remoteAddress ?? 'socket'}:${s.remotePort ?? ''}` : 'stream';
  }
}

function isPeerGone(e: Error): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED';
}

/**
 * A raw file descriptor (regular file, pipe or socket), written with fs.writev from libuv's pool,
 * one write in flight at a time. Not closed on release unless `owned`.
 */
export class FdHandle implements ClientHandle {
  private inFlight = 0;
  private released = false;
  private owner: HandleOwner<unknown> | null = null;
  private token: unknown = null;
  private queue: Buffer[] = [];

  constructor(
    readonly fd: number,
    private readonly options: { owned?: boolean; label?: string } = {},
  ) {}

  get key(): unknown {
    return `fd:${this.fd}`;
  }

  get pendingBytes(): number {
    return this.inFlight;
  }

  write(chunks: Buffer[], bytes: number): boolean {
    if (this.released) return false;
    if (this.inFlight > 0) {
      this.queue.push(...chunks);
      return false;
    }
    this.inFlight = bytes;
    this.writeAll(chunks);
    return false; // completion calls onDrain
  }

  private writeAll(chunks: Buffer[]): void {
    fs.writev(this.fd, chunks, (err, written) => {
      if (this.released) return;
      if (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          setTimeout(() => this.writeAll(chunks), 5);
          return;
        }
        this.inFlight = 0;
        this.owner?.handleEnded(this.token, { reason: isPeerGone(err) ? 'closed' : 'error', error: err });
        return;
      }
      const rest = skipBytes(chunks, written);
      if (rest.length) {
        this.writeAll(rest); // short write: go on with what is left
        return;
      }
      if (this.queue.length) {
        const next = this.queue;
        this.queue = [];
        this.writeAll(next);
        return;
      }
      this.inFlight = 0;
      this.owner?.handleDrained(this.token);
    });
  }

  attach<T>(owner: HandleOwner<T>, token: T): void {
    this.owner = owner as HandleOwner<unknown>;
    this.token = token;
  }

  /** A write in flight completes for whoever attaches next (or nobody). */
  detach(): void {
    this.owner = null;
  }

  release(close = false): void {
    if (this.released) return;
    this.released = true;
    if (this.options.owned || close) {
      // Let a write in flight finish before the fd goes away.
      const close = () => fs.close(this.fd, () => undefined);
      if (this.inFlight) setTimeout(close, 100);
      else close();
    }
  }

  describe(): string {
    return this.options.label ?? `fd ${this.fd}`;
  }
}

function skipBytes(chunks: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < chunks.length && n >= chunks[i].length) n -= chunks[i++].length;
  if (i >= chunks.length) return [];
  const rest = chunks.slice(i);
  if (n > 0) rest[0] = rest[0].subarray(n);
  return rest;
}

/** A file the sender opens itself (a recording); closed when the client is removed. */
export async function openFileHandle(path: string, flags: 'w' | 'a' | 'wx' = 'wx'): Promise<FdHandle> {
  const fd = await new Promise<number>((resolve, reject) => fs.open(path, flags, 0o644, (e, f) => (e ? reject(e) : resolve(f))));
  return new FdHandle(fd, { owned: true, label: path });
}
