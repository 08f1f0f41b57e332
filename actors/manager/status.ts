// The planet's status as `fluxcast status --json` and GET /status.json give it: workers,
// components with their moods, feeds and messages, and the restart counts of every actor of
// both trees (the manager's own, and each worker's as the worker last reported them).
// Built from the planet actor's record; pure (no I/O). `feeds` is the configured graph (from the
// planet, whatever runs), `eaters` what the worker last reported (empty while not running).

import { ComponentState } from '../../protocol/wire';
import { Mood } from '../component/mood';
import { WorkerLinkState } from './avatars';
import { ComponentAction, componentActions } from './commands';
import type { PlanetRecord } from './planet-actor';

export interface StatusJson {
  planet: string;
  /** Supervised restarts of the manager's root and planet actors. */
  manager: { restarts: number; planetRestarts: number };
  workers: Array<{
    name: string;
    connected: boolean;
    state: WorkerLinkState;
    host: string | null;
    pid: number | null;
    feedPort: number | null;
    /** Restarts of this worker's avatar on the manager. */
    restarts: number;
    /** Restarts of the worker process's own actors (worker, link), from its last report. */
    process: { restarts: number; linkRestarts: number; cpuSeconds?: number; rssBytes?: number } | null;
  }>;
  components: Array<{
    id: string; flow: string; name: string; type: string; worker: string; mood: Mood; pid: number | null;
    /** Supervised restarts of the component actor on its worker. */
    restarts: number;
    /** A streamer's URLs (`urls`, the primary first; `url` = `urls[0]`) and audience, a porter's routes (from the worker's last report). */
    details?: ComponentState['details'];
    eaters: ComponentState['eaters']; feeders: ComponentState['feeders']; messages: ComponentState['messages'];
    /** The feeds its eaters are configured with (the planet's graph, also while sleeping or lost). */
    feeds: Array<{ eater: string; feedId: string; mode: 'eat-from' | 'feed-to'; remote: boolean }>;
    /** The commands offered in its mood (commands.ts): what the web admin enables. */
    actions: ComponentAction[];
  }>;
}

/**
 * A component's details as status shows them: a sleeping, lost or sad component serves nobody,
 * so the URLs of its last report are left out (a listener would reach nothing, or another).
 */
function shownDetails(d: ComponentState['details'], mood: Mood): ComponentState['details'] {
  if (!d || (mood !== 'sleeping' && mood !== 'lost' && mood !== 'sad')) return d;
  const { url: _url, urls, ...rest } = d;
  return urls ? { ...rest, urls: [] } : rest;
}

export function planetStatus(s: PlanetRecord, managerRestarts: number): StatusJson {
  return {
    planet: s.planet.name,
    manager: { restarts: managerRestarts, planetRestarts: s.intensity.restarts },
    workers: [...s.workers.values()].map((w) => ({
      name: w.name,
      connected: w.state === 'connected',
      state: w.state,
      host: w.info.host ?? null,
      pid: w.info.pid ?? null,
      feedPort: w.info.feedPort ?? null,
      restarts: w.intensity.restarts,
      process: w.state === 'connected' ? w.process : null,
    })),
    components: [...s.components.values()].map((c) => {
      const w = s.workers.get(c.worker);
      const r = c.lastReport;
      return {
        id: c.spec.id, flow: c.flow, name: c.name, type: c.spec.type, worker: c.worker, mood: c.mood,
        pid: w?.state === 'connected' ? w.info.pid ?? null : null,
        restarts: r?.restarts ?? 0,
        details: shownDetails(r?.details, c.mood),
        eaters: r?.eaters ?? [], feeders: r?.feeders ?? [], messages: r?.messages ?? [],
        feeds: Object.entries(c.spec.eaters).flatMap(([eater, feeds]) => feeds.map((feedId) => ({ eater, feedId, mode: c.feedModes.get(feedId) ?? 'eat-from', remote: c.remotes.has(feedId) }))),
        actions: componentActions(c.mood),
      };
    }),
  };
}
