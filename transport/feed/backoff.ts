// Jittered exponential backoff as a value (Akka's restartWithBackoff, in small): each call to
// next() gives the next delay; reset() after a success. Delays are drawn uniformly from
// [d * (1 - jitter), d * (1 + jitter)] around d = min(max, initial * factor^n).

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** 0..1 */
  jitter: number;
}

export class Backoff {
  private attempt = 0;
  constructor(readonly policy: BackoffPolicy, private readonly random: () => number = Math.random) {}

  next(): number {
    const p = this.policy;
    const base = Math.min(p.maxMs, p.initialMs * Math.pow(p.factor, this.attempt++));
    const d = base * (1 - p.jitter + 2 * p.jitter * this.random());
    return Math.min(p.maxMs, Math.max(0, Math.round(d)));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/** Feeds: first retry within 100 ms, at most 2 s between attempts. */
export const FEED_BACKOFF: BackoffPolicy = { initialMs: 60, maxMs: 2000, factor: 2, jitter: 0.5 };
