// The manager actor: the connections of the manager process and the parent of the planet
// actor. Every ws connection (worker or admin) is introduced to it; it sends the challenge,
// checks the login (challenge-response, slowed down per address after failures), hands
// worker logins and worker frames to the planet (which admits or refuses the worker) and
// answers admins (status, component commands, reloads) by asking the planet. It owns the
// connections: when it ends, they are closed (workers log in again and are re-adopted).
//
//   root "manager" ── manager ── planet ── worker NAME (avatar) ── component /flow/name (avatar)
//
// The planet is rebuilt, when it restarts, from what this actor hands it: the current planet
// config and the operators' decisions (the intent), and the workers logged in now.

import { FromManager, ToManager, WIRE_ERROR_CODES as E, managerProof, newNonce, verifyLogin } from '../../protocol/wire';
import { PlanetConfig } from '../../protocol/planet';
import { CommandResult, ListenersAnswer, ReloadOutcome, ReloadResult, StatusJson, reloadSummary } from '../../protocol/status';
import { PROTOCOL_ERROR_CODES } from '../../protocol/errors';
import { WsChannel } from '../../transport/ws-channel';
import { ActorDef, CONTROL_FLAGS, ChildSpec, Ctx, UnknownMessageError } from '../supervision';
import { LogFn } from '../log';
import { LoggedIn, PlanetArgs, PlanetMsg, planetSpec } from './planet-actor';
import { plainTree, upRestarts } from '../worker/worker-actor';

interface Connection {
  readonly id: number;
  readonly channel: WsChannel<ToManager, FromManager>;
  readonly nonce: string;
  readonly address: string;
  who: { role: 'worker' | 'admin'; name: string } | null;
  /** A worker's login as the planet admitted it (what a restarted planet is handed again). */
  login: LoggedIn | null;
  /** The worker said it stops cleanly (its components sleep, not lost). */
  shutdown: boolean;
  /** A refused login: nothing more is read from it. */
  refused: boolean;
  /** Its one login attempt arrived (it may wait out a backoff). */
  loginStarted: boolean;
  timedOut: boolean;
  loginTimer: NodeJS.Timeout;
  /** Its place among the connections not logged in yet (released on login). */
  release: () => void;
}

/** Frames before login: a login fits in this, and nothing else is read. */
export const PRE_LOGIN_FRAME_BYTES = 4096;
/** Frames a logged-in worker may send (its components' reports), and an admin. */
export const WORKER_FRAME_BYTES = 8 * 1024 * 1024;
export const ADMIN_FRAME_BYTES = 1024 * 1024;
/** Bad frames before login that end the connection. */
const PRE_LOGIN_BAD_FRAMES = 3;

/**
 * What the operators asked for, and what the manager has seen of its workers, kept by the
 * manager process for as long as it runs (it outlives the actors that obey it): the planet
 * config in force, the components an operator stopped, the workers that went away. Only the
 * manager actor writes it.
 */
export interface PlanetIntent {
  planet: PlanetConfig;
  readonly stopped: Set<string>;
  /** Workers that went away since this manager started, and how: a restarted planet (or manager actor) still knows who is lost. */
  readonly departed: Map<string, 'lost' | 'stopped'>;
}

export interface ManagerActorArgs {
  intent: PlanetIntent;
  /** Workers log in (and feeds authenticate) with this one... */
  secret: string;
  /** ...and admins with this one: neither opens the other's door. */
  adminSecret: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** A connection must log in within this (ms). */
  loginTimeoutMs: number;
  log: LogFn;
  /** Re-reads the planet (or takes `text`), checks it and applies it through this actor (admins' `reload`). */
  reload(text?: string): Promise<ReloadOutcome>;
  /** An operator's command was answered (the operator's surface records it). */
  commanded?(action: 'start' | 'stop' | 'restart', id: string, r: CommandResult): void;
}

export type ManagerMsg =
  | { type: 'connection'; channel: WsChannel<ToManager, FromManager>; release: () => void }
  | { type: 'frame'; connId: number; msg: ToManager }
  | { type: 'bad'; connId: number; reason: string; n: number }
  | { type: 'closed'; connId: number }
  | { type: 'login-due'; connId: number; msg: Extract<ToManager, { type: 'login' }>; at: number }
  | { type: 'status'; reply: (s: StatusJson | null, error?: string) => void }
  | { type: 'command'; action: 'start' | 'stop' | 'restart'; id: string; reply: (r: CommandResult) => void }
  | { type: 'reload'; planet: PlanetConfig; reply: (r: ReloadResult | null, error?: string) => void }
  | { type: 'listeners'; id: string; kick?: string; reply: (a: ListenersAnswer) => void };

interface State {
  connections: Map<number, Connection>;
  /** Failed logins per source address and role: the next attempt is checked no sooner than `until`. */
  failures: Map<string, { count: number; until: number }>;
  seq: number;
}

const PLANET_DOWN = 'the planet is restarting; try again';

export function managerActorDef(a: ManagerActorArgs): ActorDef<State, ManagerMsg> {
  const st: State = { connections: new Map(), failures: new Map(), seq: 0 };
  const loggedIn = (): LoggedIn[] => [...st.connections.values()].filter((c) => c.login && c.channel.isOpen).map((c) => c.login as LoggedIn);
  const planetArgs = (): PlanetArgs => ({
    planet: a.intent.planet,
    stopped: a.intent.stopped,
    loggedIn,
    departed: () => a.intent.departed,
    heartbeatIntervalMs: a.heartbeatIntervalMs,
    heartbeatTimeoutMs: a.heartbeatTimeoutMs,
    log: a.log,
  });
  const toPlanet = (ctx: Ctx<ManagerMsg>, msg: PlanetMsg) => ctx.send('planet', msg);

  /** The whole status: the planet's part, and the manager's own (restarts, the live tree). */
  const status = (ctx: Ctx<ManagerMsg>, reply: (s: StatusJson | null, error?: string) => void) => {
    const sent = toPlanet(ctx, {
      type: 'status',
      reply: (p) => {
        const t = ctx.tree();
        reply({ ...p, manager: { restarts: t.restarts, planetRestarts: t.children.find((c) => c.id === 'planet')?.restarts ?? 0, upRestarts: upRestarts(), tree: plainTree(t) } });
      },
    });
    if (!sent) reply(null, PLANET_DOWN);
  };

  const accept = (ctx: Ctx<ManagerMsg>, channel: WsChannel<ToManager, FromManager>, release: () => void) => {
    const id = ++st.seq;
    const loginTimer = setTimeout(() => !c.who && channel.terminate(), a.loginTimeoutMs);
    const c: Connection = { id, channel, nonce: newNonce(), address: channel.peer, who: null, login: null, shutdown: false, refused: false, loginStarted: false, timedOut: false, loginTimer, release };
    st.connections.set(id, c);
    // Before login only a login is read: small frames, checked before decoding; a few bad ones end it.
    channel.maxFrameBytes = PRE_LOGIN_FRAME_BYTES;
    channel.maxBadFrames = PRE_LOGIN_BAD_FRAMES;
    channel.on('message', (msg) => ctx.tell({ type: 'frame', connId: id, msg }));
    channel.on('bad', (reason) => ctx.tell({ type: 'bad', connId: id, reason, n: channel.badFrames }));
    channel.on('timeout', () => (c.timedOut = true));
    channel.on('close', () => ctx.tell({ type: 'closed', connId: id }));
    channel.send({ type: 'challenge', nonce: c.nonce });
  };

  /** Refuses a login and drops the connection at once: one guess per connection. */
  const refuse = (c: Connection, code: string, reason: string) => {
    c.refused = true;
    c.channel.send({ type: 'refused', code, reason });
    setTimeout(() => c.channel.terminate(), 20);
  };

  /**
   * Failed logins slow down per source address and role: after a failure, the next attempt from
   * there is checked no sooner than 250 ms later, doubling per failure up to 3 s; attempts queue
   * one after the other, so parallel guesses gain nothing. One guess per connection (a refusal
   * drops it), and an attempt that would wait past the login timeout is refused at once.
   */
  const login = (ctx: Ctx<ManagerMsg>, c: Connection, msg: Extract<ToManager, { type: 'login' }>, checkedAt?: number) => {
    const key = `${c.address}|${msg.role}`;
    const now = Date.now();
    const f = st.failures.get(key);
    if (checkedAt === undefined && f && now < f.until) {
      if (f.until - now > a.loginTimeoutMs - 500) {
        refuse(c, E.TOO_MANY_ATTEMPTS, `too many failed logins from ${c.address}: try again in ${Math.ceil((f.until - now) / 1000)} s`);
        return;
      }
      const at = f.until;
      f.until += Math.min(3000, 250 * 2 ** Math.min(f.count, 10)); // the next one waits behind this one
      setTimeout(() => ctx.tell({ type: 'login-due', connId: c.id, msg, at }), at - now);
      return;
    }
    const secret = msg.role === 'admin' ? a.adminSecret : a.secret;
    if (!verifyLogin(secret, c.nonce, msg.role, msg.name, msg.response)) {
      const count = (f?.count ?? 0) + 1;
      st.failures.delete(key);
      st.failures.set(key, { count, until: Math.max(now, f?.until ?? 0) + Math.min(3000, 250 * 2 ** (count - 1)) });
      if (st.failures.size > 10000) st.failures.delete(st.failures.keys().next().value as string);
      if (count <= 3 || count % 100 === 0) a.log(`manager: refused login of ${msg.role} '${msg.name}' from ${c.address}: wrong secret (${count} in a row)`);
      refuse(c, E.AUTH_FAILED, 'wrong secret');
      return;
    }
    st.failures.delete(key);
    clearTimeout(c.loginTimer);
    c.release();
    c.channel.maxBadFrames = Infinity;
    c.channel.setMaxPayload(msg.role === 'worker' ? WORKER_FRAME_BYTES : ADMIN_FRAME_BYTES);
    c.who = { role: msg.role, name: msg.name };
    const proof = managerProof(secret, msg.clientNonce, c.nonce, msg.role, msg.name);
    if (msg.role === 'admin') {
      c.channel.send({ type: 'welcome', heartbeatIntervalMs: a.heartbeatIntervalMs, heartbeatTimeoutMs: a.heartbeatTimeoutMs, proof });
      c.channel.heartbeat(a.heartbeatIntervalMs, a.heartbeatTimeoutMs);
      return;
    }
    // The planet admits the worker (or refuses it: unknown, or a duplicate name) and welcomes it.
    a.intent.departed.delete(msg.name);
    c.login = { name: msg.name, connId: c.id, instance: msg.instance ?? null, channel: c.channel, info: { host: msg.host, pid: msg.pid, feedHost: msg.feedHost, feedPort: msg.feedPort } };
    if (!toPlanet(ctx, { type: 'worker-login', login: c.login, proof })) {
      c.login = null;
      refuse(c, E.BAD_FRAME, PLANET_DOWN);
    }
  };

  const admin = (ctx: Ctx<ManagerMsg>, c: Connection, msg: ToManager) => {
    if (msg.type === 'status-request') {
      status(ctx, (s, error) => c.channel.send(s ? { type: 'status', requestId: msg.requestId, status: s } : { type: 'error', code: E.BAD_FRAME, reason: `status unavailable: ${error}` }));
    } else if (msg.type === 'reload-request') {
      a.reload(msg.planet).then(
        (r) =>
          c.channel.send(
            r.ok
              ? { type: 'reload-result', requestId: msg.requestId, ok: true, message: reloadSummary(r.result) }
              : { type: 'reload-result', requestId: msg.requestId, ok: false, message: `${r.code}: ${r.message}`, issues: r.issues },
          ),
        (e: Error) => c.channel.send({ type: 'reload-result', requestId: msg.requestId, ok: false, message: e.message }),
      );
    } else if (msg.type === 'listeners-request' || msg.type === 'listener-kick') {
      const kick = msg.type === 'listener-kick' ? msg.listener : undefined;
      listeners(ctx, msg.id, kick, (ans) => c.channel.send({ type: 'listeners-result', requestId: msg.requestId, ...ans }));
    } else if (msg.type === 'component-command') {
      command(ctx, msg.action, msg.id, (r) => c.channel.send({ type: 'command-result', requestId: msg.requestId, ok: r.ok, message: r.message }));
    }
  };

  const listeners = (ctx: Ctx<ManagerMsg>, id: string, kick: string | undefined, reply: (a: ListenersAnswer) => void) => {
    if (!toPlanet(ctx, { type: 'listeners', id, kick, reply })) reply({ ok: false, code: PROTOCOL_ERROR_CODES.MANAGER_NO_ANSWER, message: PLANET_DOWN });
  };

  /** An operator's command: its intent is kept (a restarted planet honours it), then the planet acts. */
  const command = (ctx: Ctx<ManagerMsg>, action: 'start' | 'stop' | 'restart', id: string, reply: (r: CommandResult) => void) => {
    const sent = toPlanet(ctx, {
      type: 'command',
      action,
      id,
      reply: (r) => {
        if (r.ok) {
          if (action === 'stop') a.intent.stopped.add(id);
          else a.intent.stopped.delete(id);
          ctx.setChildArgs('planet', planetArgs());
        }
        a.commanded?.(action, id, r);
        reply(r);
      },
    });
    if (!sent) reply({ ok: false, message: PLANET_DOWN });
  };

  return {
    flags: CONTROL_FLAGS,
    children: [planetSpec(planetArgs()) as ChildSpec],
    init(ctx) {
      // This incarnation's connections end with it: their workers log in again and are re-adopted.
      ctx.defer(() => {
        for (const c of st.connections.values()) {
          if (c.login && !c.shutdown) a.intent.departed.set(c.login.name, 'lost');
          clearTimeout(c.loginTimer);
          c.release();
          c.channel.terminate();
        }
        st.connections.clear();
      });
      return st;
    },
    receive(_s, m, ctx) {
      switch (m.type) {
        case 'connection':
          accept(ctx, m.channel, m.release);
          return st;
        case 'frame': {
          const c = st.connections.get(m.connId);
          if (!c || c.refused) return st;
          if (!c.who) {
            if (m.msg.type === 'login') {
              if (c.loginStarted) return st; // one login per connection
              c.loginStarted = true;
              login(ctx, c, m.msg);
            } else {
              c.channel.send({ type: 'error', code: E.NOT_LOGGED_IN, reason: 'log in first' });
              if (++c.channel.badFrames >= PRE_LOGIN_BAD_FRAMES) c.channel.terminate();
            }
          } else if (c.who.role === 'worker') {
            if (m.msg.type === 'shutdown') c.shutdown = true;
            toPlanet(ctx, { type: 'from-worker', name: c.who.name, connId: c.id, msg: m.msg });
          } else {
            admin(ctx, c, m.msg);
          }
          return st;
        }
        case 'bad': {
          const c = st.connections.get(m.connId);
          if (!c || c.refused) return st;
          // One line per connection and a note when it is cut: bad frames cannot flood the log.
          if (m.n === 1) a.log(`manager: bad frame from ${c.who ? `${c.who.role} ${c.who.name}` : `a new connection from ${c.address}`}: ${m.reason}`);
          if (!c.who && m.n >= PRE_LOGIN_BAD_FRAMES) a.log(`manager: dropped a connection from ${c.address} after ${m.n} bad frames before login`);
          c.channel.send({ type: 'error', code: E.BAD_FRAME, reason: m.reason });
          return st;
        }
        case 'closed': {
          const c = st.connections.get(m.connId);
          if (!c) return st;
          st.connections.delete(m.connId);
          clearTimeout(c.loginTimer);
          c.release();
          if (c.who?.role === 'worker') {
            // Remembered unless another connection of that worker is in (a process replacing its stale link).
            if (![...st.connections.values()].some((o) => o.login?.name === c.who?.name)) a.intent.departed.set(c.who.name, c.shutdown ? 'stopped' : 'lost');
            toPlanet(ctx, { type: 'worker-gone', name: c.who.name, connId: c.id, reason: c.timedOut ? 'heartbeat timeout' : 'connection closed' });
          }
          return st;
        }
        case 'login-due': {
          const c = st.connections.get(m.connId);
          if (c && !c.refused && !c.who) login(ctx, c, m.msg, m.at);
          return st;
        }
        case 'status':
          status(ctx, m.reply);
          return st;
        case 'command':
          command(ctx, m.action, m.id, m.reply);
          return st;
        case 'listeners':
          listeners(ctx, m.id, m.kick, m.reply);
          return st;
        case 'reload': {
          const sent = toPlanet(ctx, {
            type: 'reload',
            planet: m.planet,
            reply: (r) => {
              a.intent.planet = m.planet;
              for (const id of [...a.intent.stopped]) if (r.removed.includes(id) || r.restarted.includes(id) || r.moved.includes(id)) a.intent.stopped.delete(id);
              ctx.setChildArgs('planet', planetArgs());
              m.reply(r);
            },
          });
          if (!sent) m.reply(null, PLANET_DOWN);
          return st;
        }
        default:
          throw new UnknownMessageError('manager', m);
      }
    },
  };
}


export const managerActorSpec = (a: ManagerActorArgs): ChildSpec<ManagerActorArgs> => ({ id: 'manager', args: a, restart: 'permanent', shutdown: 10000, start: managerActorDef });
