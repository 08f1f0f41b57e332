// The worker's link to the manager, as a supervised child of the worker actor: one WebSocket,
// the challenge-response login, heartbeats. Messages from the manager go to the worker actor;
// the worker's reports go out through this actor. When the link closes (the manager went
// away, a heartbeat timeout, a refused login) the actor crashes and the link policy dials
// again after a jittered backoff, forever. A refusal no retry can cure ends the worker: a
// duplicate name (another worker process is logged in under it) is reported with its code.

import { Ref, dispatch, spawn } from 'nact';
import * as os from 'os';
import WebSocket from 'ws';
import { TLS_ERROR_CODES } from '../../transport/errors';
import { FromManager, ToManager, WIRE_ERROR_CODES, fromManagerSchema, loginResponse, newNonce, verifyManagerProof } from '../../protocol/wire';
import { WsChannel } from '../../transport/ws-channel';
import { schemeMismatch } from '../../transport/scheme-probe';
import { LogFn } from '../log';
import { LINK_POLICY, SupervisedRecord, UnknownMessageError, supervise, supervisedRecord } from '../supervision';

export type LinkState = 'connecting' | 'logged-in' | 'backoff' | 'stopped';

export interface LinkRecord extends SupervisedRecord {
  channel: WsChannel<FromManager, ToManager> | null;
  state: LinkState;
  lastReason: string | null;
  /** Logged in at least once (before that, a manager not up yet is no alarm). */
  everLoggedIn?: boolean;
}

export interface LinkOptions {
  managerUrl: string;
  name: string;
  secret: string;
  instance: string;
  /** What the login tells the manager about our feed server. */
  feedHost: string;
  feedPort: () => number;
  log: LogFn;
  /** A refusal no retry can cure: the worker must exit with it. */
  fatal(code: string, reason: string): void;
  /** A private CA the manager's certificate must be signed by (wss://); default: the system's CAs. */
  ca?: Buffer;
  /** Whether our feeds speak TLS: the planet must agree (its welcome says). */
  feedsTls: boolean;
}

/** Sent to the worker actor (the parent). */
export type LinkEvent = { type: 'link-up' } | { type: 'manager'; msg: FromManager };

export type LinkMsg =
  | { type: 'send'; msg: ToManager }
  | { type: 'closed'; reason: string; channel: WsChannel<FromManager, ToManager> }
  | { type: 'close' };

export function linkRecord(): LinkRecord {
  return { ...supervisedRecord(LINK_POLICY), channel: null, state: 'connecting', lastReason: null };
}

export function spawnManagerLink(parent: Ref<LinkEvent>, record: LinkRecord, o: LinkOptions): Ref<LinkMsg> {
  record.alive = true;
  return spawn(
    parent,
    (st: null, msg: LinkMsg): null => {
      switch (msg.type) {
        case 'send':
          if (record.state === 'logged-in') record.channel?.send(msg.msg);
          return st;
        case 'closed':
          if (msg.channel !== record.channel) return st;
          throw new Error(msg.reason);
        case 'close':
          record.alive = false;
          record.state = 'stopped';
          record.channel?.close();
          return st;
        default:
          throw new UnknownMessageError('manager link', msg);
      }
    },
    'link',
    {
      initialStateFunc: (ctx) => {
        if (!record.alive) return null;
        record.state = 'connecting';
        const ws = new WebSocket(o.managerUrl, { maxPayload: 8 * 1024 * 1024, handshakeTimeout: 5000, ca: o.ca });
        let reason = 'connection closed';
        // Set when the connection failed: a port speaking the other scheme (ws:// to TLS...) is named.
        let explained: Promise<void> = Promise.resolve();
        // First, so that a TLS or connection error (CERT_HAS_EXPIRED...) is the reason given.
        ws.on('error', (e: NodeJS.ErrnoException) => {
          reason = `cannot reach ${o.managerUrl}: ${e.code ?? e.message}`;
          explained = schemeMismatch(o.managerUrl, e.code).then((hint) => {
            if (hint) reason = `${hint.code}: ${hint.message}`;
          });
        });
        const channel = new WsChannel<FromManager, ToManager>(ws, fromManagerSchema);
        record.channel = channel;
        const clientNonce = newNonce();
        let nonce: string | null = null;
        channel.on('message', (msg) => {
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
              o.fatal(TLS_ERROR_CODES.FEEDS_MISMATCH, why);
              return;
            }
            record.state = 'logged-in';
            record.everLoggedIn = true;
            record.lastReason = null;
            channel.heartbeat(msg.heartbeatIntervalMs, msg.heartbeatTimeoutMs);
            o.log(`logged in to ${o.managerUrl}`);
            dispatch(parent, { type: 'link-up' });
          } else if (msg.type === 'refused') {
            reason = `login refused: ${msg.code}: ${msg.reason}`;
            o.log(reason, 'warn');
            if (msg.code === WIRE_ERROR_CODES.DUPLICATE_WORKER) o.fatal(msg.code, msg.reason);
          } else if (record.state === 'logged-in') {
            dispatch(parent, { type: 'manager', msg });
          }
        });
        channel.on('bad', (r) => o.log(`bad frame from the manager: ${r}`));
        channel.on('timeout', () => {
          reason = 'manager silent, link declared dead';
          o.log(reason);
        });
        channel.on('close', () => void explained.then(() => dispatch(ctx.self, { type: 'closed', reason, channel })));
        return null;
      },
      onCrash: supervise<LinkMsg>(record, {
        crashed: (err, delay) => {
          record.channel?.close();
          record.channel = null;
          record.state = 'backoff';
          const reason = err?.message ?? null;
          // Said once per reason, not once per retry.
          if (reason !== record.lastReason) {
            // A manager that is not listening yet (started after its workers) is expected at first.
            const early = !record.everLoggedIn && /ECONNREFUSED/.test(reason ?? '');
            o.log(early ? `waiting for the manager (${reason}); dialing again, first in ${delay} ms` : `no link to the manager (${reason}); dialing again, first in ${delay} ms`, early ? 'info' : 'warn');
          }
          record.lastReason = reason;
        },
      }),
    },
  );
}
