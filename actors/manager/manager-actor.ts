// The manager actor: the root of the manager's tree. Every ws connection (worker or admin)
// is introduced to it; it sends the challenge, checks the login (challenge-response), hands
// worker logins and worker frames to the planet actor (which admits or refuses the worker) and
// answers admins (status, component commands) by asking the planet. It supervises the planet
// actor; its own record (the connections) lives outside its mailbox, so a crash resets it with
// nothing lost and the planet actor is respawned from the planet's record.
//
//   manager ── planet ── worker NAME (avatar, one per planet worker) ── component /flow/name

import { Ref, dispatch, query, spawn } from 'nact';
import { FromManager, ToManager, WIRE_ERROR_CODES as E, managerProof, newNonce, verifyLogin } from '../../protocol/wire';
import { PROTOCOL_ERROR_CODES } from '../../protocol/errors';
import { WsChannel } from '../../transport/ws-channel';
import { CONTROL_POLICY, SupervisedRecord, UnknownMessageError, supervise, supervisedRecord } from '../supervision';
import { CommandResult, LISTENERS_ANSWER_MS, ListenersAnswer, PlanetMsg, PlanetRecord, ReloadResult, spawnPlanetActor } from './planet-actor';
import type { ReloadOutcome } from '../../admin/api';
import { StatusJson } from './status';

interface Connection {
  readonly id: number;
  readonly channel: WsChannel<ToManager, FromManager>;
  readonly nonce: string;
  readonly address: string;
  who: { role: 'worker' | 'admin'; name: string } | null;
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

export interface ManagerRecord extends SupervisedRecord {
  readonly connections: Map<number, Connection>;
  /** Failed logins per source address and role: the next attempt is checked no sooner than `until`. */
  readonly failures: Map<string, { count: number; until: number }>;
  readonly planet: PlanetRecord;
  seq: number;
  ref: Ref<ManagerMsg> | null;
}

export interface ManagerDeps {
  /** Workers log in (and feeds authenticate) with this one... */
  secret: string;
  /** ...and admins with this one: neither opens the other's door. */
  adminSecret: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** A connection must log in within this (ms). */
  loginTimeoutMs: number;
  log(line: string): void;
  /** Re-reads the planet (or takes `text`) and applies it (admins' `reload`). */
  reload(text?: string): Promise<ReloadOutcome>;
  /** Acts on a component (admins' `component start|stop|restart`), asking the planet actor. */
  command(action: 'start' | 'stop' | 'restart', id: string): Promise<CommandResult>;
  /** Something visible changed. */
  changed?(): void;
}

export type ManagerMsg =
  | { type: 'connection'; channel: WsChannel<ToManager, FromManager>; release: () => void }
  | { type: 'frame'; connId: number; msg: ToManager }
  | { type: 'bad'; connId: number; reason: string; n: number }
  | { type: 'closed'; connId: number }
  | { type: 'login-due'; connId: number; msg: Extract<ToManager, { type: 'login' }>; at: number }
  | { type: 'status'; replyTo: Ref<StatusJson> };

export function reloadSummary(r: ReloadResult): string {
  const list = (what: string, ids: string[]) => (ids.length ? `${what} ${ids.join(', ')}` : '');
  const parts = [list('added', r.added), list('removed', r.removed), list('restarted', r.restarted), list('moved', r.moved), list('workers added', r.workersAdded), list('workers removed', r.workersRemoved)].filter(Boolean);
  return `planet reloaded: ${parts.length ? parts.join('; ') : 'nothing changed'} (${r.unchanged} unchanged)`;
}

export function managerRecord(planet: PlanetRecord): ManagerRecord {
  return { ...supervisedRecord(CONTROL_POLICY), connections: new Map(), failures: new Map(), planet, seq: 0, ref: null };
}

const STATUS_TIMEOUT_MS = 5000;

export function spawnManagerActor(system: Ref<unknown>, s: ManagerRecord, deps: ManagerDeps): Ref<ManagerMsg> {
  const planet = (): Ref<PlanetMsg> => s.planet.ref as Ref<PlanetMsg>;
  const status = () => query(planet(), (replyTo: Ref<StatusJson>) => ({ type: 'status' as const, replyTo }), STATUS_TIMEOUT_MS);

  const accept = (self: Ref<ManagerMsg>, channel: WsChannel<ToManager, FromManager>, release: () => void) => {
    const id = ++s.seq;
    const loginTimer = setTimeout(() => !c.who && channel.terminate(), deps.loginTimeoutMs);
    const c: Connection = { id, channel, nonce: newNonce(), address: channel.peer, who: null, refused: false, loginStarted: false, timedOut: false, loginTimer, release };
    s.connections.set(id, c);
    // Before login only a login is read: small frames, checked before decoding; a few bad ones end it.
    channel.maxFrameBytes = PRE_LOGIN_FRAME_BYTES;
    channel.maxBadFrames = PRE_LOGIN_BAD_FRAMES;
    channel.on('message', (msg) => dispatch(self, { type: 'frame', connId: id, msg }));
    channel.on('bad', (reason) => dispatch(self, { type: 'bad', connId: id, reason, n: channel.badFrames }));
    channel.on('timeout', () => (c.timedOut = true));
    channel.on('close', () => dispatch(self, { type: 'closed', connId: id }));
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
  const login = (self: Ref<ManagerMsg>, c: Connection, msg: Extract<ToManager, { type: 'login' }>, checkedAt?: number) => {
    const key = `${c.address}|${msg.role}`;
    const now = Date.now();
    const f = s.failures.get(key);
    if (checkedAt === undefined && f && now < f.until) {
      if (f.until - now > deps.loginTimeoutMs - 500) {
        refuse(c, E.TOO_MANY_ATTEMPTS, `too many failed logins from ${c.address}: try again in ${Math.ceil((f.until - now) / 1000)} s`);
        return;
      }
      const at = f.until;
      f.until += Math.min(3000, 250 * 2 ** Math.min(f.count, 10)); // the next one waits behind this one
      setTimeout(() => dispatch(self, { type: 'login-due', connId: c.id, msg, at }), at - now);
      return;
    }
    const secret = msg.role === 'admin' ? deps.adminSecret : deps.secret;
    if (!verifyLogin(secret, c.nonce, msg.role, msg.name, msg.response)) {
      const count = (f?.count ?? 0) + 1;
      s.failures.delete(key);
      s.failures.set(key, { count, until: Math.max(now, f?.until ?? 0) + Math.min(3000, 250 * 2 ** (count - 1)) });
      if (s.failures.size > 10000) s.failures.delete(s.failures.keys().next().value as string);
      if (count <= 3 || count % 100 === 0) deps.log(`manager: refused login of ${msg.role} '${msg.name}' from ${c.address}: wrong secret (${count} in a row)`);
      refuse(c, E.AUTH_FAILED, 'wrong secret');
      return;
    }
    s.failures.delete(key);
    clearTimeout(c.loginTimer);
    c.release();
    c.channel.maxBadFrames = Infinity;
    c.channel.setMaxPayload(msg.role === 'worker' ? WORKER_FRAME_BYTES : ADMIN_FRAME_BYTES);
    c.who = { role: msg.role, name: msg.name };
    const proof = managerProof(secret, msg.clientNonce, c.nonce, msg.role, msg.name);
    if (msg.role === 'admin') {
      c.channel.send({ type: 'welcome', heartbeatIntervalMs: deps.heartbeatIntervalMs, heartbeatTimeoutMs: deps.heartbeatTimeoutMs, proof });
      c.channel.heartbeat(deps.heartbeatIntervalMs, deps.heartbeatTimeoutMs);
      return;
    }
    // The planet admits the worker (or refuses it: unknown, or a duplicate name) and welcomes it.
    dispatch(planet(), {
      type: 'worker-login', name: msg.name, instance: msg.instance ?? null, channel: c.channel, connId: c.id, proof,
      info: { host: msg.host, pid: msg.pid, feedHost: msg.feedHost, feedPort: msg.feedPort },
    });
  };

  const admin = (c: Connection, msg: ToManager) => {
    if (msg.type === 'status-request') {
      status().then(
        (st) => c.channel.send({ type: 'status', requestId: msg.requestId, status: st }),
        (e: Error) => c.channel.send({ type: 'error', code: E.BAD_FRAME, reason: `status unavailable: ${e.message}` }),
      );
    } else if (msg.type === 'reload-request') {
      deps.reload(msg.planet).then(
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
      query(planet(), (replyTo: Ref<ListenersAnswer>) => ({ type: 'listeners' as const, id: msg.id, kick, replyTo }), LISTENERS_ANSWER_MS + 1000).then(
        (a) => c.channel.send({ type: 'listeners-result', requestId: msg.requestId, ...a }),
        (e: Error) => c.channel.send({ type: 'listeners-result', requestId: msg.requestId, ok: false, code: PROTOCOL_ERROR_CODES.MANAGER_NO_ANSWER, message: String(e.message) }),
      );
    } else if (msg.type === 'component-command') {
      deps.command(msg.action, msg.id).then(
        (r) => c.channel.send({ type: 'command-result', requestId: msg.requestId, ok: r.ok, message: r.message }),
        (e: Error) => c.channel.send({ type: 'command-result', requestId: msg.requestId, ok: false, message: String(e.message) }),
      );
    }
  };

  s.ref = spawn(
    system,
    (st: null, m: ManagerMsg, ctx): null => {
      switch (m.type) {
        case 'connection':
          accept(ctx.self, m.channel, m.release);
          return st;
        case 'frame': {
          const c = s.connections.get(m.connId);
          if (!c || c.refused) return st;
          if (!c.who) {
            if (m.msg.type === 'login') {
              if (c.loginStarted) return st; // one login per connection
              c.loginStarted = true;
              login(ctx.self, c, m.msg);
            }
            else {
              c.channel.send({ type: 'error', code: E.NOT_LOGGED_IN, reason: 'log in first' });
              if (++c.channel.badFrames >= PRE_LOGIN_BAD_FRAMES) c.channel.terminate();
            }
          } else if (c.who.role === 'worker') {
            dispatch(planet(), { type: 'from-worker', name: c.who.name, connId: c.id, msg: m.msg });
          } else {
            admin(c, m.msg);
          }
          return st;
        }
        case 'bad': {
          const c = s.connections.get(m.connId);
          if (!c || c.refused) return st;
          // One line per connection and a note when it is cut: bad frames cannot flood the log.
          const n = m.n;
          if (n === 1) deps.log(`manager: bad frame from ${c.who ? `${c.who.role} ${c.who.name}` : `a new connection from ${c.address}`}: ${m.reason}`);
          if (!c.who && n >= PRE_LOGIN_BAD_FRAMES) deps.log(`manager: dropped a connection from ${c.address} after ${n} bad frames before login`);
          c.channel.send({ type: 'error', code: E.BAD_FRAME, reason: m.reason });
          return st;
        }
        case 'closed': {
          const c = s.connections.get(m.connId);
          if (!c) return st;
          s.connections.delete(m.connId);
          clearTimeout(c.loginTimer);
          c.release();
          if (c.who?.role === 'worker') dispatch(planet(), { type: 'worker-gone', name: c.who.name, connId: c.id, reason: c.timedOut ? 'heartbeat timeout' : 'connection closed' });
          return st;
        }
        case 'login-due': {
          const c = s.connections.get(m.connId);
          if (c && !c.refused && !c.who) login(ctx.self, c, m.msg, m.at);
          return st;
        }
        case 'status':
          status().then((x) => dispatch(m.replyTo, x), () => undefined);
          return st;
        default:
          throw new UnknownMessageError('manager', m);
      }
    },
    'manager',
    {
      initialStateFunc: (ctx) => {
        // Started, or reset after a crash: the planet actor again, from the planet's record.
        spawnPlanetActor(ctx.self, s.planet, {
          heartbeatIntervalMs: deps.heartbeatIntervalMs,
          heartbeatTimeoutMs: deps.heartbeatTimeoutMs,
          log: deps.log,
          managerRestarts: () => s.intensity.restarts,
          changed: deps.changed,
        });
        return null;
      },
      onCrash: supervise<ManagerMsg>(s, { crashed: (err) => deps.log(`manager: manager actor crashed, restarting from its state: ${err?.message}`) }),
    },
  );
  return s.ref;
}
