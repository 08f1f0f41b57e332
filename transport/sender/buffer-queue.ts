// The pure core of the multi-client sender: one queue of buffers, one read position per
// client, sync methods, streamheaders, soft/hard limits and the recover policies. No I/O:
// the sender asks `take()` what to write next to a client and reports back; tests drive it directly.
// Invariants: every client position is WAITING or a sequence number inside the queue; the queue
// never holds more than limits.maxQueueBytes (clients further behind are removed as slow).

import { Amount, RemoveReason, SenderLimits, UnitFormat } from './policy';
import { Batch, ClientOptions, Cursor, SenderBuffer, WAITING } from './sender-types';

export { WAITING };
export type { Batch, ClientOptions, Cursor, CursorStats, SenderBuffer } from './sender-types';

interface Entry {
  readonly buf: SenderBuffer;
  /** Bytes queued before this entry since the start (for byte lags). */
  readonly byteStart: number;
}

/** From this many clients on, a batch is joined into one buffer that all of them write. */
const SHARE_CLIENTS = 8;

/**
 * How a new buffer travels (compare gst_multi_handle_sink_queue_buffer):
 *
 * 1. It is appended with the next sequence number; its running byte offset is recorded, so the
 *    lag of any client in buffers, bytes or time is a subtraction, not a walk. No client is
 *    touched by the append itself: positions are absolute, so 10,000 idle clients cost nothing.
 * 2. Clients still WAITING (just added, or resynced to "latest") get their start position now,
 *    chosen by their sync method; keyframe methods keep waiting until a keyframe qualifies.
 * 3. Every client's lag is compared with the limits: at `unitsMax` (or beyond the queue's byte
 *    bound) it is removed as slow, but only if the I/O layer says the client is really behind
 *    (its handle pushes back): a client that lags only because writes are batched, or because
 *    upstream just sent a large burst, loses nothing. At `unitsSoftMax` the recover policy
 *    moves it forward and the skipped buffers count as dropped.
 * 4. The queue is trimmed to the oldest position any remaining client still needs, but kept at
 *    least as long as buffersMin/bytesMin/timeMinMs and the longest configured burst reaching
 *    back to a keyframe, so that every new client can get its whole burst from a point where a
 *    decoder can start. maxQueueBytes bounds all of it.
 */
export class BufferQueue {
  private entries: Entry[] = [];
  private firstSeq = 0; // sequence number of entries[0]
  private bytesTotal = 0; // bytes ever queued
  private newestPts: number | null = null; // PTS of the newest timestamped buffer
  private readonly cursors = new Map<number, Cursor>();
  private headers: Buffer[] = [];
  private headerBytes = 0;
  private headerVersionNow = 0;
  private nextId = 1;
  /**
   * Batches already built since the queue last changed, by start position and whether the
   * streamheader leads: 10,000 clients at the same position share one chunk list.
   */
  private batches = new Map<string, Batch & { next: number; firstPts: number | null; lastPts: number | null }>();

  constructor(public limits: SenderLimits) {}

  get nextSeq(): number {
    return this.firstSeq + this.entries.length;
  }
  get length(): number {
    return this.entries.length;
  }
  /** Sequence number of the oldest buffer still queued (= nextSeq when the queue is empty). */
  get oldestSeq(): number {
    return this.firstSeq;
  }
  /** The buffer queued under `seq`, while it is still held. */
  bufferAt(seq: number): SenderBuffer | undefined {
    return seq >= this.firstSeq && seq < this.nextSeq ? this.entries[seq - this.firstSeq].buf : undefined;
  }
  get queuedBytes(): number {
    return this.entries.length ? this.bytesTotal - this.entries[0].byteStart : 0;
  }
  get clientCount(): number {
    return this.cursors.size;
  }
  get streamheader(): readonly Buffer[] {
    return this.headers;
  }
  get headerVersion(): number {
    return this.headerVersionNow;
  }
  cursor(id: number): Cursor | undefined {
    return this.cursors.get(id);
  }
  clientIds(): number[] {
    return [...this.cursors.keys()];
  }

  /** Replaces the streamheader (codec headers, or GDP sticky packets) that new clients get first. */
  setStreamheader(buffers: readonly Buffer[]): void {
    const same = buffers.length === this.headers.length && buffers.every((b, i) => b.equals(this.headers[i]));
    if (same) return;
    this.batches.clear();
    this.headers = [...buffers];
    this.headerBytes = buffers.reduce((n, b) => n + b.length, 0);
    this.headerVersionNow++;
  }

  /** True when `bytes` equal one of the current streamheader buffers (such in-band copies are not queued). */
  isStreamheader(bytes: Buffer): boolean {
    return this.headers.some((h) => h.length === bytes.length && h.equals(bytes));
  }

  /**
   * Adds a client. With `hold` it is not placed yet (push() leaves it WAITING) until join():
   * the sender writes it an intro first, and it joins the stream once that is written.
   */
  addClient(options: ClientOptions = {}, hold = false): Cursor {
    const cursor: Cursor = {
      id: this.nextId++,
      next: WAITING,
      syncMethod: options.syncMethod ?? this.limits.syncMethod,
      burst: options.burst ?? this.limits.burst,
      burstMax: options.burstMax ?? this.limits.burstMax,
      headerVersion: -1,
      flushUntil: null,
      notBefore: options.notBefore ?? 0,
      held: hold,
      stats: { buffersSent: 0, buffersDropped: 0, firstPtsMs: null, lastPtsMs: null },
    };
    this.cursors.set(cursor.id, cursor);
    if (options.streamheader === false) cursor.headerVersion = this.headerVersionNow;
    if (options.startAt !== undefined) {
      cursor.next = Math.min(this.nextSeq, Math.max(this.firstSeq, options.startAt));
      cursor.held = false;
      return cursor;
    }
    if (!hold) this.place(cursor);
    return cursor;
  }

  /** A held client joins the stream now, placed by its sync method. */
  join(id: number): void {
    const c = this.cursors.get(id);
    if (!c?.held) return;
    c.held = false;
    this.place(c);
  }

  /**
   * Methods that reach back into the queue start now; `latest` and `next-keyframe` wait for the
   * next buffer, as in multihandlesink.
   */
  private place(cursor: Cursor): void {
    if (this.entries.length && cursor.syncMethod !== 'latest' && cursor.syncMethod !== 'next-keyframe') {
      cursor.next = this.startFor(cursor, false);
    }
  }

  removeClient(id: number): Cursor | undefined {
    const c = this.cursors.get(id);
    this.cursors.delete(id);
    return c;
  }

  /** remove-flush: the client still gets everything queued up to now, then `take` reports it done. */
  flushClient(id: number): void {
    const c = this.cursors.get(id);
    if (c) c.flushUntil = this.nextSeq;
  }

  /**
   * Queues a buffer (steps 1-4 above). Returns the clients that must now be removed, with the
   * reason, so the I/O layer can close them. `behind(id)` says whether a client over the hard
   * limit is really behind (default: yes); one that is not is kept.
   */
  push(buf: SenderBuffer, behind: (id: number) => boolean = () => true): Array<[Cursor, RemoveReason]> {
    this.batches.clear();
    this.entries.push({ buf, byteStart: this.bytesTotal });
    this.bytesTotal += buf.size;
    if (buf.ptsMs !== null) this.newestPts = buf.ptsMs;
    const removed: Array<[Cursor, RemoveReason]> = [];
    const newest = this.nextSeq - 1;
    for (const c of this.cursors.values()) {
      if (c.next === WAITING) {
        if (c.flushUntil === null && !c.held) c.next = this.startFor(c, true);
        continue;
      }
      if (this.isSlow(c.next) && (this.lag(c.next, 'bytes') > this.limits.maxQueueBytes || behind(c.id))) {
        removed.push([c, 'slow']);
        continue;
      }
      if (this.limits.unitsSoftMax > 0 && this.lag(c.next, this.limits.unitFormat) >= this.limits.unitsSoftMax) {
        this.recover(c, newest);
      }
    }
    for (const [c] of removed) this.cursors.delete(c.id);
    this.trim();
    return removed;
  }

  /**
   * The next batch for a client: the streamheader first when it needs it, then queued buffers
   * from its position, up to `maxBytes` (at least one buffer). Advances the position. Clients at
   * the same position get the same batch object: never change it.
   * Returns null when nothing is ready for this client.
   */
  take(id: number, maxBytes = this.limits.maxBatchBytes): Batch | null {
    const c = this.cursors.get(id);
    if (!c || c.next === WAITING) return null;
    const end = c.flushUntil ?? this.nextSeq;
    if (c.next >= end) return null;
    const withHeader = this.headers.length > 0 && c.headerVersion !== this.headerVersionNow && (c.headerVersion < 0 || this.limits.resendStreamheader);
    c.headerVersion = this.headerVersionNow;
    const key = `${c.next}:${end}:${withHeader ? 1 : 0}:${maxBytes}`;
    let b = this.batches.get(key);
    if (!b) {
      const chunks: Buffer[] = [];
      let bytes = 0;
      let buffers = 0;
      let firstPts: number | null = null;
      let lastPts: number | null = null;
      if (withHeader) {
        chunks.push(...this.headers);
        bytes += this.headerBytes;
      }
      let next = c.next;
      while (next < end && (buffers === 0 || bytes < maxBytes)) {
        const buf = this.entries[next - this.firstSeq].buf;
        for (const chunk of buf.chunks) chunks.push(chunk);
        bytes += buf.size;
        buffers++;
        next++;
        if (buf.ptsMs !== null) {
          if (firstPts === null) firstPts = buf.ptsMs;
          lastPts = buf.ptsMs;
        }
      }
      // Many clients at one position share the batch: joined once into one buffer, each of
      // their writes is a single write (no per-client chunk lists to build and throw away).
      const shared = chunks.length > 1 && this.cursors.size >= SHARE_CLIENTS && bytes <= maxBytes + 65536;
      b = { chunks: shared ? [Buffer.concat(chunks, bytes)] : chunks, bytes, buffers, next, firstPts, lastPts };
      this.batches.set(key, b);
    }
    c.next = b.next;
    if (b.firstPts !== null && c.stats.firstPtsMs === null) c.stats.firstPtsMs = b.firstPts;
    if (b.lastPts !== null) c.stats.lastPtsMs = b.lastPts;
    c.stats.buffersSent += b.buffers;
    return b;
  }

  /** True when some client has not had its first batch (and streamheader) yet. */
  awaitingHeader(): boolean {
    for (const c of this.cursors.values()) if (c.headerVersion < 0) return true;
    return false;
  }

  /** True when a flushing client got everything it was owed. */
  flushDone(id: number): boolean {
    const c = this.cursors.get(id);
    return !!c && c.flushUntil !== null && (c.next === WAITING || c.next >= c.flushUntil);
  }

  /** True when the client has queued data it has not taken yet. */
  hasPending(id: number): boolean {
    const c = this.cursors.get(id);
    return !!c && c.next !== WAITING && c.next < (c.flushUntil ?? this.nextSeq);
  }

  /** Lag of a position: the units from `seq` to the newest buffer, inclusive. */
  lag(seq: number, format: UnitFormat): number {
    if (seq === WAITING || seq >= this.nextSeq) return 0;
    switch (format) {
      case 'buffers':
        return this.nextSeq - seq;
      case 'bytes':
        return this.bytesTotal - this.entries[seq - this.firstSeq].byteStart;
      case 'time':
        return this.timeSpan(seq);
    }
  }

  /** Milliseconds of PTS from the buffer at `seq` (or the first timestamped one after it) to the newest. */
  private timeSpan(seq: number): number {
    const newest = this.newestPts;
    if (newest === null) return 0;
    for (let i = seq - this.firstSeq; i < this.entries.length; i++) {
      const p = this.entries[i].buf.ptsMs;
      if (p !== null) return newest - p;
    }
    return 0;
  }

  private isSlow(seq: number): boolean {
    if (this.limits.unitsMax > 0 && this.lag(seq, this.limits.unitFormat) >= this.limits.unitsMax) return true;
    return this.lag(seq, 'bytes') > this.limits.maxQueueBytes;
  }

  /**
   * The oldest sequence number whose lag stays below `amount` (or, with `reach`, the newest one
   * whose lag reaches it). With reach=true and too little data, the oldest queued buffer.
   */
  private pointFor(amount: Amount, reach: boolean): number {
    const newest = this.nextSeq - 1;
    if (amount.format !== 'time' && newest >= this.firstSeq) {
      // Lags in buffers and bytes only grow towards older entries: search instead of walking.
      let lo = this.firstSeq;
      let hi = newest;
      const ok = (seq: number) => (reach ? this.lag(seq, amount.format) >= amount.value : this.lag(seq, amount.format) > amount.value);
      if (!ok(lo)) return this.firstSeq;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (ok(mid)) lo = mid;
        else hi = mid - 1;
      }
      return reach ? lo : lo + 1;
    }
    for (let s = newest; s >= this.firstSeq; s--) {
      const lag = this.lag(s, amount.format);
      if (reach ? lag >= amount.value : lag > amount.value) return reach ? s : s + 1;
    }
    return this.firstSeq;
  }

  /** The oldest position whose lag is below the soft limit (where resync-soft-limit moves a client). */
  private belowSoft(soft: Amount): number {
    for (let s = this.firstSeq; s < this.nextSeq; s++) if (this.lag(s, soft.format) < soft.value) return s;
    return this.nextSeq - 1;
  }

  private keyframeBetween(from: number, to: number, step: 1 | -1): number {
    for (let s = from; step > 0 ? s <= to : s >= to; s += step) {
      if (s >= this.firstSeq && s < this.nextSeq && this.entries[s - this.firstSeq].buf.keyframe) return s;
    }
    return WAITING;
  }

  /**
   * Start position for a new (or resynced-to-latest) client; `fresh` = a buffer just arrived.
   * Never before the client's notBefore: what lies before it is as if it were not queued.
   */
  private startFor(c: Cursor, fresh: boolean): number {
    const newest = this.nextSeq - 1;
    const oldest = Math.max(this.firstSeq, c.notBefore);
    if (newest < oldest) return WAITING;
    const burst = c.burst ?? { format: 'buffers', value: 1 };
    switch (c.syncMethod) {
      case 'latest':
        return fresh ? newest : WAITING;
      case 'next-keyframe':
        return fresh && this.entries[newest - this.firstSeq].buf.keyframe ? newest : WAITING;
      case 'latest-keyframe':
        return this.keyframeBetween(newest, oldest, -1);
      case 'burst':
        return Math.max(this.pointFor(burst, true), c.burstMax ? this.pointFor(c.burstMax, false) : oldest, oldest);
      case 'burst-keyframe':
      case 'burst-with-keyframe': {
        const minPoint = Math.max(this.pointFor(burst, true), oldest);
        const maxPoint = Math.max(c.burstMax ? this.pointFor(c.burstMax, false) : oldest, oldest);
        const older = this.keyframeBetween(minPoint, maxPoint, -1);
        if (older !== WAITING) return older;
        if (c.syncMethod === 'burst-with-keyframe') return Math.max(minPoint, maxPoint);
        return this.keyframeBetween(minPoint, newest, 1);
      }
    }
  }

  private recover(c: Cursor, newest: number): void {
    const soft: Amount = { format: this.limits.unitFormat, value: this.limits.unitsSoftMax };
    let to: number;
    switch (this.limits.recoverPolicy) {
      case 'none':
        return;
      case 'resync-latest':
        to = WAITING;
        break;
      case 'resync-soft-limit':
        to = this.belowSoft(soft);
        break;
      case 'resync-keyframe':
        to = this.keyframeBetween(this.belowSoft(soft), newest, 1);
        break;
    }
    const skippedTo = to === WAITING ? this.nextSeq : to;
    if (skippedTo > c.next) c.stats.buffersDropped += skippedTo - c.next;
    c.next = to === WAITING ? WAITING : Math.max(to, c.next);
  }

  /** Drops buffers no client needs any more, keeping the configured minimum and bursts. */
  private trim(): void {
    if (!this.entries.length) return;
    let keep = this.nextSeq; // oldest sequence number to keep
    for (const c of this.cursors.values()) if (c.next !== WAITING && c.next < keep) keep = c.next;
    const L = this.limits;
    const reserve: Amount[] = [];
    if (L.buffersMin > 0) reserve.push({ format: 'buffers', value: L.buffersMin });
    if (L.bytesMin > 0) reserve.push({ format: 'bytes', value: L.bytesMin });
    if (L.timeMinMs > 0) reserve.push({ format: 'time', value: L.timeMinMs });
    for (const a of reserve) keep = Math.min(keep, this.pointFor(a, true));
    // The largest burst a new client can ask for, reaching back to the keyframe it must start at.
    if (L.burst) {
      const p = this.pointFor(L.burstMax ?? L.burst, true);
      const kf = this.keyframeBetween(p, this.firstSeq, -1);
      keep = Math.min(keep, kf !== WAITING ? kf : p);
    }
    if (L.syncMethod === 'latest-keyframe' || L.syncMethod === 'burst-keyframe') {
      const kf = this.keyframeBetween(this.nextSeq - 1, this.firstSeq, -1);
      if (kf !== WAITING) keep = Math.min(keep, kf);
    }
    // The byte bound wins over everything: never keep more than maxQueueBytes.
    while (keep < this.nextSeq && this.lag(keep, 'bytes') > L.maxQueueBytes) keep++;
    if (keep > this.firstSeq) {
      this.entries.splice(0, keep - this.firstSeq);
      this.firstSeq = keep;
      for (const c of this.cursors.values()) {
        if (c.next !== WAITING && c.next < this.firstSeq) {
          // Only possible for a client beyond the byte bound; it is reported slow on the next push.
          c.stats.buffersDropped += this.firstSeq - c.next;
          c.next = this.firstSeq;
        }
      }
    }
  }
}
