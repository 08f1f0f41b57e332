// Supervision as one small policy on top of nact's onCrash, used at every level of both trees
// (OTP restart intensity + Akka's restartWithBackoff with resetBackoffAfter): a crashed child is
// reset after a jittered exponential backoff, unless it crashed maxRestarts times within
// windowMs, in which case it is stopped and giveUp says why. A child that ran resetAfterMs
// without crashing starts its backoff over. The bookkeeping lives outside the child's
// mailbox (in a SupervisedRecord its parent keeps), so a reset never loses it.

import { Ref, SupervisionContext } from 'nact';
import { Backoff, BackoffPolicy } from '../transport/feed/backoff';

export interface SupervisionPolicy {
  /** Restarts allowed within windowMs; Infinity restarts forever. */
  maxRestarts: number;
  windowMs: number;
  backoff: BackoffPolicy;
  /** A child that ran this long since its last (re)start gets its backoff reset on the next crash. */
  resetAfterMs: number;
}

/** Components: 5 restarts within 30 s, then sad; 100 ms doubling to 5 s. */
export const COMPONENT_POLICY: SupervisionPolicy = {
  maxRestarts: 5,
  windowMs: 30000,
  backoff: { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.3 },
  resetAfterMs: 30000,
};

/** Eaters and feed-to pushers: reconnect forever until told to stop; 60 ms doubling to 2 s. */
export const FEED_POLICY: SupervisionPolicy = {
  maxRestarts: Infinity,
  windowMs: 60000,
  backoff: { initialMs: 60, maxMs: 2000, factor: 2, jitter: 0.5 },
  resetAfterMs: 1000,
};

/** The worker's link to the manager: forever; 100 ms doubling to 5 s. */
export const LINK_POLICY: SupervisionPolicy = {
  maxRestarts: Infinity,
  windowMs: 60000,
  backoff: { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.5 },
  resetAfterMs: 5000,
};

/** Control actors (manager, planet, avatars, worker, feeders): restart at once, from their kept state. */
export const CONTROL_POLICY: SupervisionPolicy = {
  maxRestarts: 20,
  windowMs: 10000,
  backoff: { initialMs: 0, maxMs: 100, factor: 2, jitter: 0 },
  resetAfterMs: 1000,
};

/** Pure bookkeeping of restart intensity: a sliding window of restart times, and the backoff. */
export class RestartIntensity {
  private times: number[] = [];
  private readonly backoff: Backoff;
  private startedAt: number;
  /** Supervised restarts so far (what `status --tree` shows). */
  restarts = 0;

  constructor(
    readonly policy: SupervisionPolicy,
    random: () => number = Math.random,
    now = Date.now(),
  ) {
    this.backoff = new Backoff(policy.backoff, random);
    this.startedAt = now;
  }

  /** Records a crash at `now`; returns the delay before the restart, or null to give up. */
  crashed(now = Date.now()): number | null {
    if (now - this.startedAt >= this.policy.resetAfterMs) this.backoff.reset();
    this.times = this.times.filter((t) => now - t < this.policy.windowMs);
    if (this.times.length >= this.policy.maxRestarts) return null;
    this.times.push(now);
    this.restarts++;
    return this.backoff.next();
  }

  /** The child starts (again) at `now`: the healthy period is counted from here. */
  started(now = Date.now()): void {
    this.startedAt = now;
  }

  /** The backoff starts over from its first delay (a new reason to try soon). */
  resetBackoff(): void {
    this.backoff.reset();
  }

  /** Forgets earlier crashes (an operator restarted the child by hand). */
  clear(now = Date.now()): void {
    this.times = [];
    this.backoff.reset();
    this.startedAt = now;
  }

  get recentCrashes(): number {
    return this.times.length;
  }
}

/** What a parent keeps about one supervised child, outside the child's mailbox. */
export interface SupervisedRecord {
  readonly intensity: RestartIntensity;
  /** False once the parent stopped the child on purpose: no restart then. */
  alive: boolean;
  /** Set while the child waits out its backoff: ends the wait at once (see restartNow). */
  wake?: (() => void) | null;
  /** The next restart happens without a backoff (set when the reason to wait is gone). */
  skipBackoff?: boolean;
}

/**
 * The child's reason to wait is gone (the upstream it dials has moved): a backoff under way
 * ends now, the next crash restarts at once, and the backoff starts over from its first delay.
 */
export function restartNow(record: SupervisedRecord): void {
  record.intensity.resetBackoff();
  const w = record.wake;
  record.wake = null;
  if (w) w();
  else record.skipBackoff = true;
}

export interface SuperviseHooks {
  /** The child crashed and will restart after `delayMs` (awaited before the wait: clean up here). */
  crashed?(error: Error | undefined, delayMs: number): void | Promise<void>;
  /** The child crashed too often: it is stopped. */
  gaveUp?(error: Error | undefined): void;
  /** Resume (keep the state and the children, drop the message) instead of reset. */
  resume?: boolean;
}

type OnCrash<Msg> = (msg: Msg | undefined, err: Error | undefined, ctx: SupervisionContext<Msg, Ref<unknown>>) => Promise<symbol>;

/**
 * The onCrash function for one child: reset after the backoff, or stop past the intensity.
 * A child stopped during its backoff stays stopped.
 */
export function supervise<Msg>(record: SupervisedRecord, hooks: SuperviseHooks = {}): OnCrash<Msg> {
  return async (_msg, err, ctx) => {
    if (!record.alive) return ctx.stop as symbol;
    let delay = record.intensity.crashed();
    if (delay !== null && record.skipBackoff) delay = 0;
    record.skipBackoff = false;
    if (delay === null) {
      record.alive = false;
      await hooks.crashed?.(err, 0);
      hooks.gaveUp?.(err);
      return ctx.stop as symbol;
    }
    await hooks.crashed?.(err, delay);
    if (delay > 0) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, delay);
        record.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      record.wake = null;
    }
    if (!record.alive) return ctx.stop as symbol;
    record.intensity.started();
    return (hooks.resume ? ctx.resume : ctx.reset) as symbol;
  };
}

export function supervisedRecord(policy: SupervisionPolicy): SupervisedRecord {
  return { intensity: new RestartIntensity(policy), alive: true };
}

/** Thrown by an actor that received a message it does not know: a crash like any other. */
export class UnknownMessageError extends Error {
  constructor(actor: string, msg: unknown) {
    super(`${actor}: unknown message ${JSON.stringify((msg as { type?: unknown })?.type ?? msg)}`);
  }
}

/** A valid nact actor name for any text (nact allows only [a-z0-9-$_.+!*'(),]). */
export function actorName(text: string): string {
  return encodeURIComponent(text).replace(/~/g, '%7E').replace(/%/g, '$');
}
