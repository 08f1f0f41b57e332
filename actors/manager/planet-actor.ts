// The planet actor: the manager's single source of truth, a child of the manager actor. It
// holds the live state (which workers are logged in and where their feed servers are, each
// component's mood facts) and it decides: admit a worker's login (refusing a second process
// under a connected name), start components when their worker logs in (re-adopting those
// already running), wire feeds with eat-from / feed-to, and apply the mood rules
// (mood-rules.ts) to logins, reports, losses and admin commands. Its children are one worker
// avatar per planet worker (each with its component avatars), which carry and keep.
//
// A restart rebuilds it from its spec: the planet config and the operators' decisions its
// parent keeps, and the workers logged in now (its parent's connections); each of them is
// re-admitted and re-adopted from its next report, so streams are never interrupted.

import { ComponentSpec, ComponentState, FromManager, ToManager, WIRE_ERROR_CODES as E, WireTreeNode } from '../../protocol/wire';
import { PROTOCOL_ERROR_CODES as P } from '../../protocol/errors';
import { PlanetConfig, feedRefMode, feedRefRemote, feedRefText, fullFeedId, parseFeedId } from '../../protocol/planet';
import { CommandResult, ListenersAnswer, ReloadResult, StatusJson, WorkerLinkState } from '../../protocol/status';
import { WsChannel } from '../../transport/ws-channel';
import { remoteFeedSecret } from '../planet/remote-feeds';
import { COMPONENT_TYPES } from '../components/registry';
import { ActorDef, CONTROL_FLAGS, ChildSpec, Ctx, UnknownMessageError } from '../supervision';
import { LogFn } from '../log';
import { ComponentFacts, MoodEvent, moodTransition } from './mood-rules';
import { workerAvatarSpec } from './avatars';
import { planetStatus } from './status';

export interface WorkerInfo {
  host?: string;
  pid?: number;
  feedHost?: string;
  feedPort?: number;
}

export interface RemoteFeed {
  host: string;
  port: number;
  secret: string;
}

/** A component as the planet places and wires it. */
export interface ComponentPlan {
  spec: ComponentSpec;
  flow: string;
  name: string;
  worker: string;
  /** Eater feed → mode, for wiring. */
  feedModes: Map<string, 'eat-from' | 'feed-to'>;
  /** Eater feed → another planet's feed server and secret (a relay); never shown in status. */
  remotes: Map<string, RemoteFeed>;
}

export interface ComponentLive extends ComponentPlan {
  facts: ComponentFacts;
  /** Start and stop orders sent so far: a report under an older one is stale (sent before the order arrived). */
  epoch: number;
}

export interface WorkerLive {
  readonly name: string;
  state: WorkerLinkState;
  info: WorkerInfo;
  connId: number | null;
  /** The worker process's random id: the same process may replace its own stale link. */
  instance: string | null;
  channel: WsChannel<ToManager, FromManager> | null;
  /** The first components report after a login has been handled (adoption done). */
  adopted: boolean;
  cleanShutdown: boolean;
  /** The worker process's own actors and live tree, from its reports. */
  process: NonNullable<Extract<ToManager, { type: 'components' }>['worker']> | null;
  tree: WireTreeNode | null;
}

/** A worker logged in now, as the manager actor (its parent) hands it to a restarted planet. */
export interface LoggedIn {
  name: string;
  connId: number;
  instance: string | null;
  info: WorkerInfo;
  channel: WsChannel<ToManager, FromManager>;
}

export interface PlanetArgs {
  planet: PlanetConfig;
  /** Components an operator stopped (they stay sleeping until started again). */
  stopped: ReadonlySet<string>;
  /** The workers logged in now (a restarted planet admits them again). */
  loggedIn(): LoggedIn[];
  /** Workers that went away, and how: a restarted planet shows their components lost (or sleeping). */
  departed(): ReadonlyMap<string, 'lost' | 'stopped'>;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  log: LogFn;
}

export type PlanetMsg =
  | { type: 'worker-login'; login: LoggedIn; proof: string }
  | { type: 'worker-gone'; name: string; connId: number; reason: string }
  | { type: 'from-worker'; name: string; connId: number; msg: ToManager }
  | { type: 'status'; reply: (s: Omit<StatusJson, 'manager'>) => void }
  | { type: 'command'; action: 'start' | 'stop' | 'restart'; id: string; reply: (r: CommandResult) => void }
  | { type: 'reload'; planet: PlanetConfig; reply: (r: ReloadResult) => void }
  /** List a component's listeners, or disconnect one (`kick`): asked of its worker, answered within LISTENERS_ANSWER_MS. */
  | { type: 'listeners'; id: string; kick?: string; reply: (a: ListenersAnswer) => void };

/** A worker has this long to answer a question about listeners (ms). */
export const LISTENERS_ANSWER_MS = 4000;
/** Questions waiting for workers' answers, at most. */
const MAX_QUESTIONS = 256;

/** A listing or kick asked of a worker. */
interface PendingQuestion {
  readonly worker: string;
  readonly reply: (a: ListenersAnswer) => void;
  readonly timer: NodeJS.Timeout;
}

/** Resolves the planet into component plans (full feed ids, feeders from the type). */
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

function workerLive(name: string): WorkerLive {
  return { name, state: 'never', info: {}, connId: null, instance: null, channel: null, adopted: false, cleanShutdown: false, process: null, tree: null };
}

export interface PlanetState {
  planet: PlanetConfig;
  workers: Map<string, WorkerLive>;
  components: Map<string, ComponentLive>;
  /** Questions about listeners sent to workers, waiting for their answers. */
  questions: Map<number, PendingQuestion>;
  questionSeq: number;
}

const avatarId = (worker: string) => `worker ${worker}`;

export function planetDef(a: PlanetArgs): ActorDef<PlanetState, PlanetMsg> {
  const log = a.log;
  const st: PlanetState = { planet: a.planet, workers: new Map(), components: new Map(), questions: new Map(), questionSeq: 0 };
  const live = (p: ComponentPlan): ComponentLive => ({ ...p, facts: { mood: 'sleeping', wanted: !a.stopped.has(p.spec.id), workerUp: false }, epoch: 0 });
  for (const w of a.planet.workers) st.workers.set(w.name, workerLive(w.name));
  for (const p of planetSpecs(a.planet)) st.components.set(p.spec.id, live(p));
  // A restart: the workers logged in now are ours again (their avatars hold their channels);
  // their next report re-adopts what they run.
  const loggedIn = new Map(a.loggedIn().filter((l) => st.workers.has(l.name)).map((l) => [l.name, l]));
  for (const l of loggedIn.values()) {
    Object.assign(st.workers.get(l.name) as WorkerLive, { state: 'connected', info: l.info, channel: l.channel, connId: l.connId, instance: l.instance });
    for (const c of placedOn(l.name)) c.facts = moodTransition(c.facts, { type: 'worker-up' }).facts;
  }
  // Workers that went away before: what a component wanted running on a lost worker is lost.
  for (const [name, how] of a.departed()) {
    const w = st.workers.get(name);
    if (!w || loggedIn.has(name)) continue;
    w.state = how;
    if (how === 'lost') for (const c of placedOn(name)) if (c.facts.wanted) c.facts = { ...c.facts, mood: 'lost' };
  }

  return {
    flags: CONTROL_FLAGS,
    children: [...st.workers.values()].map((w) => {
      const l = loggedIn.get(w.name);
      return workerAvatarSpec({ name: w.name, components: placedOn(w.name).map((c) => c.spec.id), channel: l ? { channel: l.channel, connId: l.connId } : null }) as ChildSpec;
    }),
    init(ctx) {
      // Questions under way end with this incarnation: their askers hear so at once.
      ctx.defer(() => {
        for (const requestId of [...st.questions.keys()]) answer(requestId, { ok: false, code: P.MANAGER_NO_ANSWER, message: 'the planet restarted; try again' });
      });
      return st;
    },
    receive(_s, msg, ctx) {
      switch (msg.type) {
        case 'worker-login':
          login(ctx, msg.login, msg.proof);
          return st;
        case 'worker-gone': {
          const w = st.workers.get(msg.name);
          if (w && w.connId === msg.connId && w.state === 'connected') gone(ctx, w, msg.reason); // else an older link of a worker that logged in again
          return st;
        }
        case 'from-worker': {
          const w = st.workers.get(msg.name);
          if (!w || w.connId !== msg.connId || w.state !== 'connected') return st;
          if (msg.msg.type === 'components') {
            if (msg.msg.worker) w.process = msg.msg.worker;
            if (msg.msg.tree) w.tree = msg.msg.tree;
            reported(ctx, w, msg.msg.components);
          } else if (msg.msg.type === 'shutdown') {
            w.cleanShutdown = true;
          } else if (msg.msg.type === 'listeners-result') {
            if (st.questions.get(msg.msg.requestId)?.worker !== w.name) return st; // not asked of this worker
            const { type: _type, requestId, ...ans } = msg.msg;
            answer(requestId, ans);
          }
          return st;
        }
        case 'status':
          msg.reply(planetStatus(st, ctx.tree()));
          return st;
        case 'command':
          msg.reply(command(ctx, msg));
          return st;
        case 'reload':
          msg.reply(reload(ctx, msg.planet));
          return st;
        case 'listeners':
          listeners(ctx, msg);
          return st;
        default:
          throw new UnknownMessageError('planet', msg);
      }
    },
  };

  function send(ctx: Ctx<PlanetMsg>, w: WorkerLive | undefined, msg: FromManager): void {
    if (w?.state === 'connected') ctx.send(avatarId(w.name), { type: 'send', msg });
  }

  function connected(name: string): boolean {
    return st.workers.get(name)?.state === 'connected';
  }

  /** Applies the mood rules to one component and performs their effects. */
  function apply(ctx: Ctx<PlanetMsg>, c: ComponentLive, e: MoodEvent): CommandResult | null {
    const t = moodTransition(c.facts, e);
    if (t.refused) return { ok: false, code: t.refused.code, message: `${c.spec.id} is ${c.facts.mood}; start is allowed from sleeping, lost or sad` };
    c.facts = t.facts;
    const w = st.workers.get(c.worker);
    for (const effect of t.effects) {
      if (effect === 'send-stop') {
        c.epoch++; // whatever the worker reports of the instance it stops is old news from now on
        send(ctx, w, { type: 'stop', id: c.spec.id });
      }
      else if (effect === 'send-start') send(ctx, w, { type: 'start', spec: c.spec, epoch: ++c.epoch });
      else if (effect === 'forget-report') ctx.send(avatarId(c.worker), { type: 'forget', id: c.spec.id });
      else if (effect === 'wire') wire(ctx);
    }
    return null;
  }

  /** Tells every connected worker where its components eat from / feed to. Repeats are ignored there. */
  function wire(ctx: Ctx<PlanetMsg>): void {
    for (const c of st.components.values()) {
      if (!c.facts.wanted) continue;
      const down = st.workers.get(c.worker);
      for (const [eater, feeds] of Object.entries(c.spec.eaters)) {
        for (const feed of feeds) {
          const remote = c.remotes.get(feed);
          if (remote) {
            // Another planet's feed (a relay): dialed there with that planet's secret.
            if (down && connected(down.name)) send(ctx, down, { type: 'eat-from', id: c.spec.id, eater, feed, host: remote.host, port: remote.port, secret: remote.secret });
            continue;
          }
          const up = st.components.get(feed.slice(0, feed.lastIndexOf(':')));
          const upWorker = up && st.workers.get(up.worker);
          if (!up || !upWorker || !down || !connected(upWorker.name) || !connected(down.name)) continue;
          if (c.feedModes.get(feed) === 'feed-to') {
            if (down.info.feedPort) send(ctx, upWorker, { type: 'feed-to', id: up.spec.id, feeder: feed.slice(feed.lastIndexOf(':') + 1), feed, host: down.info.feedHost ?? '127.0.0.1', port: down.info.feedPort });
          } else if (upWorker.info.feedPort) {
            send(ctx, down, { type: 'eat-from', id: c.spec.id, eater, feed, host: upWorker.info.feedHost ?? '127.0.0.1', port: upWorker.info.feedPort });
          }
        }
      }
    }
  }

  function placedOn(worker: string): ComponentLive[] {
    return [...st.components.values()].filter((c) => c.worker === worker);
  }

  /** A worker is ours: its avatar takes its channel, its components see it up. */
  function admit(ctx: Ctx<PlanetMsg>, l: LoggedIn): void {
    const w = st.workers.get(l.name);
    if (!w) return;
    Object.assign(w, { state: 'connected', info: l.info, channel: l.channel, connId: l.connId, instance: l.instance, adopted: false, cleanShutdown: false });
    ctx.setChildArgs(avatarId(w.name), { name: w.name, components: placedOn(w.name).map((c) => c.spec.id), channel: { channel: l.channel, connId: l.connId } });
    ctx.send(avatarId(w.name), { type: 'attach', channel: l.channel, connId: l.connId });
    for (const c of placedOn(w.name)) apply(ctx, c, { type: 'worker-up' });
  }

  function login(ctx: Ctx<PlanetMsg>, l: LoggedIn, proof: string): void {
    const w = st.workers.get(l.name);
    const refuse = (code: string, reason: string) => {
      log(`manager: refused login of worker '${l.name}': ${reason}`);
      l.channel.send({ type: 'refused', code, reason });
      setTimeout(() => l.channel.close(), 50);
    };
    if (!w) return refuse(E.UNKNOWN_WORKER, `the planet has no worker '${l.name}'`);
    if (w.state === 'connected' && w.channel?.isOpen) {
      if (!l.instance || l.instance !== w.instance) {
        return refuse(E.DUPLICATE_WORKER, `a worker named '${l.name}' is already connected (pid ${w.info.pid ?? '?'} on ${w.info.host ?? '?'})`);
      }
      w.channel.close(); // the same process again: its old link is stale
    }
    admit(ctx, l);
    l.channel.send({ type: 'welcome', heartbeatIntervalMs: a.heartbeatIntervalMs, heartbeatTimeoutMs: a.heartbeatTimeoutMs, proof, feedsTls: st.planet.feeds.tls });
    l.channel.heartbeat(a.heartbeatIntervalMs, a.heartbeatTimeoutMs);
    log(`manager: worker ${l.name} logged in (pid ${l.info.pid ?? '?'}, feeds on ${l.info.feedHost}:${l.info.feedPort})`);
  }

  function answer(requestId: number, ans: ListenersAnswer): void {
    const q = st.questions.get(requestId);
    if (!q) return;
    clearTimeout(q.timer);
    st.questions.delete(requestId);
    q.reply(ans);
  }

  /** Asks the worker running the component about its listeners; answers at once when it cannot. */
  function listeners(ctx: Ctx<PlanetMsg>, msg: Extract<PlanetMsg, { type: 'listeners' }>): void {
    const c = st.components.get(msg.id);
    const refuse = (code: string, message: string) => msg.reply({ ok: false, code, message });
    if (!c) return refuse(P.MANAGER_NO_SUCH_COMPONENT, `no component ${msg.id}`);
    if (!COMPONENT_TYPES.get(c.spec.type)?.listeners) return refuse(P.MANAGER_NO_LISTENERS, `${msg.id} is a ${c.spec.type}: it has no listeners of its own`);
    const w = st.workers.get(c.worker);
    if (w?.state !== 'connected') return refuse(P.MANAGER_BAD_STATE, `${msg.id} is ${c.facts.mood}: its worker ${c.worker} is not connected`);
    if (c.facts.mood !== 'happy' && c.facts.mood !== 'hungry') return refuse(P.MANAGER_BAD_STATE, `${msg.id} is ${c.facts.mood}`);
    if (st.questions.size >= MAX_QUESTIONS) return refuse(P.MANAGER_NO_ANSWER, `too many questions to workers under way (${MAX_QUESTIONS}); try again`);
    const requestId = ++st.questionSeq;
    const timer = setTimeout(() => ctx.guard(() => answer(requestId, { ok: false, code: P.MANAGER_NO_ANSWER, message: `worker ${c.worker} did not answer within ${LISTENERS_ANSWER_MS / 1000} s` }))(), LISTENERS_ANSWER_MS);
    st.questions.set(requestId, { worker: w.name, reply: msg.reply, timer });
    send(ctx, w, msg.kick !== undefined ? { type: 'listener-kick', requestId, id: msg.id, listener: msg.kick } : { type: 'listeners-request', requestId, id: msg.id });
  }

  function gone(ctx: Ctx<PlanetMsg>, w: WorkerLive, reason: string): void {
    for (const [requestId, q] of [...st.questions]) {
      if (q.worker === w.name) answer(requestId, { ok: false, code: P.MANAGER_BAD_STATE, message: `worker ${w.name} went away (${reason})` });
    }
    const clean = w.cleanShutdown;
    ctx.send(avatarId(w.name), { type: 'detach', connId: w.connId ?? -1 });
    Object.assign(w, { state: clean ? 'stopped' : 'lost', channel: null, connId: null, tree: null });
    log(`manager: worker ${w.name} ${clean ? 'stopped' : `lost (${reason})`}`);
    for (const c of placedOn(w.name)) apply(ctx, c, { type: clean ? 'worker-stopped' : 'worker-lost' });
  }

  function reported(ctx: Ctx<PlanetMsg>, w: WorkerLive, list: ComponentState[]): void {
    const byId = new Map(list.map((c) => [c.id, c]));
    const stale = (c: ComponentLive, r: ComponentState) => r.epoch !== undefined && r.epoch !== c.epoch;
    for (const r of list) {
      const c = st.components.get(r.id);
      if (!c || c.worker !== w.name) continue;
      if (!w.adopted) c.epoch = r.epoch ?? c.epoch; // what runs there is ours, under whatever epoch
      else if (stale(c, r)) continue; // a report of an instance we have since stopped
      ctx.send(avatarId(w.name), { type: 'report', state: r });
      if (w.adopted) apply(ctx, c, { type: 'report', mood: r.mood });
    }
    if (!w.adopted) {
      w.adopted = true;
      for (const c of placedOn(w.name)) {
        const r = byId.get(c.spec.id);
        apply(ctx, c, r ? { type: 'adopt-running', mood: r.mood } : { type: 'adopt-absent' });
        if (r && c.facts.wanted) log(`manager: re-adopted ${c.spec.id} (${c.facts.mood})`);
      }
      wire(ctx);
    } else {
      for (const c of placedOn(w.name)) {
        const r = byId.get(c.spec.id);
        if (!r) apply(ctx, c, { type: 'report-absent' });
      }
    }
  }

  function command(ctx: Ctx<PlanetMsg>, msg: Extract<PlanetMsg, { type: 'command' }>): CommandResult {
    const c = st.components.get(msg.id);
    if (!c) return { ok: false, code: P.MANAGER_NO_SUCH_COMPONENT, message: `no component ${msg.id}` };
    const refused = apply(ctx, c, { type: msg.action });
    if (refused) return refused;
    if (msg.action !== 'stop' && !connected(c.worker)) return { ok: true, message: `${msg.id} will start when worker ${c.worker} logs in` };
    return { ok: true, message: `${msg.action} ${msg.id}: done` };
  }

  /** Same component, same everything that matters to the worker running it. */
  function sameSpec(a1: ComponentPlan, b: ComponentPlan): boolean {
    return JSON.stringify(a1.spec) === JSON.stringify(b.spec) && JSON.stringify([...a1.feedModes]) === JSON.stringify([...b.feedModes]) && JSON.stringify([...a1.remotes]) === JSON.stringify([...b.remotes]);
  }

  /**
   * A new planet: components that appeared start, those that went stop, those whose type,
   * properties or feeds changed restart (those that only changed worker move); the rest is
   * left alone. Workers that appeared get an avatar; those that went are let go.
   */
  function reload(ctx: Ctx<PlanetMsg>, planet: PlanetConfig): ReloadResult {
    const r: ReloadResult = { added: [], removed: [], restarted: [], moved: [], unchanged: 0, workersAdded: [], workersRemoved: [] };
    const plans = new Map(planetSpecs(planet).map((c) => [c.spec.id, c]));
    // Components that went, or that change worker or definition: stopped where they run.
    for (const [id, c] of [...st.components]) {
      const next = plans.get(id);
      if (next && sameSpec(c, next) && next.worker === c.worker) continue;
      send(ctx, st.workers.get(c.worker), { type: 'stop', id });
      ctx.send(avatarId(c.worker), { type: 'unplace', id });
      st.components.delete(id);
      if (!next) r.removed.push(id);
      else if (sameSpec(c, next)) r.moved.push(id);
      else r.restarted.push(id);
    }
    // Workers.
    const names = new Set(planet.workers.map((w) => w.name));
    const newAvatars: string[] = [];
    for (const [name, w] of [...st.workers]) {
      if (names.has(name)) continue;
      w.channel?.close();
      void ctx.deleteChild(avatarId(name));
      st.workers.delete(name);
      r.workersRemoved.push(name);
    }
    for (const w of planet.workers) {
      if (st.workers.has(w.name)) continue;
      st.workers.set(w.name, workerLive(w.name));
      newAvatars.push(w.name);
      r.workersAdded.push(w.name);
    }
    // Components that are new (or replaced above): avatars under their worker, started there.
    for (const [id, plan] of plans) {
      if (st.components.has(id)) {
        r.unchanged++;
        continue;
      }
      const c = live(plan);
      c.facts.workerUp = connected(plan.worker);
      st.components.set(id, c);
      if (!newAvatars.includes(plan.worker)) ctx.send(avatarId(plan.worker), { type: 'place', id });
      if (!r.restarted.includes(id) && !r.moved.includes(id)) r.added.push(id);
      apply(ctx, c, { type: 'start' });
    }
    // Keep the planet's order (status and the web admin list components as the file does).
    const ordered = [...plans.keys()].map((id) => [id, st.components.get(id) as ComponentLive] as const);
    st.components.clear();
    for (const [id, c] of ordered) st.components.set(id, c);
    st.planet = planet;
    // New workers' avatars start with their components; avatars restarted later are given the components placed now.
    for (const w of st.workers.values()) {
      const args = { name: w.name, components: placedOn(w.name).map((c) => c.spec.id), channel: w.channel && w.connId !== null ? { channel: w.channel, connId: w.connId } : null };
      if (newAvatars.includes(w.name)) void ctx.startChild(workerAvatarSpec(args) as ChildSpec);
      else ctx.setChildArgs(avatarId(w.name), args);
    }
    wire(ctx);
    log(`manager: planet reloaded: ${r.added.length} added, ${r.removed.length} removed, ${r.restarted.length} restarted, ${r.moved.length} moved, ${r.unchanged} unchanged`);
    return r;
  }
}

export const planetSpec = (a: PlanetArgs): ChildSpec<PlanetArgs> => ({ id: 'planet', args: a, restart: 'permanent', shutdown: 5000, start: planetDef });
