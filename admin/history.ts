// The manager's recent history for its operators (GET /api/v1/events/history, the web admin's
// event panel): every event the manager emits gets the next sequence number here, and the
// lasting ones (mood changes, worker logins and logouts, reloads, component commands, restarts)
// are kept in a bounded ring, oldest first. Listener counts and component messages pass through
// unkept (they are in the status and the charts). Pure: no I/O, no timers.

import { PlanetEvent } from './events';

/** Events kept by default. */
export const EVENT_HISTORY_SIZE = 200;

/** The kinds of event the history keeps. */
export const KEPT_EVENTS: ReadonlySet<PlanetEvent['type']> = new Set<PlanetEvent['type']>(['mood', 'worker', 'reload', 'command', 'restarts']);

export class EventHistory {
  private seq = 0;
  private readonly ring: PlanetEvent[] = [];

  constructor(readonly max = EVENT_HISTORY_SIZE) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`an event history keeps at least 1 event (got ${max})`);
  }

  /** Numbers `e` (the same object, now with `seq`) and keeps it if it is of a kept kind. */
  add(e: PlanetEvent): PlanetEvent {
    e.seq = ++this.seq;
    if (KEPT_EVENTS.has(e.type)) {
      this.ring.push(e);
      if (this.ring.length > this.max) this.ring.shift();
    }
    return e;
  }

  /** The kept events, oldest first. */
  list(): PlanetEvent[] {
    return [...this.ring];
  }

  /** The sequence number of the last event emitted (0 before any). */
  get last(): number {
    return this.seq;
  }
}
