// The multi-client sender (our multifdsink): one BufferQueue, many ClientHandles. Owns the
// I/O loop: after each push it pumps every ready client, batching queued buffers into one
// write per client, parks clients whose handle pushes back until they drain, and removes
// clients that close, fail, lag past the hard limit or time out, always with a reason and stats.
// A client may also be detached with its handle open (reason `moved`) and added to another sender.
// Data path: push() and the pumps are direct calls; no actor mailbox in between.

import { EventEmitter } from 'events';
import { BufferQueue } from './buffer-queue';
import { AddOptions, ClientStats, Detached, MultiClientSenderEvents, SenderBuffer, SenderTotals } from './sender-types';
import { ClientHandle, HandleEnd, HandleOwner } from './handles';
import { RemoveReason, SenderLimits, SenderLimitsInput, senderLimitsSchema } from './policy';
import { tcpBacklogs } from '../tcp-backlog';

export type { AddOptions, ClientStats, Detached, MultiClientSenderEvents, SenderTotals } from './sender-types';

interface Client {
  readonly id: number;
  readonly handle: ClientHandle;
  readonly connectTime: number;
  readonly connectMono: number;
  blocked: boolean;
  bytesSent: number;
  lastActivity: number;
  /** Bytes the peer has acknowledged as last seen by the backlog probe, and when that grew. */
  acked: number;
  ackedAt: number;
  readonly closeOnRemove: boolean;
  /** Written before anything from the queue; the client joins the stream once it is written. */
  intro: readonly Buffer[] | null;
  /** Being detached: called once it got what was queued for it (null if it left another way first). */
  onDetached: ((d: Detached | null) => void) | null;
}

/** Clients written per turn of the event loop in one flush. */
const FLUSH_SLICE = 1000;

export class MultiClientSender extends EventEmitter<MultiClientSenderEvents> implements HandleOwner<Client> {
  readonly queue: BufferQueue;
  private readonly clients = new Map<number, Client>();
  private readonly byKey = new Map<unknown, number>();
  private flushScheduled = false;
  private flushTimer: NodeJS.Timeout | null = null;
  private sinceFlush = 0;
  private lastFlush = 0;
  private timer: NodeJS.Timeout | null = null;
  private peak = 0;
  private served = 0;
  private queuedTotal = 0;
  private buffersTotal = 0;
  private removedTotal = 0;
  private closed = false;

  constructor(limits: SenderLimitsInput = {}) {
    super();
    this.queue = new BufferQueue(senderLimitsSchema.parse(limits));
    this.armTimeout();
  }

  get limits(): SenderLimits {
    return this.queue.limits;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Changes limits for everyone (validated; invalid input throws a zod error and changes nothing). */
  setLimits(changes: SenderLimitsInput): void {
    this.queue.limits = senderLimitsSchema.parse({ ...this.queue.limits, ...changes });
    this.armTimeout();
  }

  /**
   * Adds a client. A handle that is already a client is refused: 'client-removed' reports it
   * with reason 'duplicate' (the existing client stays), and null is returned.
   */
  add(handle: ClientHandle, options: AddOptions = {}): number | null {
    if (this.closed) throw new Error('sender is closed');
    if (this.byKey.has(handle.key)) {
      const now = Date.now();
      this.emit('client-removed', -1, 'duplicate', {
        id: -1, peer: handle.describe(), bytesSent: 0, buffersSent: 0, buffersDropped: 0, connectTime: now,
        disconnectTime: now, connectDurationMs: 0, lastActivity: performance.now(), firstPtsMs: null, lastPtsMs: null, error: null,
      });
      return null;
    }
    const intro = options.intro?.length ? options.intro : null;
    const cursor = this.queue.addClient(options, intro !== null);
    const client: Client = {
      id: cursor.id,
      handle,
      connectTime: options.connectTime ?? Date.now(),
      connectMono: performance.now(),
      blocked: false,
      bytesSent: 0,
      lastActivity: performance.now(),
      acked: 0,
      ackedAt: performance.now(),
      closeOnRemove: options.closeOnRemove ?? false,
      intro,
      onDetached: null,
    };
    this.clients.set(client.id, client);
    this.byKey.set(handle.key, client.id);
    if (this.clients.size > this.peak) this.peak = this.clients.size;
    handle.attach<Client>(this, client);
    this.emit('client-added', client.id);
    if (options.prefix?.length) {
      const bytes = options.prefix.reduce((n, b) => n + b.length, 0);
      client.bytesSent += bytes;
      this.served += bytes;
      if (!handle.write(options.prefix, bytes)) client.blocked = true;
      if (!this.clients.has(client.id)) return client.id; // the write failed at once and removed it
    }
    this.pump(client);
    return client.id;
  }

  /** Queues a buffer for every client (the data path) and schedules the writes. */
  push(buf: SenderBuffer): void {
    if (this.closed) return;
    this.queuedTotal += buf.size;
    this.buffersTotal++;
    this.sinceFlush += buf.size;
    // Only a client whose handle pushes back is really behind; one that lags because writes are
    // batched (or upstream sent a large burst at once) is written to at the next flush.
    const behind = (id: number) => this.clients.get(id)?.blocked ?? true;
    for (const [cursor, reason] of this.queue.push(buf, behind)) this.finish(cursor.id, reason, cursor.stats);
    const L = this.queue.limits;
    if (L.writeThresholdBytes > 0 && this.sinceFlush >= L.writeThresholdBytes) {
      // Adaptive batching: enough gathered, write now.
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = null;
      this.flushScheduled = true;
      setImmediate(() => this.flushAll());
      return;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (L.writeIntervalMs > 0) {
      // Batch: write once the interval since the last flush has passed.
      const wait = Math.max(0, this.lastFlush + L.writeIntervalMs - performance.now());
      this.flushTimer = setTimeout(() => this.flushAll(), wait);
      this.flushTimer.unref();
    } else {
      setImmediate(() => this.flushAll());
    }
  }

  setStreamheader(buffers: readonly Buffer[]): void {
    this.queue.setStreamheader(buffers);
  }

  remove(id: number, reason: RemoveReason = 'removed'): boolean {
    if (!this.clients.has(id)) return false;
    this.finish(id, reason);
    return true;
  }

  /** Sends the client what is queued for it up to now, then removes it (reason 'removed'). */
  removeFlush(id: number): void {
    const c = this.clients.get(id);
    if (!c) return;
    this.queue.flushClient(id);
    this.pump(c);
  }

  /**
   * Detaches a client without closing its handle (a listener moving to another sender): it first
   * gets what is queued for it up to now (as remove-flush), then leaves with reason `moved` and
   * `done` receives its handle, free to be added elsewhere, with its stats. False when there is
   * no such client or it is already leaving; `done(null)` when it goes another way meanwhile
   * (its peer closes, it is slow).
   */
  detach(id: number, done: (d: Detached | null) => void): boolean {
    const c = this.clients.get(id);
    if (!c || c.onDetached) return false;
    c.onDetached = done;
    this.queue.flushClient(id);
    if (!c.blocked) this.pump(c);
    return true;
  }

  /** True while the client is being detached (see detach()). */
  detaching(id: number): boolean {
    return !!this.clients.get(id)?.onDetached;
  }

  clear(): void {
    for (const id of [...this.clients.keys()]) this.remove(id, 'removed');
  }

  stats(id: number): ClientStats | undefined {
    const c = this.clients.get(id);
    return c ? this.statsOf(c, 0) : undefined;
  }

  allStats(): ClientStats[] {
    return [...this.clients.values()].map((c) => this.statsOf(c, 0));
  }

  totals(): SenderTotals {
    return {
      clients: this.clients.size,
      peakClients: this.peak,
      bytesQueued: this.queuedTotal,
      bytesServed: this.served,
      buffersQueued: this.buffersTotal,
      queueBytes: this.queue.queuedBytes,
      queueBuffers: this.queue.length,
      clientsRemoved: this.removedTotal,
    };
  }

  /** Removes every client and stops the timers. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.clear();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private flushAll(): void {
    if (!this.flushScheduled) return; // already written by an earlier flush
    this.flushScheduled = false;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.sinceFlush = 0;
    this.lastFlush = performance.now();
    if (this.clients.size <= FLUSH_SLICE) {
      for (const c of this.clients.values()) if (!c.blocked) this.pump(c);
      return;
    }
    // Thousands of listeners are written in slices, yielding between them, so that a flush
    // never holds the process away from new connections and their bursts for long.
    const all = [...this.clients.values()];
    const slice = (from: number) => {
      const end = Math.min(all.length, from + FLUSH_SLICE);
      for (let i = from; i < end; i++) {
        const c = all[i];
        if (!c.blocked && this.clients.has(c.id)) this.pump(c);
      }
      if (end < all.length && !this.closed) setImmediate(() => slice(end));
    };
    slice(0);
  }

  /** Writes batches to one client until it pushes back or has nothing left. */
  private pump(c: Client): void {
    const q = this.queue;
    if (c.intro) {
      // The intro first, whole; the client joins the stream once its handle took it all.
      const intro = c.intro;
      c.intro = null;
      const bytes = intro.reduce((n, b) => n + b.length, 0);
      c.bytesSent += bytes;
      this.served += bytes;
      const more = c.handle.write([...intro], bytes);
      if (!this.clients.has(c.id)) return;
      if (!more) {
        c.blocked = true;
        return;
      }
      c.lastActivity = performance.now();
      q.join(c.id);
    }
    while (!c.blocked) {
      const batch = q.take(c.id);
      if (!batch) break;
      c.bytesSent += batch.bytes;
      this.served += batch.bytes;
      const more = c.handle.write(batch.chunks, batch.bytes);
      if (!this.clients.has(c.id)) return; // the write failed synchronously and removed it
      if (more) c.lastActivity = performance.now();
      else c.blocked = true;
    }
    if (!c.blocked && q.flushDone(c.id)) {
      if (c.onDetached) this.finishDetach(c);
      else this.remove(c.id, 'removed');
    }
  }

  /** @internal a handle took everything it was given */
  handleDrained(c: Client): void {
    if (!this.clients.has(c.id)) return;
    c.blocked = false;
    c.lastActivity = performance.now();
    this.queue.join(c.id); // a client that was written its intro joins the stream now
    this.pump(c);
  }

  private finishDetach(c: Client): void {
    const done = c.onDetached;
    c.onDetached = null;
    const cursorStats = this.queue.cursor(c.id)?.stats;
    this.queue.removeClient(c.id);
    this.clients.delete(c.id);
    this.byKey.delete(c.handle.key);
    this.removedTotal++;
    const stats = this.statsOf(c, Date.now(), cursorStats);
    c.handle.detach();
    this.emit('client-removed', c.id, 'moved', stats);
    done?.({ handle: c.handle, stats });
  }

  /** @internal a handle's peer went away or its writes failed */
  handleEnded(c: Client, end: HandleEnd): void {
    if (this.clients.has(c.id)) this.finish(c.id, end.reason, undefined, end.error);
  }

  private finish(id: number, reason: RemoveReason, cursorStats = this.queue.cursor(id)?.stats, error?: Error): void {
    const c = this.clients.get(id);
    if (!c) return;
    this.queue.removeClient(id);
    this.clients.delete(id);
    this.byKey.delete(c.handle.key);
    this.removedTotal++;
    const stats = this.statsOf(c, Date.now(), cursorStats);
    stats.error = error ?? null;
    c.handle.release(c.closeOnRemove);
    this.emit('client-removed', id, reason, stats);
    c.onDetached?.(null);
  }

  private statsOf(c: Client, disconnectTime: number, cursorStats = this.queue.cursor(c.id)?.stats): ClientStats {
    const now = Date.now();
    return {
      id: c.id,
      peer: c.handle.describe(),
      bytesSent: c.bytesSent - c.handle.pendingBytes,
      buffersSent: cursorStats?.buffersSent ?? 0,
      buffersDropped: cursorStats?.buffersDropped ?? 0,
      connectTime: c.connectTime,
      disconnectTime,
      connectDurationMs: (disconnectTime || now) - c.connectTime,
      lastActivity: c.lastActivity,
      firstPtsMs: cursorStats?.firstPtsMs ?? null,
      lastPtsMs: cursorStats?.lastPtsMs ?? null,
      error: null,
    };
  }

  /**
   * Checks inactivity: a client that took none of the data waiting for it for timeoutMs is
   * removed as slow. "Took" means what its peer acknowledged where the kernel tells us
   * (Linux, TCP: transport/tcp-backlog.ts), so a listener that stops reading is noticed after
   * timeoutMs even while the kernel still buffers megabytes for it; elsewhere, what its handle
   * accepted (the kernel's buffers first, then backpressure).
   */
  private armTimeout(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const t = this.queue.limits.timeoutMs;
    if (t <= 0 || this.closed) return;
    let probing = false;
    this.timer = setInterval(() => {
      if (probing) return;
      const ports = new Set<number>();
      for (const c of this.clients.values()) if (c.handle.tcp) ports.add(c.handle.tcp.localPort);
      if (ports.size === 0) return this.checkIdle(t, null);
      probing = true;
      void tcpBacklogs(ports).then((b) => {
        probing = false;
        if (!this.closed) this.checkIdle(t, b);
      });
    }, Math.max(10, Math.min(t >= 4000 ? 5000 : 1000, t / 4)));
    this.timer.unref();
  }

  private checkIdle(t: number, backlogs: Map<string, number> | null): void {
    const now = performance.now();
    for (const c of [...this.clients.values()]) {
      const pending = c.blocked || this.queue.hasPending(c.id);
      const tcp = c.handle.tcp;
      if (backlogs && tcp) {
        const unacked = backlogs.get(tcp.key) ?? 0;
        const acked = c.bytesSent - c.handle.pendingBytes - unacked;
        if (acked > c.acked || (!pending && unacked === 0)) {
          c.acked = Math.max(c.acked, acked);
          c.ackedAt = now;
        } else if (now - c.ackedAt > t) {
          this.remove(c.id, 'slow');
        }
        continue;
      }
      if (pending && now - c.lastActivity > t) this.remove(c.id, 'slow');
      else if (!pending) c.lastActivity = now;
    }
  }
}
