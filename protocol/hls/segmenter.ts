// Cuts a live MPEG-TS stream (buffers with keyframe flags and PTS, as mpegts-muxer makes them)
// into HLS segments and, for low-latency HLS, parts. Pure: no I/O, no timers; time comes in with
// each call. Segments start at a keyframe (a buffer without DELTA_UNIT) once `targetDuration` has
// passed; a stream without keyframe structure (audio only) is cut by time. Parts are cut every
// `partDuration` at buffer boundaries; a part that starts at a keyframe is INDEPENDENT. Memory
// is bounded by the window: `windowSize` complete segments and the one being made.

export interface HlsPart {
  readonly msn: number;
  readonly index: number;
  chunks: Buffer[];
  bytes: number;
  durationS: number;
  independent: boolean;
  complete: boolean;
  /** ms (wall clock) when its last byte arrived */
  lastByteAt: number;
  /** ms (wall clock) when it was complete (listed) */
  completedAt: number;
}

export interface HlsSegment {
  readonly msn: number;
  readonly parts: HlsPart[];
  /** The whole segment once complete. */
  data: Buffer | null;
  durationS: number;
  /** ms since the epoch of its first byte */
  readonly programDateTime: number;
  readonly discontinuity: boolean;
  complete: boolean;
  /** stream clock (s) at its start */
  readonly start: number;
}

export interface SegmenterOptions {
  /** seconds */
  targetDuration: number;
  /** seconds, or null for plain HLS */
  partDuration: number | null;
  windowSize: number;
}

export class HlsSegmenter {
  readonly segments: HlsSegment[] = [];
  /** msn of the first segment in the window */
  mediaSequence = 0;
  discontinuitySequence = 0;
  /** Largest complete segment duration seen, for EXT-X-TARGETDURATION. */
  maxDurationS = 0;
  private header: Buffer[] = [];
  private nextMsn = 0;
  private clock = -1;
  private sawDelta = false;
  private pendingDiscontinuity = false;

  constructor(readonly o: SegmenterOptions) {}

  get current(): HlsSegment | null {
    const s = this.segments[this.segments.length - 1];
    return s && !s.complete ? s : null;
  }

  /** The stream's header (PAT/PMT from the caps' streamheader): the start of every segment. */
  setHeader(chunks: Buffer[]): void {
    this.header = chunks;
  }

  /** A new upstream stream: the segment being made ends, the next is marked discontinuous. */
  discontinuity(now: number): void {
    this.closeSegment(now);
    this.clock = -1;
    this.pendingDiscontinuity = this.segments.length > 0;
  }

  /** One buffer of the stream; returns true when a part or segment was completed. */
  push(data: Buffer, ptsS: number | null, keyframe: boolean, now: number): boolean {
    if (!keyframe) this.sawDelta = true;
    const t = ptsS ?? (this.clock < 0 ? 0 : this.clock);
    if (this.clock < 0 || t > this.clock) this.clock = t;
    let changed = false;
    let cur = this.current;
    const timeCut = !this.sawDelta;
    if (cur) {
      const elapsed = this.clock - cur.start;
      if ((keyframe || timeCut) && elapsed >= this.o.targetDuration - 0.001) {
        this.closeSegment(now);
        cur = null;
        changed = true;
      } else if (elapsed >= this.o.targetDuration * 3) {
        // No keyframe for three target durations: cut anyway rather than grow without end.
        this.closeSegment(now);
        cur = null;
        changed = true;
      }
    }
    if (!cur) {
      if (!keyframe && this.sawDelta && !timeCut && this.segments.length === 0) return changed; // wait for the first keyframe
      cur = this.openSegment(now, keyframe);
    }
    let part = cur.parts[cur.parts.length - 1];
    if (this.o.partDuration !== null && part && part.bytes > 0 && this.clock - this.partStart >= this.o.partDuration - 0.001) {
      this.closePart(part, now);
      part = this.openPart(cur, keyframe);
      changed = true;
    }
    part.chunks.push(data);
    part.bytes += data.length;
    part.lastByteAt = now;
    return changed;
  }

  private partStart = 0;

  private openSegment(now: number, keyframe: boolean): HlsSegment {
    const seg: HlsSegment = {
      msn: this.nextMsn++, parts: [], data: null, durationS: 0, programDateTime: now, discontinuity: this.pendingDiscontinuity, complete: false, start: this.clock,
    };
    this.pendingDiscontinuity = false;
    this.segments.push(seg);
    const part = this.openPart(seg, keyframe);
    for (const h of this.header) {
      part.chunks.push(h);
      part.bytes += h.length;
    }
    return seg;
  }

  private openPart(seg: HlsSegment, keyframe: boolean): HlsPart {
    const part: HlsPart = { msn: seg.msn, index: seg.parts.length, chunks: [], bytes: 0, durationS: 0, independent: keyframe || !this.sawDelta, complete: false, lastByteAt: 0, completedAt: 0 };
    seg.parts.push(part);
    this.partStart = this.clock;
    return part;
  }

  private closePart(part: HlsPart, now: number): void {
    // One buffer from now on: every request for the part is served without a copy, and the
    // (larger) buffers the pieces came in are let go.
    if (part.chunks.length !== 1) part.chunks = [Buffer.concat(part.chunks, part.bytes)];
    part.durationS = Math.max(0.001, this.clock - this.partStart);
    part.complete = true;
    part.completedAt = now;
  }

  private closeSegment(now: number): void {
    const seg = this.current;
    if (!seg) return;
    const last = seg.parts[seg.parts.length - 1];
    if (last && !last.complete) this.closePart(last, now);
    seg.durationS = Math.max(0.001, this.clock - seg.start);
    seg.data = Buffer.concat(seg.parts.flatMap((p) => p.chunks));
    seg.complete = true;
    this.maxDurationS = Math.max(this.maxDurationS, seg.durationS);
    // The window: complete segments beyond it go (with their parts).
    let complete = this.segments.filter((s) => s.complete).length;
    while (complete > this.o.windowSize) {
      const gone = this.segments.shift() as HlsSegment;
      this.mediaSequence = gone.msn + 1;
      if (gone.discontinuity) this.discontinuitySequence++;
      complete--;
    }
    // Parts of older segments are no longer listed: their memory goes, the segment's data stays.
    const keepPartsFrom = seg.msn - 2;
    for (const s of this.segments) {
      if (s.msn < keepPartsFrom && s.parts.length && s.parts[0].chunks.length) for (const p of s.parts) p.chunks = [];
    }
  }

  /** Bytes held in memory (the window's segments and the parts still listed). */
  get bytes(): number {
    let n = 0;
    for (const s of this.segments) {
      n += s.data?.length ?? 0;
      for (const p of s.parts) if (p.chunks.length) n += p.bytes;
    }
    return n;
  }

  /** A complete segment by msn, or undefined. */
  segment(msn: number): HlsSegment | undefined {
    return this.segments.find((s) => s.msn === msn);
  }

  /** The last complete segment's msn, or -1. */
  get lastCompleteMsn(): number {
    for (let i = this.segments.length - 1; i >= 0; i--) if (this.segments[i].complete) return this.segments[i].msn;
    return -1;
  }
}
