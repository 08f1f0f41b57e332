// A component's eaters: a supervisor (FEED_FLAGS: one_for_one, forever) with one eater actor
// per eater feed, opened once the component's core is set up. It keeps each eater's target in
// the eater's child spec (what the next incarnation dials), tells a live eater when its
// upstream moves and wakes one that waits out a backoff. Each eater exit is feed news for the
// core: the feed is down, with the reason, noted once per new reason (a repeated failure
// makes no new message); connections ended by error code are counted for metrics. It keeps
// each feed's FeedFlow (last media, cadence, resume point) across the eater's incarnations.

import { ActorDef, ChildExit, ChildSpec, Ctx, FEED_FLAGS, readView, UnknownMessageError } from '../supervision';
import { FeedFlow } from '../../transport/feed/feed-flow';
import { ComponentPort } from '../component/component-port';
import { EaterArgs, EaterDeps, EaterView, FeedLost, FeedTarget, eaterSpec, sameTarget } from './eater-actor';

export interface EaterFeed {
  eater: string;
  feed: string;
  mode: 'eat-from' | 'feed-to';
}

export interface EatersArgs {
  feeds: EaterFeed[];
  /** Where each eat-from feed is, as the manager said last (kept by the component's supervisor). */
  targets: ReadonlyMap<string, FeedTarget>;
  port: ComponentPort;
  deps: EaterDeps;
}

export type EatersMsg = { type: 'open' } | { type: 'target'; feed: string; target: FeedTarget };

/** What the eaters supervisor publishes: connections ended, by feed and error code. */
export interface EatersView {
  kind: 'eaters';
  errors: Record<string, Record<string, number>>;
  lastReasons: Record<string, string>;
}

interface State {
  opened: boolean;
  targets: Map<string, FeedTarget>;
  lastReason: Map<string, string>;
  errors: Map<string, Map<string, number>>;
}

export function eatersDef(a: EatersArgs): ActorDef<State, EatersMsg> {
  const st: State = { opened: false, targets: new Map(a.targets), lastReason: new Map(), errors: new Map() };
  const byFeed = new Map(a.feeds.map((f) => [f.feed, f]));
  const flows = new Map(a.feeds.map((f) => [f.feed, new FeedFlow(a.deps.checkIntervalMs)]));
  for (const [feed, flow] of flows) a.port.plugFlow(feed, flow);
  const argsOf = (f: EaterFeed): EaterArgs => ({ ...f, target: st.targets.get(f.feed) ?? null, port: a.port, deps: a.deps, flow: flows.get(f.feed) as FeedFlow });
  const publish = (ctx: Ctx<EatersMsg>) =>
    ctx.setInfo({
      kind: 'eaters',
      read: (): EatersView => ({
        kind: 'eaters',
        errors: Object.fromEntries([...st.errors].map(([feed, m]) => [feed, Object.fromEntries(m)])),
        lastReasons: Object.fromEntries(st.lastReason),
      }),
    });
  const open = (ctx: Ctx<EatersMsg>) => {
    if (st.opened) return;
    st.opened = true;
    for (const f of a.feeds) void ctx.startChild(eaterSpec(argsOf(f)) as ChildSpec);
  };
  return {
    flags: FEED_FLAGS,
    init(ctx) {
      publish(ctx);
      // A core that is set up already (this supervisor restarted alone): open at once.
      if (a.port.ready) open(ctx);
      return st;
    },
    receive(_s, msg, ctx) {
      switch (msg.type) {
        case 'open':
          open(ctx);
          return st;
        case 'target': {
          const f = byFeed.get(msg.feed);
          if (!f) return st;
          const moved = !sameTarget(st.targets.get(msg.feed), msg.target);
          st.targets.set(msg.feed, msg.target);
          if (!ctx.hasChild(msg.feed)) return st;
          ctx.setChildArgs(msg.feed, argsOf(f));
          // The upstream moved: an eater waiting out its backoff dials the new place now.
          // The upstream moved: an eater waiting out its backoff (or about to) dials the new place now.
          if (moved) ctx.expedite(msg.feed);
          ctx.send(msg.feed, { type: 'target', target: msg.target });
          return st;
        }
        default:
          throw new UnknownMessageError('eaters', msg);
      }
    },
    childExited(_s, exit: ChildExit, ctx) {
      const f = byFeed.get(exit.id);
      if (!f || exit.reason.kind === 'shutdown') return st;
      const reason = exit.reason.kind === 'crash' ? (exit.reason.error instanceof FeedLost ? exit.reason.error.message : `eater crashed: ${exit.reason.error.message}`) : 'ended';
      const code = exit.reason.kind === 'crash' ? (exit.reason.error as { code?: unknown }).code : undefined;
      if (typeof code === 'string') {
        const m = st.errors.get(f.feed) ?? new Map<string, number>();
        m.set(code, (m.get(code) ?? 0) + 1);
        st.errors.set(f.feed, m);
      }
      const repeated = st.lastReason.get(f.feed) === reason;
      st.lastReason.set(f.feed, reason);
      const view = readView<EaterView>(exit.info, 'eater');
      a.port.toCore({ type: 'feed-down', eater: f.eater, feed: f.feed, reason, code: typeof code === 'string' ? code : undefined, note: view?.state === 'flowing' || !repeated });
      publish(ctx);
      return st;
    },
  };
}

export function eatersSpec(a: EatersArgs): ChildSpec<EatersArgs> {
  return { id: 'eaters', args: a, restart: 'permanent', shutdown: 5000, start: eatersDef };
}
