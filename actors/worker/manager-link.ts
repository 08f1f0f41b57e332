// The worker's link to the manager: one WebSocket at a time, the challenge-response login and
// heartbeats. Messages from the manager go to the worker actor; the worker's reports go out
// through here. A link that closes (the manager went away, a heartbeat timeout) is no fault:
// the actor dials again after a jittered backoff (100 ms doubling to 5 s), forever, and says so
// once per reason. Only a real fault (a throw) is a crash for its supervisor. A refusal no retry
// can cure ends the worker with exit code 78 (EX_CONFIG), which `up` and systemd do not restart:
// an unknown name or a duplicate at once, a wrong secret after 3 refusals.
//
// States: connecting → logged-in → (closed) backoff → connecting ...; stopped after `close`.

import * as os from 'os';
import WebSocket from 'ws';
import { TLS_ERROR_CODES } from '../../transport/errors';
import { FromManager, ToManager, WIRE_ERROR_CODES, fromManagerSchema, loginResponse, newNonce, verifyManagerProof } from '../../protocol/wire';
import { WsChannel } from '../../transport/ws-channel';
import { schemeMismatch } from '../../transport/scheme-probe';
import { Backoff } from '../../transport/feed/backoff';
import { LogFn } from '../log';
import { ActorDef, ChildSpec, Ctx, LINK_BACKOFF, UnknownMessageError } from '../supervision';

export type LinkState = 'connecting' | 'logged-in' | 'backoff' | 'stopped';

/** Exit codes of a worker (sysexits.h): a refusal no retry can cure, and a software failure. */
export const EXIT_CONFIG = 78;
export const EXIT_SOFTWARE = 70;

/** Refusals of a wrong secret before the worker gives up (about a second of backoff in all). */
const MAX_AUTH_REFUSALS = 3;

export interface LinkArgs {
  managerUrl: string;
  name: string;
  secret: string;
  instance: string;
  /** What the login tells the manager about our feed server. */
  feedHost: string;
  feedPort: () => number;
  log: LogFn;
  /** A refusal no retry can cure: the worker must exit with it (code 78). */
  fatal(code: string, reason: string, exitCode: number): void;
  /** A private CA the manager's certificate must be signed by (wss://); default: the system's CAs. */
  ca?: Buffer;
  /** Whether our feeds speak TLS: the planet must agree (its welcome says). */
  feedsTls: boolean;
  /** Where the manager's messages go (the worker actor). */
  deliver(e: LinkEvent): void;
}

/** Sent to the worker actor. */
export type LinkEvent = { type: 'link-up' } | { type: 'manager'; msg: FromManager };

export type LinkMsg =
  | { type: 'send'; msg: ToManager }
  | { type: 'dial' }
  | { type: 'closed'; reason: string; code?: string; channel: WsChannel<FromManager, ToManager> }
  | { type: 'close' };

export interface LinkView {
  kind: 'link';
  state: LinkState;
  lastReason: string | null;
  /** Times the link was dialed again after it closed. */
  reconnects: number;
}

interface State {
  channel: WsChannel<FromManager, ToManager> | null;
  state: LinkState;
  lastReason: string | null;
  everLoggedIn: boolean;
  reconnects: number;
  authRefusals: number;
  timer: NodeJS.Timeout | null;
  backoff: Backoff;
}

export function linkDef(o: LinkArgs): ActorDef<State, LinkMsg> {
  const st: State = { channel: null, state: 'connecting', lastReason: null, everLoggedIn: false, reconnects: 0, authRefusals: 0, timer: null, backoff: new Backoff(LINK_BACKOFF) };
  const publish = (ctx: Ctx<LinkMsg>) => ctx.setInfo({ kind: 'link', read: (): LinkView => ({ kind: 'link', state: st.state, lastReason: st.lastReason, reconnects: st.reconnects }) });

  const dial = (ctx: Ctx<LinkMsg>) => {
    st.state = 'connecting';
    publish(ctx);
    const ws = new WebSocket(o.managerUrl, { maxPayload: 8 * 1024 * 1024, handshakeTimeout: 5000, ca: o.ca });
    let reason = 'connection closed';
    let code: string | undefined;
    // Set when the connection failed: a port speaking the other scheme (ws:// to TLS...) is named.
    let explained: Promise<void> = Promise.resolve();
    // First, so that a TLS or connection error (CERT_HAS_EXPIRED...) is the reason given.
    ws.on('error', (e: NodeJS.ErrnoException) => {
      code = e.code;
      reason = `cannot reach ${o.managerUrl}: ${e.code ?? e.message}`;
      explained = schemeMismatch(o.managerUrl, e.code).then((hint) => {
        if (hint) reason = `${hint.code}: ${hint.message}`;
      });
    });
    const channel = new WsChannel<FromManager, ToManager>(ws, fromManagerSchema);
    st.channel = channel;
    const clientNonce = newNonce();
    let nonce: string | null = null;
    channel.on(
      'message',
      ctx.guard((msg: FromManager) => {
        if (channel !== st.channel) return;
        if (msg.type === 'challenge') {
          if (nonce) return; // one challenge per connection
          nonce = msg.nonce;
          channel.send({
            type: 'login', role: 'worker', name: o.name, response: loginResponse(o.secret, msg.nonce, 'worker', o.name), clientNonce,
            pid: process.pid, host: os.hostname(), feedHost: o.feedHost, feedPort: o.feedPort(), instance: o.instance,
          });
        } else if (msg.type === 'welcome') {
          // Mutual: a manager that cannot prove it knows the secret gets nothing from us.
          if (!nonce || !verifyManagerProof(o.secret, clientNonce, nonce, 'worker', o.name, msg.proof)) {
            reason = `${WIRE_ERROR_CODES.MANAGER_UNVERIFIED}: ${o.managerUrl} did not prove it knows the secret; not a manager of ours`;
            o.log(reason);
            channel.close();
            return;
          }
          if ((msg.feedsTls ?? false) !== o.feedsTls) {
            const why = msg.feedsTls
              ? "the planet's feeds use TLS (feeds: { tls: true }) but this worker has no feed certificate (--feed-cert, --feed-key, --feed-ca)"
              : "this worker's feeds use TLS but the planet's do not (feeds: { tls: false })";
            o.fatal(TLS_ERROR_CODES.FEEDS_MISMATCH, why, EXIT_CONFIG);
            return;
          }
          st.state = 'logged-in';
          st.everLoggedIn = true;
          st.lastReason = null;
          st.authRefusals = 0;
          st.backoff.reset();
          channel.heartbeat(msg.heartbeatIntervalMs, msg.heartbeatTimeoutMs);
          o.log(`logged in to ${o.managerUrl}`);
          publish(ctx);
          o.deliver({ type: 'link-up' });
        } else if (msg.type === 'refused') {
          reason = `login refused: ${msg.code}: ${msg.reason}`;
          o.log(reason, 'warn');
          if (msg.code === WIRE_ERROR_CODES.DUPLICATE_WORKER || msg.code === WIRE_ERROR_CODES.UNKNOWN_WORKER) o.fatal(msg.code, msg.reason, EXIT_CONFIG);
          else if (msg.code === WIRE_ERROR_CODES.AUTH_FAILED && ++st.authRefusals >= MAX_AUTH_REFUSALS) o.fatal(msg.code, `the manager at ${o.managerUrl} refused our secret ${st.authRefusals} times: ${msg.reason}`, EXIT_CONFIG);
        } else if (st.state === 'logged-in') {
          o.deliver({ type: 'manager', msg });
        }
      }),
    );
    channel.on('bad', (r) => o.log(`bad frame from the manager: ${r}`));
    channel.on('timeout', () => {
      reason = 'manager silent, link declared dead';
      o.log(reason);
    });
    channel.on('close', () => void explained.then(() => ctx.tell({ type: 'closed', reason, code, channel })));
  };

  return {
    init(ctx) {
      ctx.defer(() => {
        if (st.timer) clearTimeout(st.timer);
        st.timer = null;
        st.state = 'stopped';
        st.channel?.close();
        st.channel = null;
      });
      dial(ctx);
      return st;
    },
    receive(_s, msg, ctx) {
      switch (msg.type) {
        case 'send':
          if (st.state === 'logged-in') st.channel?.send(msg.msg);
          return st;
        case 'dial':
          st.timer = null;
          if (st.state === 'backoff') dial(ctx);
          return st;
        case 'closed': {
          if (msg.channel !== st.channel || st.state === 'stopped') return st;
          st.channel = null;
          st.state = 'backoff';
          st.reconnects++;
          const delay = st.backoff.next();
          // Said once per reason, not once per retry.
          if (msg.reason !== st.lastReason) {
            // A manager that is not listening yet (started after its workers) is expected at first.
            const early = !st.everLoggedIn && msg.code === 'ECONNREFUSED';
            o.log(early ? `waiting for the manager (${msg.reason}); dialing again, first in ${delay} ms` : `no link to the manager (${msg.reason}); dialing again, first in ${delay} ms`, early ? 'info' : 'warn');
          }
          st.lastReason = msg.reason;
          publish(ctx);
          st.timer = setTimeout(() => ctx.tell({ type: 'dial' }), delay);
          return st;
        }
        case 'close':
          st.state = 'stopped';
          if (st.timer) clearTimeout(st.timer);
          st.timer = null;
          st.channel?.close();
          publish(ctx);
          return st;
        default:
          throw new UnknownMessageError('manager link', msg);
      }
    },
  };
}

export const linkSpec = (a: LinkArgs): ChildSpec<LinkArgs> => ({ id: 'link', args: a, restart: 'permanent', shutdown: 2000, start: linkDef });
