// The worker actor: the control of a worker process, beside its components supervisor and its
// link to the manager under the process's root. It does what the manager asks (start, stop,
// eat-from, feed-to) by telling the components supervisor, and reports every component's
// state back, debounced, read from the live tree. It keeps nothing another actor needs: a
// crash restarts it alone, and it reports again from the tree.
//
//   root "worker NAME" ─┬─ components ── component /flow/name ─┬─ feeders ── feeder NAME ── push HOST:PORT
//                       │                                      ├─ core
//                       │                                      └─ eaters ── eater FEED
//                       ├─ worker (this actor)
//                       └─ link (ws to the manager)

import * as fs from 'fs';
import { monitorEventLoopDelay } from 'perf_hooks';
import { ComponentState, FromManager, ToManager } from '../../protocol/wire';
import { ActorDef, ChildSpec, TreeNode, viewOf, UnknownMessageError } from '../supervision';
import { componentReport, sadState } from '../component/component-report';
import { ComponentsMsg, ComponentsView } from './components-supervisor';
import { LinkEvent, LinkView } from './manager-link';
import { listenersReply } from './listeners';
import { PROTOCOL_ERROR_CODES } from '../../protocol/errors';

export interface WorkerActorArgs {
  /** To the manager, through the link (false when there is none or it is down). */
  toManager(msg: ToManager): boolean;
  components(msg: ComponentsMsg): boolean;
  /** The process's live tree. */
  tree(): TreeNode;
  /** Every report, also without a manager (launch prints moods from it). */
  onReport?(states: ComponentState[]): void;
}

export type WorkerMsg = LinkEvent | { type: 'changed' } | { type: 'report' } | { type: 'shutdown'; done: () => void };

/** The process's own actors, as the manager shows them: restarts of the worker actor and the link, the link's reconnections. */
export interface WorkerProcessView {
  restarts: number;
  linkRestarts: number;
  linkReconnects?: number;
  cpuSeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  openFds?: number;
  eventLoopLagSeconds: number;
  /** Times `fluxcast up` started this worker again after it died (from its environment). */
  upRestarts?: number;
}

/** The event loop's delay, sampled all the time; each report reads its p99 and starts over. */
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

/** Open file descriptors of this process (Linux), or undefined where /proc does not tell. */
function openFds(): number | undefined {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

/** Every component's state from the live tree: the running ones, then those that gave up (sad). */
export function componentStates(tree: TreeNode): ComponentState[] {
  const comps = tree.children.find((c) => c.id === 'components');
  const running = (comps?.children ?? []).filter((n) => n.state === 'running').map(componentReport).filter((s): s is ComponentState => s !== null);
  const sad = viewOf<ComponentsView>(comps, 'components')?.sad ?? [];
  const ids = new Set(running.map((r) => r.id));
  return [...running, ...sad.filter((s) => !ids.has(s.spec.id)).map(sadState)];
}

export function processView(tree: TreeNode): WorkerProcessView {
  const cpu = process.cpuUsage();
  const link = tree.children.find((c) => c.id === 'link');
  const mem = process.memoryUsage();
  const lag = loopDelay.percentile(99) / 1e9;
  loopDelay.reset();
  const fds = openFds();
  return {
    restarts: tree.children.find((c) => c.id === 'worker')?.restarts ?? 0,
    linkRestarts: link?.restarts ?? 0,
    linkReconnects: viewOf<LinkView>(link, 'link')?.reconnects,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    ...(fds !== undefined ? { openFds: fds } : {}),
    eventLoopLagSeconds: Number.isFinite(lag) ? lag : 0,
    ...(upRestarts() !== undefined ? { upRestarts: upRestarts() } : {}),
  };
}

/** Times `fluxcast up` started this process again (it says so in the environment). */
export function upRestarts(): number | undefined {
  const n = Number(process.env.FLUXCAST_UP_RESTARTS);
  return process.env.FLUXCAST_UP_RESTARTS !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** The live tree without what actors publish (functions): what crosses the wire. */
export function plainTree(n: TreeNode, depth = 0): TreeNode {
  return { id: n.id, state: n.state, restarts: n.restarts, lastCrash: n.lastCrash, dropped: n.dropped, children: depth > 8 ? [] : n.children.slice(0, 1000).map((c) => plainTree(c, depth + 1)) };
}

interface State {
  reportTimer: NodeJS.Timeout | null;
  stopping: boolean;
}

export function workerActorDef(a: WorkerActorArgs): ActorDef<State, WorkerMsg> {
  const st: State = { reportTimer: null, stopping: false };
  const report = () => {
    if (st.reportTimer) clearTimeout(st.reportTimer);
    st.reportTimer = null;
    const tree = a.tree();
    const components = componentStates(tree);
    a.onReport?.(components);
    const { linkReconnects: _r, ...worker } = processView(tree);
    a.toManager({ type: 'components', components, worker, tree: plainTree(tree) });
  };
  const obey = (msg: FromManager) => {
    switch (msg.type) {
      case 'start':
        a.components({ type: 'start', spec: msg.spec, epoch: msg.epoch });
        return;
      case 'stop':
        a.components({ type: 'stop', id: msg.id });
        return;
      case 'eat-from':
        a.components({ type: 'route', id: msg.id, msg: { type: 'eat-from', feed: msg.feed, host: msg.host, port: msg.port, secret: msg.secret } });
        return;
      case 'feed-to':
        a.components({ type: 'route', id: msg.id, msg: { type: 'feed-to', feeder: msg.feeder, host: msg.host, port: msg.port } });
        return;
      case 'listeners-request':
      case 'listener-kick':
        // Answered by the component's core when ready; the answer goes straight back over the link.
        if (!a.components({ type: 'route', id: msg.id, msg: { type: 'listeners', q: msg, reply: (r) => void a.toManager(r) } })) {
          a.toManager(listenersReply(msg, { ok: false, code: PROTOCOL_ERROR_CODES.MANAGER_BAD_STATE, message: `${msg.id} is not running on this worker` }));
        }
        return;
      default:
        return; // replies meant for admins, errors: nothing to do here
    }
  };
  return {
    init(ctx) {
      ctx.defer(() => {
        if (st.reportTimer) clearTimeout(st.reportTimer);
      });
      return st;
    },
    receive(_s, msg, ctx) {
      switch (msg.type) {
        case 'link-up':
          report();
          return st;
        case 'manager':
          if (!st.stopping || msg.msg.type === 'listeners-request' || msg.msg.type === 'listener-kick') obey(msg.msg);
          return st;
        case 'changed':
          if (!st.reportTimer) st.reportTimer = setTimeout(() => ctx.tell({ type: 'report' }), 30);
          return st;
        case 'report':
          report();
          return st;
        case 'shutdown':
          // Clean stop: tell the manager first (our components sleep, not lost), stop every
          // component, send the last report; the caller closes the link after `done`.
          st.stopping = true;
          a.toManager({ type: 'shutdown' });
          a.components({
            type: 'stop-all',
            done: () => {
              report();
              setTimeout(msg.done, 50);
            },
          });
          return st;
        default:
          throw new UnknownMessageError('worker', msg);
      }
    },
  };
}

export const workerActorSpec = (a: WorkerActorArgs): ChildSpec<WorkerActorArgs> => ({ id: 'worker', args: a, restart: 'permanent', shutdown: 2000, start: workerActorDef });
