// One running component: a supervisor (COMPONENT_FLAGS: rest_for_one over feeders, core,
// eaters; 5 restarts within 30 s) that routes the manager's feed orders to its children. It
// owns the component's port (the wiring board of the data path) and the feed targets the
// manager gave (eat-from, feed-to), which it keeps in its children's specs, so a restarted
// child dials where the manager said last. It is a temporary child of the worker's
// components supervisor: when it gives up, it is not restarted, and the component is sad.

import { ComponentSpec, ListenersResult } from '../../protocol/wire';
import { PROTOCOL_ERROR_CODES } from '../../protocol/errors';
import { ListenersQuestion, listenersReply } from '../worker/listeners';
import { LogFn } from '../log';
import { ActorDef, COMPONENT_FLAGS, ChildExit, ChildSpec, Ctx, IntensityExceeded, readView, UnknownMessageError } from '../supervision';
import { EaterDeps, FeedTarget } from '../feed/eater-actor';
import { EaterFeed, eatersSpec } from '../feed/eaters-supervisor';
import { FeederDeps, feedersSpec } from '../feed/feeder-actor';
import { CoreView, coreSpec } from './component-core';
import { ComponentPort } from './component-port';
import { ComponentMessage } from './mood';
import { checkIntervalOf } from '../components/common-properties';

export interface ComponentDeps {
  eaters: EaterDeps;
  feeders: FeederDeps;
  log?: LogFn;
  /** The worker's advertised address: listeners reach sockets bound on every interface there. */
  advertiseHost?: string;
}

export interface ComponentArgs {
  spec: ComponentSpec;
  deps: ComponentDeps;
  /** The manager's start order this runs under (its reports carry it back). */
  epoch?: number;
  /** Where its feeds are, as the manager said last (kept by its parent across its restarts). */
  targets?: ReadonlyMap<string, FeedTarget>;
  pushes?: ReadonlyMap<string, ReadonlySet<string>>;
}

export type ComponentMsg =
  | { type: 'eat-from'; feed: string; host: string; port: number; secret?: string }
  | { type: 'feed-to'; feeder: string; host: string; port: number }
  | { type: 'core-ready' }
  | { type: 'listeners'; q: ListenersQuestion; reply: (r: ListenersResult) => void };

/** What the component's supervisor publishes: the messages of its last core, kept across restarts. */
export interface ComponentSupView {
  kind: 'component';
  spec: ComponentSpec;
  epoch?: number;
  lastMessages: ComponentMessage[];
}

interface State {
  targets: Map<string, FeedTarget>;
  pushes: Map<string, Set<string>>;
  lastMessages: ComponentMessage[];
}

export function componentDef(a: ComponentArgs): ActorDef<State, ComponentMsg> {
  const { spec } = a;
  const st: State = { targets: new Map(a.targets ?? []), pushes: new Map([...(a.pushes ?? new Map<string, ReadonlySet<string>>())].map(([k, v]) => [k, new Set(v)])), lastMessages: [] };
  const pushed = new Set(spec.pushed ?? []);
  const feeds: EaterFeed[] = Object.entries(spec.eaters).flatMap(([eater, list]) => list.map((feed) => ({ eater, feed, mode: pushed.has(feed) ? ('feed-to' as const) : ('eat-from' as const) })));
  const publish = (ctx: Ctx<ComponentMsg>) => ctx.setInfo({ kind: 'component', read: (): ComponentSupView => ({ kind: 'component', spec, epoch: a.epoch, lastMessages: st.lastMessages }) });
  return {
    flags: COMPONENT_FLAGS,
    init(ctx) {
      const port = new ComponentPort(
        (news) => void ctx.send('core', news),
        () => void ctx.tell({ type: 'core-ready' }),
      );
      const feeders = spec.feeders.map((name) => ({ name, feed: `${spec.id}:${name}` }));
      void ctx.startChild(feedersSpec({ feeders, pushes: st.pushes, port, deps: a.deps.feeders }) as ChildSpec);
      void ctx.startChild(coreSpec({ spec, port, log: a.deps.log, advertiseHost: a.deps.advertiseHost }) as ChildSpec);
      // A component's own check-interval property overrides the worker's --check-interval.
      const checkIntervalMs = checkIntervalOf(spec.properties) ?? a.deps.eaters.checkIntervalMs;
      void ctx.startChild(eatersSpec({ feeds, targets: st.targets, port, deps: { ...a.deps.eaters, checkIntervalMs } }) as ChildSpec);
      publish(ctx);
      return st;
    },
    receive(_s, msg, ctx) {
      switch (msg.type) {
        case 'eat-from': {
          const target: FeedTarget = { host: msg.host, port: msg.port, secret: msg.secret };
          st.targets.set(msg.feed, target);
          ctx.send('eaters', { type: 'target', feed: msg.feed, target });
          return st;
        }
        case 'feed-to': {
          const set = st.pushes.get(msg.feeder) ?? new Set<string>();
          set.add(`${msg.host}:${msg.port}`);
          st.pushes.set(msg.feeder, set);
          ctx.send('feeders', { type: 'feed-to', feeder: msg.feeder, host: msg.host, port: msg.port });
          return st;
        }
        case 'core-ready':
          ctx.send('eaters', { type: 'open' });
          return st;
        case 'listeners':
          if (!ctx.send('core', msg)) msg.reply(listenersReply(msg.q, { ok: false, code: PROTOCOL_ERROR_CODES.MANAGER_BAD_STATE, message: `${spec.id} is restarting` }));
          return st;
        default:
          throw new UnknownMessageError(`component supervisor ${spec.id}`, msg);
      }
    },
    childExited(_s, exit: ChildExit, ctx) {
      if (exit.id !== 'core' || exit.reason.kind === 'shutdown') return st;
      // A crash report must survive the restart: the dead core's last messages, and why it ended.
      const v = readView<CoreView>(exit.info, 'core');
      const crash = exit.reason.kind === 'crash' ? [{ level: 'error' as const, text: `crashed: ${exit.reason.error.message}`, time: Date.now() }] : [];
      st.lastMessages = [...(v?.messages ?? []), ...crash].slice(-20);
      publish(ctx);
      return st;
    },
  };
}

/**
 * Under the worker's components supervisor: restarted after a crash of its own (routing, a
 * bug), not after it gave up (its children failed past its intensity: the component is sad).
 */
export function componentSpec(a: ComponentArgs): ChildSpec<ComponentArgs> {
  return { id: a.spec.id, args: a, restart: 'temporary', shouldRestart: (r) => r.kind === 'crash' && !(r.error instanceof IntensityExceeded), shutdown: 15000, start: componentDef };
}
