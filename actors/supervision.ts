// Supervision as a small policy on top of nact's onCrash (OTP restart intensity + Akka's
// restartWithBackoff): a crashed child is reset after a jittered exponential backoff, unless it
// crashed more than maxRestarts times within windowMs, in which case it is stopped and the
// giveUp callback says why. One policy object per supervised child; used at every level.

import { Ref, SupervisionContext } from 'nact';
import { Backoff, BackoffPolicy } from '../transport/feed/backoff';

export interface RestartPolicy {
  maxRestarts: number;
  windowMs: number;
  backoff: BackoffPolicy;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxRestarts: 5,
  windowMs: 30000,
  backoff: { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.3 },
};

/** Pure bookkeeping of restart intensity: a sliding window of restart times, and the backoff. */
export class RestartIntensity {
  private times: number[] = [];
  private readonly backoff: Backoff;

  constructor(readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY) {
    this.backoff = new Backoff(policy.backoff);
  }

  /** Records a crash at `now`; returns the delay before the restart, or null to give up. */
  crashed(now = Date.now()): number | null {
    this.times = this.times.filter((t) => now - t < this.policy.windowMs);
    if (this.times.length >= this.policy.maxRestarts) return null;
    this.times.push(now);
    return this.backoff.next();
  }

  /** A long enough healthy run forgets earlier crashes' backoff. */
  healthy(): void {
    this.backoff.reset();
  }

  get recentCrashes(): number {
    return this.times.length;
  }
}

/** An onCrash function for nact: reset after backoff, or stop and report when intensity is exceeded. */
export function restartWithIntensity<Msg>(
  intensity: RestartIntensity,
  giveUp: (err: Error | undefined) => void,
): (msg: Msg | undefined, err: Error | undefined, ctx: SupervisionContext<Msg, Ref<unknown>>) => Promise<symbol> {
  return async (_msg, err, ctx) => {
    const delay = intensity.crashed();
    if (delay === null) {
      giveUp(err);
      return ctx.stop as symbol;
    }
    await new Promise((r) => setTimeout(r, delay));
    return ctx.reset as symbol;
  };
}
