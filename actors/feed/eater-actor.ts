// The eater actor: one per eater feed of a running component, child of the component actor.
// It owns one EaterConnection at a time (socket + GDP decoder + silence watchdog); bytes go from
// the socket into the decoder and each frame to the component by a direct call, never through
// this mailbox. When the connection ends (hang-up, EOS, GDP error, silence, refused handshake)
// the actor crashes with that reason; its supervisor (the component actor) marks the feed
// disconnected, which makes the component hungry by default, and restarts it after the feed
// backoff, forever, until the component stops. Reconnection is nothing but that restart.
//
// States: waiting (no target yet, or a feed-to eater with no pushed connection), connecting,
// flowing (frames arrive), backoff (between a crash and the restart), stopped.

import { ActorContext, Ref, dispatch, spawn } from 'nact';
import * as net from 'net';
import { GdpFrame } from '../../protocol/gdp';
import { EaterConnection } from '../../transport/feed/eater-connection';
import { TlsMaterial } from '../../transport/tls';
import { FEED_POLICY, SupervisedRecord, UnknownMessageError, supervise, supervisedRecord } from '../supervision';

export type EaterState = 'waiting' | 'connecting' | 'flowing' | 'backoff' | 'stopped';

/** What the component actor keeps about one eater feed, across the eater actor's restarts. */
export interface EaterRecord extends SupervisedRecord {
  readonly eater: string;
  readonly feed: string;
  readonly mode: 'eat-from' | 'feed-to';
  /** Where to dial; `secret` when it is another planet's feed (a relay), else the worker's own. */
  target: { host: string; port: number; secret?: string } | null;
  /** Where the current connection was dialed (eat-from). */
  dialed: { host: string; port: number; secret?: string } | null;
  conn: EaterConnection | null;
  state: EaterState;
  /** Why the last connection ended (or failed to start). */
  lastReason: string | null;
  /** How connections ended, by error code (for metrics). */
  readonly errors: Map<string, number>;
}

/** How the eater reaches its component: direct calls on the data path. */
export interface EaterSink {
  frame(eater: string, feed: string, frame: GdpFrame): void;
  flowing(eater: string, feed: string): void;
  /** The feed stopped with `reason`; `note` says it is news worth a message (not a repeated failure). */
  stopped(eater: string, feed: string, reason: string, note: boolean): void;
}

export interface EaterDeps {
  secret: string;
  tls?: TlsMaterial;
  checkIntervalMs: number;
  sink: EaterSink;
  changed(): void;
}

export type EaterMsg =
  | { type: 'target'; host: string; port: number; secret?: string }
  | { type: 'attach'; socket: net.Socket; leftover: Buffer }
  | { type: 'lost'; reason: string; conn: EaterConnection };

export function eaterRecord(eater: string, feed: string, mode: 'eat-from' | 'feed-to'): EaterRecord {
  return { ...supervisedRecord(FEED_POLICY), eater, feed, mode, target: null, dialed: null, conn: null, state: 'waiting', lastReason: null, errors: new Map() };
}

class FeedLost extends Error {}

/** Spawns the eater actor of `record` under `parent` (the component actor). */
export function spawnEater(parent: Ref<unknown>, record: EaterRecord, deps: EaterDeps, name: string): Ref<EaterMsg> {
  record.alive = true;
  const connecting = (c: EaterConnection) => {
    record.conn = c;
    record.state = 'connecting';
    deps.changed();
  };
  const newConnection = (self: Ref<EaterMsg>): EaterConnection => {
    const c: EaterConnection = new EaterConnection({
      feed: record.feed,
      checkIntervalMs: deps.checkIntervalMs,
      onFrame: (f) => deps.sink.frame(record.eater, record.feed, f),
      onFlowing: () => {
        record.state = 'flowing';
        record.lastReason = null;
        deps.sink.flowing(record.eater, record.feed);
        deps.changed();
      },
      onEnd: (reason) => dispatch(self, { type: 'lost', reason, conn: c }),
    });
    return c;
  };
  const dial = (ctx: ActorContext<EaterMsg, Ref<unknown>>) => {
    const t = record.target;
    if (!record.alive || record.mode !== 'eat-from' || !t) {
      record.state = 'waiting';
      return;
    }
    const c = newConnection(ctx.self);
    connecting(c);
    record.dialed = { ...t };
    c.open(t.host, t.port, t.secret ?? deps.secret, deps.tls);
  };
  const ref = spawn(
    parent,
    (st: null, msg: EaterMsg, ctx): null => {
      switch (msg.type) {
        case 'target': {
          record.target = { host: msg.host, port: msg.port, secret: msg.secret };
          if (record.mode !== 'eat-from') return st;
          const d = record.dialed;
          if (d && record.conn && d.host === msg.host && d.port === msg.port && d.secret === msg.secret) return st; // an identical repeat
          if (record.conn) {
            // The upstream moved: this connection is over, for a reason that is no fault.
            const old = record.conn;
            record.conn = null;
            const wasFlowing = old.flowing;
            old.close();
            if (wasFlowing) deps.sink.stopped(record.eater, record.feed, 'upstream moved', true);
          }
          dial(ctx);
          return st;
        }
        case 'attach': {
          const old = record.conn;
          if (old) {
            record.conn = null;
            const wasFlowing = old.flowing;
            old.close();
            if (wasFlowing) deps.sink.stopped(record.eater, record.feed, 'replaced by a new pushed connection', true);
          }
          const c = newConnection(ctx.self);
          connecting(c);
          c.attach(msg.socket, msg.leftover);
          return st;
        }
        case 'lost':
          if (msg.conn !== record.conn) return st; // an older connection's late news
          throw new FeedLost(msg.reason);
        default:
          throw new UnknownMessageError(`eater ${record.feed}`, msg);
      }
    },
    name,
    {
      initialStateFunc: (ctx) => {
        // (Re)started: dial the upstream, or wait for a pushed connection.
        if (record.alive) dial(ctx);
        return null;
      },
      onCrash: supervise<EaterMsg>(record, {
        crashed: (err) => {
          const c = record.conn;
          record.conn = null;
          const wasFlowing = !!c && (c.flowing || record.state === 'flowing');
          c?.close();
          const reason = err instanceof FeedLost ? err.message : `eater crashed: ${err?.message}`;
          const code = /^(FLUX_[A-Z_]+)/.exec(reason)?.[1];
          if (code) record.errors.set(code, (record.errors.get(code) ?? 0) + 1);
          const repeated = reason === record.lastReason;
          record.lastReason = reason;
          record.state = 'backoff';
          deps.sink.stopped(record.eater, record.feed, reason, wasFlowing || !repeated);
          deps.changed();
        },
      }),
    },
  );
  return ref;
}

/** Stops an eater for good (its component stops): no restart, connection closed. */
export function retireEater(record: EaterRecord): void {
  record.alive = false;
  record.state = 'stopped';
  record.conn?.close();
  record.conn = null;
}
