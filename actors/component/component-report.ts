// What the manager is told about a component, read from the worker's live tree: each actor
// publishes its own view (the core its mood and messages, each eater its connection, each
// feeder its sender), and the supervisors' tables say what runs, what backs off and how many
// restarts each had. Reading only: nothing here changes an actor. Pure.

import { ComponentSpec, ComponentState } from '../../protocol/wire';
import { TreeNode, viewOf } from '../supervision';
import type { CoreView } from './component-core';
import type { ComponentSupView } from './component-supervisor';
import type { EaterView } from '../feed/eater-actor';
import type { EatersView } from '../feed/eaters-supervisor';
import type { FeederView, PushView } from '../feed/feeder-actor';
import { ComponentMessage } from './mood';



const child = (n: TreeNode | undefined, id: string) => n?.children.find((c) => c.id === id);

/** A component that gave up (its supervisor exceeded its intensity): sad, with why. */
export interface SadComponent {
  spec: ComponentSpec;
  reason: string;
  messages: ComponentMessage[];
}

export function sadState(s: SadComponent): ComponentState {
  return {
    id: s.spec.id,
    type: s.spec.type,
    mood: 'sad',
    restarts: 0,
    messages: s.messages.slice(-20),
    eaters: Object.entries(s.spec.eaters).map(([name, feeds]) => ({ name, feeds: feeds.map((feedId) => ({ feedId, connected: false, lastDataAgoMs: null, state: 'stopped' as const, restarts: 0, mode: (s.spec.pushed ?? []).includes(feedId) ? ('feed-to' as const) : ('eat-from' as const) })) })),
    feeders: s.spec.feeders.map((name) => ({ name, clients: 0, state: 'stopped' as const, restarts: 0, pushes: [] })),
  };
}

/** The state of a running component from its node (the component's supervisor) in the live tree. */
export function componentReport(node: TreeNode): ComponentState | null {
  const sup = viewOf<ComponentSupView>(node, 'component');
  if (!sup) return null;
  const spec = sup.spec;
  const coreNode = child(node, 'core');
  const core = viewOf<CoreView>(coreNode, 'core');
  const eatersNode = child(node, 'eaters');
  const eatersView = viewOf<EatersView>(eatersNode, 'eaters');
  const feedersNode = child(node, 'feeders');
  const pushed = new Set(spec.pushed ?? []);
  const eaters = Object.entries(spec.eaters).map(([name, feeds]) => ({
    name,
    feeds: feeds.map((feedId) => {
      const n = child(eatersNode, feedId);
      const v = viewOf<EaterView>(n, 'eater');
      const state = !n ? 'waiting' : n.state === 'backoff' ? 'backoff' : n.state !== 'running' ? 'stopped' : v?.state ?? 'waiting';
      const errors = eatersView?.errors[feedId];
      return {
        feedId,
        connected: state === 'flowing',
        lastDataAgoMs: v?.lastDataAgoMs ?? null,
        state,
        restarts: n?.restarts ?? 0,
        mode: pushed.has(feedId) ? ('feed-to' as const) : ('eat-from' as const),
        ...(errors && Object.keys(errors).length ? { errors } : {}),
        ...(v ? { boundMs: v.boundMs, resumes: v.resumes, buffersLost: v.buffersLost } : {}),
      };
    }),
  }));
  const running = !!core && core.mood !== 'sleeping' && core.mood !== 'sad';
  const feeders = spec.feeders.map((name) => {
    const n = child(feedersNode, `feeder ${name}`);
    const v = viewOf<FeederView>(n, 'feeder');
    return {
      name,
      clients: v?.clients ?? 0,
      state: running && n?.state === 'running' ? ('running' as const) : ('stopped' as const),
      restarts: n?.restarts ?? 0,
      pushes: (n?.children ?? []).map((p) => {
        const pv = viewOf<PushView>(p, 'push');
        return { target: pv?.target ?? p.id.replace(/^push /, ''), state: p.state === 'backoff' ? ('backoff' as const) : p.state !== 'running' ? ('stopped' as const) : pv?.state ?? 'connecting', restarts: p.restarts };
      }),
    };
  });
  const messages = core && core.messages.length ? core.messages : sup.lastMessages;
  return {
    id: spec.id,
    type: spec.type,
    mood: core?.mood ?? (coreNode?.state === 'backoff' ? 'waking' : 'sleeping'),
    restarts: coreNode?.restarts ?? 0,
    ...(sup.epoch !== undefined ? { epoch: sup.epoch } : {}),
    details: core?.details,
    messages: messages.slice(-20),
    eaters,
    feeders,
  };
}
