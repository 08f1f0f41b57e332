// The planet's mood rules for one component, as the manager applies them: one table of
// (state × event) → next state + effects, in the manner of OTP's gen_statem. The planet actor
// owns the state and performs the effects; this file decides and does nothing else (pure).
//
// State: the mood the manager shows, whether an operator wants the component running, and
// whether its worker is logged in. Moods the manager sets itself: sleeping (known, not
// running), waking (asked to start, no report yet), lost (its worker went away without a clean
// stop); every other mood comes from the worker's reports. Sad is sticky: only an operator's
// start/stop/restart, a clean stop of its worker or a reload leaves it.
//
//   event            │ from                         │ to                                │ effects
//   ─────────────────┼──────────────────────────────┼───────────────────────────────────┼──────────────────
//   start            │ sleeping, lost, sad           │ waking (worker up) / sleeping*   │ stop† + start, wire
//                    │ happy, hungry, waking         │ refused (FLUX_MANAGER_BAD_STATE)  │
//   stop             │ any                           │ sleeping, not wanted              │ stop
//   restart          │ any                           │ waking (worker up) / sleeping*    │ stop + start, wire
//   adopt-running    │ any, wanted                   │ the reported mood                 │ –
//                    │ any, not wanted               │ sleeping                          │ stop
//   adopt-absent     │ sleeping/lost/waking/happy/   │ waking (wanted) / sleeping        │ start (wanted)
//                    │ hungry; sad stays sad         │                                   │
//   report           │ any (worker up)               │ the reported mood                 │ –
//   report-absent    │ waking, sad: unchanged        │ sleeping                          │ –
//                    │ happy, hungry, wanted         │ waking (its worker lost it)       │ start, wire
//   worker-up        │ any                           │ unchanged (its report decides)    │ –
//   worker-stopped   │ any                           │ sleeping                          │ –
//   worker-lost      │ sleeping, sad: unchanged      │ lost                              │ –
//   * lost stays lost while its worker is away (that is still the truth); † only from sad.
//   Reports and adoptions from a worker that is not logged in change nothing (stale news).

import { Mood } from '../component/mood';
import { PROTOCOL_ERROR_CODES } from '../../protocol/errors';

export interface ComponentFacts {
  mood: Mood;
  /** An operator (or the planet) wants it running. */
  wanted: boolean;
  /** Its worker is logged in. */
  workerUp: boolean;
}

export type MoodEvent =
  | { type: 'start' }
  | { type: 'stop' }
  | { type: 'restart' }
  /** Right after its worker logged in: its first report lists the component (running there)... */
  | { type: 'adopt-running'; mood: Mood }
  /** ...or does not. */
  | { type: 'adopt-absent' }
  | { type: 'report'; mood: Mood }
  /** A later report of its worker does not list it (it stopped there). */
  | { type: 'report-absent' }
  /** Its worker logged in (adoption follows with its first report). */
  | { type: 'worker-up' }
  | { type: 'worker-stopped' }
  | { type: 'worker-lost' };

/** What the planet actor does after a transition. */
export type MoodEffect = 'send-stop' | 'send-start' | 'wire' | 'forget-report';

export interface Transition {
  facts: ComponentFacts;
  effects: MoodEffect[];
  /** Set when the event is refused in this state (the facts are unchanged then). */
  refused?: { code: typeof PROTOCOL_ERROR_CODES.MANAGER_BAD_STATE; message: string };
}

/** Moods a component may be started from (start is refused from the others; the web admin offers it by this). */
export const STARTABLE: ReadonlySet<Mood> = new Set(['sleeping', 'lost', 'sad']);

/** Events only a logged-in worker can cause: from a worker that is away they are stale news. */
const FROM_WORKER: ReadonlySet<MoodEvent['type']> = new Set(['adopt-running', 'adopt-absent', 'report', 'report-absent']);

export function moodTransition(f: ComponentFacts, e: MoodEvent): Transition {
  if (!f.workerUp && FROM_WORKER.has(e.type)) return { facts: f, effects: [] };
  const to = (mood: Mood, wanted = f.wanted, effects: MoodEffect[] = []): Transition => ({ facts: { ...f, mood, wanted }, effects });
  switch (e.type) {
    case 'start':
      if (!STARTABLE.has(f.mood)) return { facts: f, effects: [], refused: { code: PROTOCOL_ERROR_CODES.MANAGER_BAD_STATE, message: `it is ${f.mood}; start is allowed from sleeping, lost or sad` } };
      if (!f.workerUp) return to(f.mood === 'lost' ? 'lost' : 'sleeping', true);
      return to('waking', true, f.mood === 'sad' ? ['send-stop', 'send-start', 'wire'] : ['send-start', 'wire']);
    case 'stop':
      return to('sleeping', false, f.workerUp ? ['send-stop', 'forget-report'] : ['forget-report']);
    case 'restart':
      if (!f.workerUp) return to(f.mood === 'lost' ? 'lost' : 'sleeping', true, ['forget-report']);
      return to('waking', true, ['send-stop', 'forget-report', 'send-start', 'wire']);
    case 'adopt-running':
      return f.wanted ? to(e.mood) : to('sleeping', false, ['send-stop']);
    case 'adopt-absent':
      if (f.mood === 'sad') return to('sad');
      return f.wanted ? to('waking', true, ['send-start']) : to('sleeping');
    case 'report':
      return to(e.mood);
    case 'report-absent':
      if (f.mood === 'waking' || f.mood === 'sad') return to(f.mood);
      // Running, wanted, and its worker no longer runs it (nobody stopped it): started again.
      if (f.wanted && (f.mood === 'happy' || f.mood === 'hungry')) return to('waking', true, ['send-start', 'wire']);
      return to('sleeping');
    case 'worker-up':
      return { facts: { ...f, workerUp: true }, effects: [] };
    case 'worker-stopped':
      return { facts: { ...f, mood: 'sleeping', workerUp: false }, effects: [] };
    case 'worker-lost':
      return { facts: { ...f, mood: f.mood === 'sleeping' || f.mood === 'sad' ? f.mood : 'lost', workerUp: false }, effects: [] };
  }
}
