// Every supervisor's flags in one place, with why. Backoffs are jittered exponential (Akka's
// restartWithBackoff); intensity is OTP's, counted per supervisor.

import { SupervisorFlags } from './spec';

/**
 * A component (its feeders, core and eaters), rest_for_one in that order: the core writes to
 * the feeders and the eaters deliver to the core, so a core restart restarts the eaters but
 * keeps the feeders (downstream eaters stay connected); 5 restarts within 30 s, then it gives
 * up and its worker shows it sad (one bad port never takes a worker down).
 */
export const COMPONENT_FLAGS: Partial<SupervisorFlags> = {
  strategy: 'rest_for_one',
  intensity: 5,
  periodMs: 30000,
  backoff: { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.3 },
  resetAfterMs: 30000,
};

/**
 * A component's eaters (and a feeder's feed-to pushes), one_for_one: each restart is a
 * reconnection, forever, until the manager says stop (the seed's semantics), never reaching
 * the component's media child. 60 ms doubling to 2 s, reset after 1 s of health.
 */
export const FEED_FLAGS: Partial<SupervisorFlags> = {
  strategy: 'one_for_one',
  intensity: Infinity,
  periodMs: 60000,
  backoff: { initialMs: 60, maxMs: 2000, factor: 2, jitter: 0.5 },
  resetAfterMs: 1000,
  logCrashes: false,
};

/**
 * Control actors (a process's top level, feeders, the manager's planet and avatars),
 * one_for_one, restarted at once from their spec: 20 within 10 s, then the supervisor gives
 * up and escalates; at a process root that is an exit (70) that `up` or systemd restarts.
 */
export const CONTROL_FLAGS: Partial<SupervisorFlags> = {
  strategy: 'one_for_one',
  intensity: 20,
  periodMs: 10000,
  backoff: { initialMs: 0, maxMs: 100, factor: 2, jitter: 0 },
  resetAfterMs: 1000,
};

/**
 * A worker's components, one_for_one: each component is a temporary child (never restarted
 * from here: its own supervisor restarts it, and a give-up leaves it sad), so nothing here
 * counts against an intensity.
 */
export const COMPONENTS_FLAGS: Partial<SupervisorFlags> = { ...CONTROL_FLAGS };

/** The worker's link to the manager dials again by itself (not a crash): 100 ms doubling to 5 s. */
export const LINK_BACKOFF = { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.5 };
