// The planet actor: the manager's single source of truth, child of the manager actor. It holds
// the planet config and the live state (which workers are connected and where their feed
// servers are, each component's mood and whether an operator wants it running) and it decides:
// admit a worker's login (refusing a second process under a connected name), start components
// when their worker logs in (re-adopting those already running), wire feeds with eat-from /
// feed-to, mark components sleeping (clean stop) or lost (link gone), and obey admin commands.
// It carries questions about listeners to the worker that runs the component and its answer
// back (each question bounded in number and time). It supervises one worker avatar per planet
// worker, each with its component avatars.
//
// Moods the manager sets itself: sleeping (configured, not running), lost (worker gone without
// a clean shutdown, or heartbeat timeout). Everything else is what the component reports.
// Sad is sticky: a sad component is not started again until an operator says so.
// Its record lives outside the mailbox: a crash resets the actor (and respawns the avatars)
// from the state it last had.

import { Ref, dispatch, spawn, stop as stopActor } from 'nact';
import { ComponentState, FromManager, ListenersResult, ToManager, WIRE_ERROR_CODES as E } from '../../protocol/wire';
import { PROTOCOL_ERROR_CODES as P } from '../../protocol/errors';
import { API_ERROR_CODES as A } from '../../admin/errors';
import { PlanetConfig, feedRefMode, feedRefRemote, feedRefText, fullFeedId, parseFeedId } from '../../protocol/planet';
import { remoteFeedSecret } from '../planet/remote-feeds';
import { WsChannel } from '../../transport/ws-channel';
import { COMPONENT_TYPES } from '../components/registry';
import { Mood } from '../component/mood';
import { CONTROL_POLICY, SupervisedRecord, UnknownMessageError, supervise, supervisedRecord } from '../supervision';
import { ComponentLive, RemoteFeed, WorkerInfo, WorkerLive, componentLive, spawnComponentAvatar, spawnWorkerAvatar, workerLive } from './avatars';
import { StatusJson, planetStatus } from './status';
import { STARTABLE } from './commands';

export interface PlanetRecord extends SupervisedRecord {
  /** The running planet config (replaced by a reload). */
  planet: PlanetConfig;
  readonly workers: Map<string, WorkerLive>;
  readonly components: Map<string, ComponentLive>;
  /** Questions about listeners sent to workers, waiting for their answers. */
  readonly questions: Map<number, PendingQuestion>;
  questionSeq: number;
  ref: Ref<PlanetMsg> | null;
}

/** A listing or kick asked of a worker. */
interface PendingQuestion {
  readonly worker: string;
  readonly replyTo: Ref<ListenersAnswer>;
  readonly timer: NodeJS.Timeout;
}

/** What the manager answers about listeners (the wire's listeners-result without its envelope). */
export type ListenersAnswer = Omit<ListenersResult, 'type' | 'requestId'>;

/** A worker has this long to answer a question about listeners (ms). */
export const LISTENERS_ANSWER_MS = 4000;
/** Questions waiting for workers' answers, at most. */
const MAX_QUESTIONS = 256;

export interface PlanetDeps {
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  log(line: string): void;
  /** Restart counts of the manager actor, for the status. */
  managerRestarts(): number;
  /** Something visible changed (moods, workers, reports): the operator's surface takes a look. */
  changed?(): void;
}

/** What a reload did, component ids by kind of change. */
export interface ReloadResult {
  added: string[];
  removed: string[];
  restarted: string[];
  moved: string[];
  unchanged: number;
  workersAdded: string[];
  workersRemoved: string[];
}

export type CommandResult = { ok: boolean; message: string; code?: string };

export type PlanetMsg =
  | { type: 'worker-login'; name: string; instance: string | null; info: WorkerInfo; channel: WsChannel<ToManager, FromManager>; connId: number; proof: string }
  | { type: 'worker-gone'; name: string; connId: number; reason: string }
  | { type: 'from-worker'; name: string; connId: number; msg: ToManager }
  | { type: 'status'; replyTo: Ref<StatusJson> }
  | { type: 'command'; action: 'start' | 'stop' | 'restart'; id: string; replyTo: Ref<CommandResult> }
  /** List a component's listeners, or disconnect one (`kick`). */
  | { type: 'listeners'; id: string; kick?: string; replyTo: Ref<ListenersAnswer> }
  | { type: 'reload'; planet: PlanetConfig; replyTo: Ref<ReloadResult> };

type ComponentPlan = Omit<ComponentLive, 'mood' | 'wanted' | 'lastReport' | 'ref' | keyof SupervisedRecord>;

/** Resolves the planet into component specs (full feed ids, feeders from the type). */
export function planetSpecs(planet: PlanetConfig): ComponentPlan[] {
  const groups = [{ flow: 'atmosphere', components: planet.atmosphere.components }, ...planet.flows.map((f) => ({ flow: f.name, components: f.components }))];
  const out: ComponentPlan[] = [];
  for (const g of groups) {
    for (const c of g.components) {
      const t = COMPONENT_TYPES.get(c.type);
      const feedModes = new Map<string, 'eat-from' | 'feed-to'>();
      const remotes = new Map<string, RemoteFeed>();
      const eaters: Record<string, string[]> = {};
      for (const [eater, refs] of Object.entries(c.eaters)) {
        eaters[eater] = refs.map((r) => {
          const id = fullFeedId(parseFeedId(feedRefText(r), g.flow) as NonNullable<ReturnType<typeof parseFeedId>>);
          feedModes.set(id, feedRefMode(r));
          const remote = feedRefRemote(r);
          if (remote) remotes.set(id, { ...remote, secret: remoteFeedSecret(r) });
          return id;
        });
      }
      const pushed = [...feedModes].filter(([, m]) => m === 'feed-to').map(([f]) => f);
      out.push({
        spec: { id: `/${g.flow}/${c.name}`, type: c.type, properties: c.properties, eaters, pushed, feeders: [...(t?.feeders ?? [])] },
        flow: g.flow,
        name: c.name,
        worker: c.worker,
        feedModes,
        remotes,
      });
    }
  }
  return out;
}

export function planetRecord(planet: PlanetConfig): PlanetRecord {
  const workers = new Map(planet.workers.map((w) => [w.name, workerLive(w.name)]));
  const components = new Map(planetSpecs(planet).map((c) => [c.spec.id, componentLive(c)]));
  return { ...supervisedRecord(CONTROL_POLICY), planet, workers, components, questions: new Map(), questionSeq: 0, ref: null };
}

export function spawnPlanetActor(parent: Ref<unknown>, s: PlanetRecord, deps: PlanetDeps): Ref<PlanetMsg> {
  const log = deps.log;
  const send = (w: WorkerLive | undefined, msg: FromManager) => {
    if (w?.state === 'connected' && w.ref) dispatch(w.ref, { type: 'send', msg });
  };
  const connected = (name: string) => s.workers.get(name)?.state === 'connected';

  /** Tells every connected worker where its components eat from / feed to. Repeats are ignored there. */
  const wire = () => {
    for (const c of s.components.values()) {
      if (!c.wanted) continue;
      const down = s.workers.get(c.worker);
      for (const [eater, feeds] of Object.entries(c.spec.eaters)) {
        for (const feed of feeds) {
          const remote = c.remotes.get(feed);
          if (remote) {
            // Another planet's feed (a relay): dialed there with that planet's secret.
            if (down && connected(down.name)) send(down, { type: 'eat-from', id: c.spec.id, eater, feed, host: remote.host, port: remote.port, secret: remote.secret });
            continue;
          }
          const up = s.components.get(feed.slice(0, feed.lastIndexOf(':')));
          const upWorker = up && s.workers.get(up.worker);
          if (!up || !upWorker || !down || !connected(upWorker.name) || !connected(down.name)) continue;
          if (c.feedModes.get(feed) === 'feed-to') {
            if (down.info.feedPort) send(upWorker, { type: 'feed-to', id: up.spec.id, feeder: feed.slice(feed.lastIndexOf(':') + 1), feed, host: down.info.feedHost ?? '127.0.0.1', port: down.info.feedPort });
          } else if (upWorker.info.feedPort) {
            send(down, { type: 'eat-from', id: c.spec.id, eater, feed, host: upWorker.info.feedHost ?? '127.0.0.1', port: upWorker.info.feedPort });
          }
        }
      }
    }
  };

  const startOn = (c: ComponentLive) => {
    const w = s.workers.get(c.worker);
    if (w?.state !== 'connected') return;
    c.mood = 'waking';
    send(w, { type: 'start', spec: c.spec });
  };

  const placedOn = (worker: string) => [...s.components.values()].filter((c) => c.worker === worker);

  const login = (msg: Extract<PlanetMsg, { type: 'worker-login' }>) => {
    const w = s.workers.get(msg.name);
    const refuse = (code: string, reason: string) => {
      log(`manager: refused login of worker '${msg.name}': ${reason}`);
      msg.channel.send({ type: 'refused', code, reason });
      setTimeout(() => msg.channel.close(), 50);
    };
    if (!w) return refuse(E.UNKNOWN_WORKER, `the planet has no worker '${msg.name}'`);
    if (w.state === 'connected' && w.channel?.isOpen) {
      if (!msg.instance || msg.instance !== w.instance) {
        return refuse(E.DUPLICATE_WORKER, `a worker named '${msg.name}' is already connected (pid ${w.info.pid ?? '?'} on ${w.info.host ?? '?'})`);
      }
      w.channel.close(); // the same process again: its old link is stale
    }
    Object.assign(w, { state: 'connected', info: msg.info, channel: msg.channel, connId: msg.connId, instance: msg.instance, adopted: false, cleanShutdown: false });
    msg.channel.send({ type: 'welcome', heartbeatIntervalMs: deps.heartbeatIntervalMs, heartbeatTimeoutMs: deps.heartbeatTimeoutMs, proof: msg.proof, feedsTls: s.planet.feeds.tls });
    msg.channel.heartbeat(deps.heartbeatIntervalMs, deps.heartbeatTimeoutMs);
    log(`manager: worker ${msg.name} logged in (pid ${msg.info.pid ?? '?'}, feeds on ${msg.info.feedHost}:${msg.info.feedPort})`);
  };

  const answer = (requestId: number, a: ListenersAnswer) => {
    const q = s.questions.get(requestId);
    if (!q) return;
    clearTimeout(q.timer);
    s.questions.delete(requestId);
    dispatch(q.replyTo, a);
  };

  /** Asks the worker running the component about its listeners; answers at once when it cannot. */
  const listeners = (msg: Extract<PlanetMsg, { type: 'listeners' }>) => {
    const c = s.components.get(msg.id);
    const refuse = (code: string, message: string) => dispatch(msg.replyTo, { ok: false, code, message });
    if (!c) return refuse(A.NO_SUCH_COMPONENT, `no component ${msg.id}`);
    if (!COMPONENT_TYPES.get(c.spec.type)?.listeners) return refuse(P.MANAGER_NO_LISTENERS, `${msg.id} is a ${c.spec.type}: it has no listeners of its own`);
    const w = s.workers.get(c.worker);
    if (w?.state !== 'connected') return refuse(A.BAD_STATE, `${msg.id} is ${c.mood}: its worker ${c.worker} is not connected`);
    if (c.mood !== 'happy' && c.mood !== 'hungry') return refuse(A.BAD_STATE, `${msg.id} is ${c.mood}`);
    if (s.questions.size >= MAX_QUESTIONS) return refuse(P.MANAGER_NO_ANSWER, `too many questions to workers under way (${MAX_QUESTIONS}); try again`);
    const requestId = ++s.questionSeq;
    const timer = setTimeout(() => answer(requestId, { ok: false, code: P.MANAGER_NO_ANSWER, message: `worker ${c.worker} did not answer within ${LISTENERS_ANSWER_MS / 1000} s` }), LISTENERS_ANSWER_MS);
    s.questions.set(requestId, { worker: w.name, replyTo: msg.replyTo, timer });
    send(w, msg.kick !== undefined ? { type: 'listener-kick', requestId, id: msg.id, listener: msg.kick } : { type: 'listeners-request', requestId, id: msg.id });
  };

  const gone = (w: WorkerLive, reason: string) => {
    for (const [requestId, q] of [...s.questions]) {
      if (q.worker === w.name) answer(requestId, { ok: false, code: A.BAD_STATE, message: `worker ${w.name} went away (${reason})` });
    }
    w.state = w.cleanShutdown ? 'stopped' : 'lost';
    w.channel = null;
    w.connId = null;
    const mood: Mood = w.cleanShutdown ? 'sleeping' : 'lost';
    log(`manager: worker ${w.name} ${w.cleanShutdown ? 'stopped' : `lost (${reason})`}`);
    for (const c of placedOn(w.name)) {
      if (c.mood !== 'sad' && c.mood !== 'sleeping') c.mood = mood;
      if (c.mood === 'sad' && mood === 'sleeping') c.mood = 'sleeping';
    }
  };

  const reported = (w: WorkerLive, list: ComponentState[]) => {
    const byId = new Map(list.map((c) => [c.id, c]));
    for (const r of list) {
      const c = s.components.get(r.id);
      if (!c || c.worker !== w.name) continue;
      c.mood = r.mood;
      c.lastReport = r;
      if (c.ref) dispatch(c.ref, { type: 'report', state: r });
    }
    if (!w.adopted) {
      w.adopted = true;
      for (const c of placedOn(w.name)) {
        if (byId.has(c.spec.id)) {
          if (!c.wanted) send(w, { type: 'stop', id: c.spec.id });
          else log(`manager: re-adopted ${c.spec.id} (${c.mood})`);
        } else if (c.wanted && c.mood !== 'sad') {
          startOn(c);
        } else if (c.mood === 'lost' || c.mood === 'waking') {
          c.mood = 'sleeping';
        }
      }
      wire();
    } else {
      for (const c of placedOn(w.name)) {
        if (!byId.has(c.spec.id) && c.mood !== 'waking' && c.mood !== 'sad') c.mood = 'sleeping';
      }
    }
  };

  const command = (msg: Extract<PlanetMsg, { type: 'command' }>): CommandResult => {
    const c = s.components.get(msg.id);
    if (!c) return { ok: false, code: 'FLUX_MANAGER_NO_SUCH_COMPONENT', message: `no component ${msg.id}` };
    const w = s.workers.get(c.worker);
    if (msg.action === 'start' && !STARTABLE.has(c.mood)) {
      return { ok: false, code: 'FLUX_MANAGER_BAD_STATE', message: `${msg.id} is ${c.mood}; start is allowed from sleeping (or sad/lost)` };
    }
    if (msg.action === 'stop' || msg.action === 'restart') {
      c.wanted = msg.action === 'restart';
      send(w, { type: 'stop', id: c.spec.id });
      c.mood = 'sleeping';
      c.lastReport = null;
    }
    if (msg.action === 'start' || msg.action === 'restart') {
      if (c.mood === 'sad') send(w, { type: 'stop', id: c.spec.id });
      c.wanted = true;
      if (w?.state !== 'connected') return { ok: true, message: `${msg.id} will start when worker ${c.worker} logs in` };
      startOn(c);
      wire();
    }
    return { ok: true, message: `${msg.action} ${msg.id}: done` };
  };

  /** Same component, same everything that matters to the worker running it. */
  const sameSpec = (a: ComponentLive, b: ComponentPlan) => JSON.stringify(a.spec) === JSON.stringify(b.spec) && JSON.stringify([...a.feedModes]) === JSON.stringify([...b.feedModes]) && JSON.stringify([...a.remotes]) === JSON.stringify([...b.remotes]);

  /**
   * A new planet: components that appeared start, those that went stop, those whose type,
   * properties or feeds changed restart (those that only changed worker move); the rest is
   * left alone. Workers that appeared get an avatar; those that went are let go.
   */
  const reload = (self: Ref<PlanetMsg>, planet: PlanetConfig): ReloadResult => {
    const r: ReloadResult = { added: [], removed: [], restarted: [], moved: [], unchanged: 0, workersAdded: [], workersRemoved: [] };
    const plans = new Map(planetSpecs(planet).map((c) => [c.spec.id, c]));
    // Components that went, or that change worker or definition: stopped where they run.
    for (const [id, c] of [...s.components]) {
      const next = plans.get(id);
      if (next && sameSpec(c, next) && next.worker === c.worker) continue;
      send(s.workers.get(c.worker), { type: 'stop', id });
      if (c.ref) stopActor(c.ref);
      s.components.delete(id);
      if (!next) r.removed.push(id);
      else if (sameSpec(c, next)) r.moved.push(id);
      else r.restarted.push(id);
    }
    // Workers.
    const names = new Set(planet.workers.map((w) => w.name));
    for (const [name, w] of [...s.workers]) {
      if (names.has(name)) continue;
      w.alive = false;
      if (w.channel) w.channel.close();
      if (w.ref) stopActor(w.ref);
      s.workers.delete(name);
      r.workersRemoved.push(name);
    }
    for (const w of planet.workers) {
      if (s.workers.has(w.name)) continue;
      const rec = workerLive(w.name);
      s.workers.set(w.name, rec);
      spawnWorkerAvatar(self, rec, () => placedOn(w.name));
      r.workersAdded.push(w.name);
    }
    // Components that are new (or replaced above): avatars under their worker, started there.
    for (const [id, plan] of plans) {
      if (s.components.has(id)) {
        r.unchanged++;
        continue;
      }
      const c = componentLive(plan);
      s.components.set(id, c);
      const w = s.workers.get(plan.worker);
      if (w?.ref) spawnComponentAvatar(w.ref, c);
      if (!r.restarted.includes(id) && !r.moved.includes(id)) r.added.push(id);
      startOn(c);
    }
    // Keep the planet's order (status and the web admin list components as the file does).
    const ordered = [...plans.keys()].map((id) => [id, s.components.get(id) as ComponentLive] as const);
    s.components.clear();
    for (const [id, c] of ordered) s.components.set(id, c);
    s.planet = planet;
    wire();
    log(`manager: planet reloaded: ${r.added.length} added, ${r.removed.length} removed, ${r.restarted.length} restarted, ${r.moved.length} moved, ${r.unchanged} unchanged`);
    return r;
  };

  s.ref = spawn(
    parent,
    (st: null, msg: PlanetMsg, ctx): null => {
      deps.changed?.();
      switch (msg.type) {
        case 'worker-login':
          login(msg);
          return st;
        case 'worker-gone': {
          const w = s.workers.get(msg.name);
          if (w && w.connId === msg.connId && w.state === 'connected') gone(w, msg.reason); // else an older link of a worker that logged in again
          return st;
        }
        case 'from-worker': {
          const w = s.workers.get(msg.name);
          if (!w || w.connId !== msg.connId || w.state !== 'connected') return st;
          if (msg.msg.type === 'components') {
            if (msg.msg.worker) w.process = msg.msg.worker;
            reported(w, msg.msg.components);
          } else if (msg.msg.type === 'shutdown') {
            w.cleanShutdown = true;
          } else if (msg.msg.type === 'listeners-result') {
            if (s.questions.get(msg.msg.requestId)?.worker !== w.name) return st; // not asked of this worker
            const { type: _type, requestId, ...a } = msg.msg;
            answer(requestId, a);
          }
          return st;
        }
        case 'status':
          dispatch(msg.replyTo, planetStatus(s, deps.managerRestarts()));
          return st;
        case 'command':
          dispatch(msg.replyTo, command(msg));
          return st;
        case 'listeners':
          listeners(msg);
          return st;
        case 'reload':
          dispatch(msg.replyTo, reload(ctx.self, msg.planet));
          return st;
        default:
          throw new UnknownMessageError('planet', msg);
      }
    },
    'planet',
    {
      initialStateFunc: (ctx) => {
        // Started, or reset after a crash: one avatar per planet worker, from the kept records.
        for (const w of s.workers.values()) spawnWorkerAvatar(ctx.self, w, () => placedOn(w.name));
        return null;
      },
      onCrash: supervise<PlanetMsg>(s, { crashed: (err) => log(`manager: planet actor crashed, restarting from its state: ${err?.message}`) }),
    },
  );
  return s.ref;
}

export type { StatusJson };
