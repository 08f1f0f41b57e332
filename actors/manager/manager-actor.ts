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
import { WsChannel } from '../../transport/ws-channel';
import { CONTROL_POLICY, SupervisedRecord, UnknownMessageError, supervise, supervisedRecord } from '../supervision';
import { CommandResult, PlanetMsg, PlanetRecord, spawnPlanetActor } from './planet-actor';
import { StatusJson } from './status';

interface Connection {
  readonly id: number;
  readonly channel: WsChannel<ToManager, FromManager>;
  readonly nonce: string;
  who: { role: 'worker' | 'admin'; name: string } | null;
  timedOut: boolean;
  loginTimer: NodeJS.Timeout;
}

export interface ManagerRecord extends SupervisedRecord {
  readonly connections: Map<number, Connection>;
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
  log(line: string): void;
}

export type ManagerMsg =
  | { type: 'connection'; channel: WsChannel<ToManager, FromManager> }
  | { type: 'frame'; connId: number; msg: ToManager }
  | { type: 'bad'; connId: number; reason: string }
  | { type: 'closed'; connId: number }
  | { type: 'status'; replyTo: Ref<StatusJson> };

export function managerRecord(planet: PlanetRecord): ManagerRecord {
  return { ...supervisedRecord(CONTROL_POLICY), connections: new Map(), planet, seq: 0, ref: null };
}

const STATUS_TIMEOUT_MS = 5000;

export function spawnManagerActor(system: Ref<unknown>, s: ManagerRecord, deps: ManagerDeps): Ref<ManagerMsg> {
  const planet = (): Ref<PlanetMsg> => s.planet.ref as Ref<PlanetMsg>;
  const status = () => query(planet(), (replyTo: Ref<StatusJson>) => ({ type: 'status' as const, replyTo }), STATUS_TIMEOUT_MS);

  const accept = (self: Ref<ManagerMsg>, channel: WsChannel<ToManager, FromManager>) => {
    const id = ++s.seq;
    // A connection must log in within twice the heartbeat timeout.
    const loginTimer = setTimeout(() => !c.who && channel.close(), deps.heartbeatTimeoutMs * 2);
    const c: Connection = { id, channel, nonce: newNonce(), who: null, timedOut: false, loginTimer };
    s.connections.set(id, c);
    channel.on('message', (msg) => dispatch(self, { type: 'frame', connId: id, msg }));
    channel.on('bad', (reason) => dispatch(self, { type: 'bad', connId: id, reason }));
    channel.on('timeout', () => (c.timedOut = true));
    channel.on('close', () => dispatch(self, { type: 'closed', connId: id }));
    channel.send({ type: 'challenge', nonce: c.nonce });
  };

  const login = (c: Connection, msg: Extract<ToManager, { type: 'login' }>) => {
    const secret = msg.role === 'admin' ? deps.adminSecret : deps.secret;
    if (!verifyLogin(secret, c.nonce, msg.role, msg.name, msg.response)) {
      deps.log(`manager: refused login of ${msg.role} '${msg.name}': wrong secret`);
      c.channel.send({ type: 'refused', code: E.AUTH_FAILED, reason: 'wrong secret' });
      setTimeout(() => c.channel.close(), 50);
      return;
    }
    clearTimeout(c.loginTimer);
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
    } else if (msg.type === 'component-command') {
      query(planet(), (replyTo: Ref<CommandResult>) => ({ type: 'command' as const, action: msg.action, id: msg.id, replyTo }), STATUS_TIMEOUT_MS).then(
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
          accept(ctx.self, m.channel);
          return st;
        case 'frame': {
          const c = s.connections.get(m.connId);
          if (!c) return st;
          if (!c.who) {
            if (m.msg.type === 'login') login(c, m.msg);
            else c.channel.send({ type: 'error', code: E.NOT_LOGGED_IN, reason: 'log in first' });
          } else if (c.who.role === 'worker') {
            dispatch(planet(), { type: 'from-worker', name: c.who.name, connId: c.id, msg: m.msg });
          } else {
            admin(c, m.msg);
          }
          return st;
        }
        case 'bad': {
          const c = s.connections.get(m.connId);
          if (!c) return st;
          deps.log(`manager: bad frame from ${c.who ? `${c.who.role} ${c.who.name}` : 'a new connection'}: ${m.reason}`);
          c.channel.send({ type: 'error', code: E.BAD_FRAME, reason: m.reason });
          return st;
        }
        case 'closed': {
          const c = s.connections.get(m.connId);
          if (!c) return st;
          s.connections.delete(m.connId);
          clearTimeout(c.loginTimer);
          if (c.who?.role === 'worker') dispatch(planet(), { type: 'worker-gone', name: c.who.name, connId: c.id, reason: c.timedOut ? 'heartbeat timeout' : 'connection closed' });
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
        });
        return null;
      },
      onCrash: supervise<ManagerMsg>(s, { crashed: (err) => deps.log(`manager: manager actor crashed, restarting from its state: ${err?.message}`) }),
    },
  );
  return s.ref;
}
