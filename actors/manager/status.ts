// The planet's status (protocol/status.ts) as the planet actor sees it: workers and components
// with their moods from the planet's own state, each component's last report from what its
// avatar publishes in the live tree, and the restarts of every avatar from that tree. The
// manager actor adds its own part (its restarts, the planet's, its tree). Pure (no I/O).
// `feeds` is the configured graph (from the planet, whatever runs), `eaters` what the worker last
// reported (empty while not running).

import { ComponentState } from '../../protocol/wire';
import { StatusJson } from '../../protocol/status';
import { Mood } from '../component/mood';
import { TreeNode, viewOf } from '../supervision';
import { ComponentAvatarView } from './avatars';
import { componentActions } from './commands';
import type { PlanetState } from './planet-actor';

/**
 * A component's details as status shows them: a sleeping, lost or sad component serves nobody,
 * so the URLs of its last report are left out (a listener would reach nothing, or another).
 */
function shownDetails(d: ComponentState['details'], mood: Mood): ComponentState['details'] {
  if (!d || (mood !== 'sleeping' && mood !== 'lost' && mood !== 'sad')) return d;
  const { url: _url, urls, ...rest } = d;
  return urls ? { ...rest, urls: [] } : rest;
}

/** `planet` is the planet actor's node of the live tree (its avatars are its children). */
export function planetStatus(s: PlanetState, planet: TreeNode): Omit<StatusJson, 'manager'> {
  const avatar = (worker: string) => planet.children.find((c) => c.id === `worker ${worker}`);
  return {
    planet: s.planet.name,
    workers: [...s.workers.values()].map((w) => ({
      name: w.name,
      connected: w.state === 'connected',
      state: w.state,
      host: w.info.host ?? null,
      pid: w.info.pid ?? null,
      feedPort: w.info.feedPort ?? null,
      restarts: avatar(w.name)?.restarts ?? 0,
      process: w.state === 'connected' ? w.process : null,
      tree: w.state === 'connected' ? w.tree : null,
    })),
    components: [...s.components.values()].map((c) => {
      const w = s.workers.get(c.worker);
      const kept = viewOf<ComponentAvatarView>(avatar(c.worker)?.children.find((n) => n.id === c.spec.id), 'component-avatar')?.report ?? null;
      // A report of an instance since stopped (an older epoch) is no longer the component's.
      const r = kept && (kept.epoch === undefined || kept.epoch === c.epoch) ? kept : null;
      const mood = c.facts.mood;
      return {
        id: c.spec.id, flow: c.flow, name: c.name, type: c.spec.type, worker: c.worker, mood,
        pid: w?.state === 'connected' ? w.info.pid ?? null : null,
        restarts: r?.restarts ?? 0,
        details: shownDetails(r?.details, mood),
        eaters: r?.eaters ?? [], feeders: r?.feeders ?? [], messages: r?.messages ?? [],
        feeds: Object.entries(c.spec.eaters).flatMap(([eater, feeds]) => feeds.map((feedId) => ({ eater, feedId, mode: c.feedModes.get(feedId) ?? ('eat-from' as const), remote: c.remotes.has(feedId) }))),
        actions: componentActions(mood),
      };
    }),
  };
}
