// The components a worker runs: a supervisor (one_for_one) with one temporary child per
// component (its own supervisor, see component-supervisor.ts), started and stopped as the
// manager (or launch) says. A component whose supervisor gave up is not restarted from here:
// it is kept as sad, with why, until it is stopped or started again. Nothing it does waits on a
// component: a stop runs while the next orders are taken.

import { ComponentSpec } from '../../protocol/wire';
import { PROTOCOL_ERROR_CODES } from '../../protocol/errors';
import { listenersReply } from './listeners';
import { ActorDef, COMPONENTS_FLAGS, ChildExit, ChildSpec, Ctx, IntensityExceeded, rootCause, readView, UnknownMessageError } from '../supervision';
import { ComponentArgs, ComponentDeps, ComponentMsg, componentSpec } from '../component/component-supervisor';
import { FeedTarget } from '../feed/eater-actor';
import { CoreView } from '../component/component-core';
import type { SadComponent } from '../component/component-report';
import { ComponentMessage } from '../component/mood';

export type ComponentsMsg =
  | { type: 'start'; spec: ComponentSpec; epoch?: number }
  | { type: 'stop'; id: string; done?: () => void }
  | { type: 'stop-all'; done: () => void }
  | { type: 'route'; id: string; msg: ComponentMsg };

export interface ComponentsView {
  kind: 'components';
  sad: SadComponent[];
}

interface State {
  specs: Map<string, { spec: ComponentSpec; epoch?: number }>;
  /** Each component's feed targets as the manager gave them: a restarted component supervisor gets them back. */
  targets: Map<string, Map<string, FeedTarget>>;
  pushes: Map<string, Map<string, Set<string>>>;
  sad: Map<string, SadComponent>;
}

/** Why a component is sad, as its messages say it. */
function sadReason(error: Error): string {
  if (error instanceof IntensityExceeded) return `restarted ${error.restarts} times within ${error.periodMs / 1000} s; last error: ${rootCause(error).message}`;
  return `failed: ${error.message}`;
}

export function componentsDef(deps: ComponentDeps): ActorDef<State, ComponentsMsg> {
  const st: State = { specs: new Map(), targets: new Map(), pushes: new Map(), sad: new Map() };
  const argsOf = (id: string): ComponentArgs | null => {
    const x = st.specs.get(id);
    return x ? { spec: x.spec, deps, epoch: x.epoch, targets: st.targets.get(id), pushes: st.pushes.get(id) } : null;
  };
  const publish = (ctx: Ctx<ComponentsMsg>) => ctx.setInfo({ kind: 'components', read: (): ComponentsView => ({ kind: 'components', sad: [...st.sad.values()] }) });
  return {
    flags: COMPONENTS_FLAGS,
    init(ctx) {
      publish(ctx);
      return st;
    },
    receive(_s, msg, ctx) {
      switch (msg.type) {
        case 'start': {
          st.sad.delete(msg.spec.id);
          if (!ctx.hasChild(msg.spec.id)) {
            st.specs.set(msg.spec.id, { spec: msg.spec, epoch: msg.epoch });
            st.targets.delete(msg.spec.id);
            st.pushes.delete(msg.spec.id);
          }
          void ctx.startChild(componentSpec(argsOf(msg.spec.id) as ComponentArgs) as ChildSpec); // a running one stays as it is
          publish(ctx);
          return st;
        }
        case 'stop':
          st.sad.delete(msg.id);
          st.specs.delete(msg.id);
          st.targets.delete(msg.id);
          st.pushes.delete(msg.id);
          publish(ctx);
          void ctx.deleteChild(msg.id).then(() => msg.done?.());
          return st;
        case 'stop-all':
          st.sad.clear();
          st.specs.clear();
          st.targets.clear();
          st.pushes.clear();
          publish(ctx);
          // Right to left, each with its teardown, all at once.
          void Promise.all(ctx.childIds().reverse().map((id) => ctx.deleteChild(id))).then(msg.done);
          return st;
        case 'route': {
          // Feed orders are kept in the component's spec too: a restart of its supervisor dials where the manager said last.
          const m = msg.msg;
          if (m.type === 'eat-from' && st.specs.has(msg.id)) {
            const t = st.targets.get(msg.id) ?? new Map<string, FeedTarget>();
            t.set(m.feed, { host: m.host, port: m.port, secret: m.secret });
            st.targets.set(msg.id, t);
            ctx.setChildArgs(msg.id, argsOf(msg.id));
          } else if (m.type === 'feed-to' && st.specs.has(msg.id)) {
            const p = st.pushes.get(msg.id) ?? new Map<string, Set<string>>();
            const set = p.get(m.feeder) ?? new Set<string>();
            set.add(`${m.host}:${m.port}`);
            p.set(m.feeder, set);
            st.pushes.set(msg.id, p);
            ctx.setChildArgs(msg.id, argsOf(msg.id));
          }
          if (!ctx.send(msg.id, msg.msg) && msg.msg.type === 'listeners') {
            msg.msg.reply(listenersReply(msg.msg.q, { ok: false, code: PROTOCOL_ERROR_CODES.MANAGER_BAD_STATE, message: `${msg.id} is not running on this worker` }));
          }
          return st;
        }
        default:
          throw new UnknownMessageError('components', msg);
      }
    },
    childExited(_s, exit: ChildExit, ctx) {
      const spec = st.specs.get(exit.id)?.spec;
      if (!spec || exit.reason.kind !== 'crash' || exit.restarting) return st; // a restart of its supervisor alone is no give-up
      const e = exit.reason.error;
      const reason = sadReason(e);
      const core = e instanceof IntensityExceeded ? readView<CoreView>(e.lastInfo, 'core') : undefined;
      const messages: ComponentMessage[] = [...(core?.messages ?? []), { level: 'error', text: reason, time: Date.now() }];
      st.sad.set(exit.id, { spec, reason, messages: messages.slice(-20) });
      deps.log?.(reason, 'error', { component: exit.id });
      publish(ctx);
      return st;
    },
  };
}

export const componentsSpec = (deps: ComponentDeps): ChildSpec<ComponentDeps> => ({ id: 'components', args: deps, restart: 'permanent', shutdown: 30000, start: componentsDef });
