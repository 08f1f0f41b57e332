// The feeder actor: one per feeder of a running component, child of the component actor. It
// owns the feeder's multi-client sender (transport/feed/feeder.ts) and is its control face:
// add an eater's socket (from the feed server), remove one, set limits, read stats, and the
// feed-to targets. Media never passes through it: the component writes frames to the sender
// by direct calls. Each feed-to target is a push actor under it that keeps one connection to
// the downstream feed server; a push that ends crashes and is restarted with the feed backoff,
// forever, like an eater. A crash of the feeder actor itself resets it from its record: the
// sender and its eaters are kept, the feed-to connections are dialed again.

import { Ref, dispatch, spawn } from 'nact';
import * as net from 'net';
import { Feeder } from '../../transport/feed/feeder';
import { openFeed } from '../../transport/feed/feed-client';
import { TlsMaterial } from '../../transport/tls';
import { ClientStats, SenderTotals } from '../../transport/sender/multi-client-sender';
import { SenderLimitsInput } from '../../transport/sender/policy';
import { CONTROL_POLICY, FEED_POLICY, SupervisedRecord, UnknownMessageError, actorName, supervise, supervisedRecord } from '../supervision';

export type PushState = 'connecting' | 'connected' | 'backoff' | 'stopped';

export interface PushRecord extends SupervisedRecord {
  readonly host: string;
  readonly port: number;
  socket: net.Socket | null;
  state: PushState;
  lastReason: string | null;
}

/** What the component actor keeps about one feeder. */
export interface FeederRecord extends SupervisedRecord {
  readonly name: string;
  readonly feed: string;
  /** The sender of the running component instance (a new one on every component restart). */
  feeder: Feeder | null;
  /** Feed-to targets, kept across restarts: host:port → push record. */
  readonly pushes: Map<string, PushRecord>;
}

export type FeederReply =
  | { type: 'added'; id: number | null }
  | { type: 'stats'; totals: SenderTotals; clients: ClientStats[] }
  | { type: 'ok' }
  | { type: 'error'; message: string };

export type FeederMsg =
  | { type: 'add-eater'; socket: net.Socket; replyTo?: Ref<FeederReply> }
  | { type: 'remove-eater'; id: number; replyTo?: Ref<FeederReply> }
  | { type: 'set-limits'; limits: SenderLimitsInput; replyTo?: Ref<FeederReply> }
  | { type: 'get-stats'; replyTo: Ref<FeederReply> }
  | { type: 'feed-to'; host: string; port: number };

type PushMsg = { type: 'lost'; reason: string; socket: net.Socket | null };

export function feederRecord(name: string, feed: string): FeederRecord {
  return { ...supervisedRecord(CONTROL_POLICY), name, feed, feeder: null, pushes: new Map() };
}

export function pushRecord(host: string, port: number): PushRecord {
  return { ...supervisedRecord(FEED_POLICY), host, port, socket: null, state: 'connecting', lastReason: null };
}

export interface FeederDeps {
  secret: string;
  tls?: TlsMaterial;
  changed(): void;
}

const pushName = (key: string) => actorName(`push ${key}`);

function spawnPush(parent: Ref<unknown>, feeder: FeederRecord, push: PushRecord, deps: FeederDeps): void {
  push.alive = true;
  spawn(
    parent,
    (st: null, msg: PushMsg): null => {
      if (msg.type !== 'lost') throw new UnknownMessageError(`push ${push.host}:${push.port}`, msg);
      if (msg.socket !== push.socket) return st;
      throw new Error(msg.reason);
    },
    pushName(`${push.host}:${push.port}`),
    {
      initialStateFunc: (ctx) => {
        if (!push.alive) return null;
        push.state = 'connecting';
        const self = ctx.self;
        openFeed({ host: push.host, port: push.port, secret: deps.secret, op: 'feed', feed: feeder.feed, tls: deps.tls }).then(
          ({ socket }) => {
            if (!push.alive || !feeder.feeder) return void socket.destroy();
            push.socket = socket;
            push.state = 'connected';
            socket.once('close', () => dispatch(self, { type: 'lost', reason: 'hang-up', socket }));
            feeder.feeder.addEater(socket);
            deps.changed();
          },
          (e: Error & { code?: string }) => dispatch(self, { type: 'lost', reason: `${e.code ? `${e.code}: ` : ''}${e.message}`, socket: null }),
        );
        return null;
      },
      onCrash: supervise<PushMsg>(push, {
        crashed: (err) => {
          push.socket?.destroy();
          push.socket = null;
          push.state = 'backoff';
          push.lastReason = err?.message ?? null;
          deps.changed();
        },
      }),
    },
  );
}

/** Spawns the feeder actor of `record` (whose `feeder` the component actor has just created). */
export function spawnFeeder(parent: Ref<unknown>, record: FeederRecord, deps: FeederDeps, name: string): Ref<FeederMsg> {
  record.alive = true;
  return spawn(
    parent,
    (st: null, msg: FeederMsg, ctx): null => {
      const f = record.feeder;
      switch (msg.type) {
        case 'add-eater': {
          const id = f ? f.addEater(msg.socket) : null;
          if (!f) msg.socket.destroy();
          if (msg.replyTo) dispatch(msg.replyTo, { type: 'added', id });
          deps.changed();
          return st;
        }
        case 'remove-eater': {
          const ok = !!f?.sender.remove(msg.id, 'removed');
          if (msg.replyTo) dispatch(msg.replyTo, ok ? { type: 'ok' } : { type: 'error', message: `no eater ${msg.id}` });
          return st;
        }
        case 'set-limits':
          try {
            f?.sender.setLimits(msg.limits);
            if (msg.replyTo) dispatch(msg.replyTo, { type: 'ok' });
          } catch (e) {
            if (msg.replyTo) dispatch(msg.replyTo, { type: 'error', message: (e as Error).message });
          }
          return st;
        case 'get-stats':
          dispatch(msg.replyTo, f ? { type: 'stats', totals: f.sender.totals(), clients: f.sender.allStats() } : { type: 'error', message: 'not running' });
          return st;
        case 'feed-to': {
          const key = `${msg.host}:${msg.port}`;
          if (record.pushes.has(key)) return st; // an identical repeat is ignored
          const push = pushRecord(msg.host, msg.port);
          record.pushes.set(key, push);
          spawnPush(ctx.self, record, push, deps);
          return st;
        }
        default:
          throw new UnknownMessageError(`feeder ${record.feed}`, msg);
      }
    },
    name,
    {
      initialStateFunc: (ctx) => {
        // Started, or reset after a crash: the pushes are children again (nact stopped them).
        for (const p of record.pushes.values()) {
          p.socket?.destroy();
          p.socket = null;
          spawnPush(ctx.self, record, p, deps);
        }
        return null;
      },
      onCrash: supervise<FeederMsg>(record),
    },
  );
}

/** Stops a feeder for good (its component stops): pushes end, every eater is removed. */
export function retireFeeder(record: FeederRecord): void {
  record.alive = false;
  for (const p of record.pushes.values()) {
    p.alive = false;
    p.state = 'stopped';
    p.socket?.destroy();
    p.socket = null;
  }
  record.feeder?.close();
  record.feeder = null;
}
