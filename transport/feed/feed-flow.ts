// One eater feed's flow, kept across its connections (the eaters supervisor holds one per feed,
// each connection updates it on the data path): when media last arrived, the cadence learned
// from the gaps between media buffers and the silence bound it gives, where the eater resumes,
// and what resumes lost. It owns no socket and no timer; a reconnection changes nothing in it.
// Rules (README "Moods, feeds and recovery"):
// - media = a buffer without the GAP flag (filler) or the HEADER flag (codec headers); events,
//   caps, filler, headers and reconnections are never media;
// - bound = 2 × the largest gap between media buffers seen within CADENCE_WINDOW_MS, at least
//   the check interval and at most 4 × it; until the window has watched the feed flow for a
//   check interval (a start, or the return after a long outage) the bound is 4 × it, so that a
//   sparse feed's first gap is no outage.

import { BUFFER_FLAG, GdpFrame } from '../../protocol/gdp';
import { ResumePoint } from '../../protocol/feed-handshake';

/** The cadence is learned over this window (the last minute). */
export const CADENCE_WINDOW_MS = 60000;
const BUCKET_MS = 1000;
const BUCKETS = CADENCE_WINDOW_MS / BUCKET_MS;

/** A buffer that counts as data flowing: not filler (GAP), not codec headers (HEADER). */
export function isMedia(f: GdpFrame): boolean {
  return f.kind === 'buffer' && (f.bufferFlags & (BUFFER_FLAG.GAP | BUFFER_FLAG.HEADER)) === 0;
}

interface Bucket {
  /** Which BUCKET_MS slot of time it holds (-1: empty). */
  slot: number;
  maxGap: number;
  /** Sum of the gaps ending in it: how long the feed was watched flowing. */
  watched: number;
}

export class FeedFlow {
  /** When the last media buffer arrived (ms since the epoch), on any connection; null before any. */
  lastMediaAt: number | null = null;
  /** The last buffer forwarded to the component, to resume after it. */
  resume: ResumePoint | null = null;
  /** Buffers lost because a resume point had left the feeder's queue. */
  buffersLost = 0;
  /** Connections that resumed where the previous one stopped (exactly, or at a keyframe with a loss). */
  resumes = 0;
  private readonly buckets: Bucket[] = Array.from({ length: BUCKETS }, () => ({ slot: -1, maxGap: 0, watched: 0 }));

  constructor(readonly checkIntervalMs: number) {}

  /** A media buffer arrived at `at`; `gap` is the time since the previous one on the same flowing connection (null: none). */
  media(at: number, gap: number | null): void {
    if (this.lastMediaAt === null || at > this.lastMediaAt) this.lastMediaAt = at;
    if (gap === null || gap < 0) return;
    const slot = Math.floor(at / BUCKET_MS);
    const b = this.buckets[slot % BUCKETS];
    if (b.slot !== slot) {
      b.slot = slot;
      b.maxGap = 0;
      b.watched = 0;
    }
    if (gap > b.maxGap) b.maxGap = gap;
    b.watched += gap;
  }

  /** The largest gap of the window and how long the window watched the feed flow. */
  private window(now: number): { maxGap: number; watched: number } {
    const oldest = Math.floor((now - CADENCE_WINDOW_MS) / BUCKET_MS);
    let maxGap = 0;
    let watched = 0;
    for (const b of this.buckets) {
      if (b.slot <= oldest) continue;
      if (b.maxGap > maxGap) maxGap = b.maxGap;
      watched += b.watched;
    }
    return { maxGap, watched };
  }

  /** How long the feed may go without media before it counts as not flowing (ms). */
  bound(now = Date.now()): number {
    const ci = this.checkIntervalMs;
    const { maxGap, watched } = this.window(now);
    if (watched < Math.min(ci, CADENCE_WINDOW_MS / 2)) return 4 * ci;
    return Math.min(4 * ci, Math.max(ci, 2 * maxGap));
  }

  /** How long ago media last arrived (ms), or null before any. */
  lastMediaAgoMs(now = Date.now()): number | null {
    return this.lastMediaAt === null ? null : Math.max(0, now - this.lastMediaAt);
  }
}
