// A feeder's stream as its eaters see it: every buffer gets a number (the feeder's token names
// the numbering: a new feeder, e.g. a restarted upstream, is a new token and nobody resumes
// across it), and an eater that connects is told where it starts: right after the last buffer
// it forwarded (a resume: every packet queued since follows in order, a new stream-start
// included), at the oldest keyframe of the current stream still held when that point has left
// the queue (the loss counted), or, for a new eater, at the latest keyframe of the current
// stream. Starts other than an exact resume are primed with the current sticky state, and so
// never reach back before the current stream-start. Pure bookkeeping beside the sender's
// queue: it never queues, sends or trims anything itself.

import { randomBytes } from 'crypto';
import { BUFFER_FLAG, GdpFrame, StickyState, encodePacket } from '../../protocol/gdp';
import { EVENT_TYPES } from '../../protocol/gst/event-types';
import { FeedStart, ResumePoint } from '../../protocol/feed-handshake';
import { BufferQueue } from '../sender/buffer-queue';

/** Where one eater starts: the START line, the queue position, and what it gets before that. */
export interface StartPlan {
  start: FeedStart;
  /** Queue sequence number of the first queued packet it gets. */
  startAt: number;
  /** Packets sent before the queued ones (sticky events, streamheader buffers); start.prime of them. */
  priming: Buffer[];
  /** The eater continues exactly where it stopped (no priming, nothing lost). */
  exact: boolean;
}

export class FeedStream {
  readonly sticky = new StickyState();
  /** Names this feeder's numbering. */
  readonly token = randomBytes(6).toString('hex');
  /** Buffers numbered so far (the next one gets this number). */
  private count = 0;
  /** Number of the current stream's first buffer (the count at its stream-start). */
  private streamFrom = 0;
  /** Queue positions and keyframe flags of the buffers, buffer `base + i` at `i`. */
  private seqs: number[] = [];
  private keys: boolean[] = [];
  private base = 0;
  /** Index of the oldest entry that may still be held. */
  private first = 0;
  private lastBufferAt = 0;

  constructor(private readonly crc = { crcHeader: true, crcPayload: false }) {}

  /** Buffers numbered so far. */
  get buffers(): number {
    return this.count;
  }

  /** Takes note of a frame about to be queued under `seq` (call before pushing it). */
  note(f: GdpFrame, seq: number, now = Date.now()): void {
    const changed = this.sticky.update(f);
    if (changed && f.kind === 'event' && f.eventType === EVENT_TYPES['stream-start']) this.streamFrom = this.count;
    if (f.kind !== 'buffer') return;
    this.seqs.push(seq);
    this.keys.push((f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0);
    this.count++;
    this.lastBufferAt = now;
  }

  /** Forgets buffers the queue no longer holds (`oldest` is its oldest sequence number): bounded as the queue is. */
  forget(oldest: number): void {
    while (this.first < this.seqs.length && this.seqs[this.first] < oldest) this.first++;
    if (this.first >= 1024 && this.first * 2 > this.seqs.length) {
      this.seqs.splice(0, this.first);
      this.keys.splice(0, this.first);
      this.base += this.first;
      this.first = 0;
    }
  }

  /** Where an eater that says `resume` (or nothing) starts in `queue` now. */
  plan(resume: ResumePoint | null, queue: BufferQueue, now = Date.now()): StartPlan {
    this.forget(queue.oldestSeq);
    const firstHeld = this.base + this.first; // number of the oldest buffer still held (count when none)
    const seqOf = (n: number): number | undefined => (n >= firstHeld && n < this.count ? this.seqs[n - this.base] : undefined);
    const make = (startAt: number, from: number, lost: number, exact: boolean): StartPlan => {
      const priming = exact ? [] : this.priming();
      return {
        start: { stream: this.token, from, head: this.count ? this.count - 1 : null, prime: priming.length, lost, idleMs: this.lastBufferAt ? Math.max(0, now - this.lastBufferAt) : null },
        startAt,
        priming,
        exact,
      };
    };
    // Keyframes of the current stream only: what the priming (its sticky state) goes with.
    const from = Math.max(this.first, this.streamFrom - this.base);
    if (resume && resume.stream === this.token && resume.after < this.count) {
      const after = resume.after;
      const at = seqOf(after);
      // The last buffer it forwarded is still here: everything queued after it follows.
      if (at !== undefined) return make(at + 1, after + 1, 0, true);
      // It left the queue, but nothing after it did: all that is held comes after it.
      if (after + 1 === this.count || seqOf(after + 1) !== undefined) return make(queue.oldestSeq, after + 1, 0, true);
      // Lost: the oldest keyframe still held, else the next buffer.
      for (let i = from; i < this.seqs.length; i++) if (this.keys[i]) return make(this.seqs[i], this.base + i, this.base + i - (after + 1), false);
      return make(queue.nextSeq, this.count, this.count - (after + 1), false);
    }
    // A new eater (or one of another feeder): the latest keyframe still held, else the next buffer.
    for (let i = this.seqs.length - 1; i >= from; i--) if (this.keys[i]) return make(this.seqs[i], this.base + i, 0, false);
    return make(queue.nextSeq, this.count, 0, false);
  }

  /** What a new eater gets first: sticky packets, then the caps' streamheader as HEADER buffers (as gdppay does). */
  priming(): Buffer[] {
    const out = this.sticky.primingFrames().map((f) => f.bytes);
    for (const h of this.sticky.streamheaders()) {
      out.push(encodePacket({ kind: 'buffer', pts: null, dts: null, duration: null, offset: null, offsetEnd: null, flags: BUFFER_FLAG.HEADER, data: h }, this.crc));
    }
    return out;
  }
}
