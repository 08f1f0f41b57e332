// Which operator commands make sense for a component in a given mood: the one rule the planet
// actor checks `start` against and the status offers as `actions` (the web admin enables its
// buttons by it). Pure. Always: every action listed here is one the planet actor accepts.

import { Mood } from '../component/mood';
import { STARTABLE } from './mood-rules';

export type ComponentAction = 'start' | 'stop' | 'restart';

export { STARTABLE };
/** Moods a restart is offered in: running, or failed (sad). */
const RESTARTABLE: ReadonlySet<Mood> = new Set<Mood>(['happy', 'hungry', 'waking', 'sad']);

/**
 * The actions offered for a component in `mood`: start from sleeping, lost or sad; stop when
 * not sleeping; restart when running (happy, hungry, waking) or sad. The planet also accepts
 * stop and restart in other moods (they do nothing useful there), never a start outside these.
 */
export function componentActions(mood: Mood): ComponentAction[] {
  const out: ComponentAction[] = [];
  if (STARTABLE.has(mood)) out.push('start');
  if (mood !== 'sleeping') out.push('stop');
  if (RESTARTABLE.has(mood)) out.push('restart');
  return out;
}
