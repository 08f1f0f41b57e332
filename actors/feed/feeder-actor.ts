// The feeder actor: one per feeder of a running component, a child of the component's
// `feeders` supervisor. Each incarnation owns its feeder's multi-client sender
// (transport/feed/feeder.ts), plugs it into the component's port (the core writes frames to
// it by direct calls) and registers with the worker's feed directory, so eaters that ask the
// feed server for this feed are handed to it. It is the sender's control face: add an eater,
// remove one, set limits, read stats. Each feed-to target is a push actor under it (FEED_FLAGS:
// forever) that keeps one connection to a downstream feed server; the targets live in the
// feeder's child specs, so a restarted feeder dials them again.

import * as net from 'net';
import { Feeder } from '../../transport/feed/feeder';
import { ResumePoint } from '../../protocol/feed-handshake';
import { openFeed } from '../../transport/feed/feed-client';
import { TlsMaterial } from '../../transport/tls';
import { ClientStats, SenderTotals } from '../../transport/sender/multi-client-sender';
import { SenderLimitsInput } from '../../transport/sender/policy';
import { ActorDef, CONTROL_FLAGS, ChildSpec, Ctx, FEED_FLAGS, UnknownMessageError } from '../supervision';
import { ComponentPort } from '../component/component-port';
import { FeedDirectory } from '../worker/feed-directory';

export type PushState = 'connecting' | 'connected' | 'backoff' | 'stopped';

export interface FeederDeps {
  secret: string;
  tls?: TlsMaterial;
  directory: FeedDirectory;
}

export interface FeederArgs {
  name: string;
  /** The full feed id, /flow/component:feeder. */
  feed: string;
  /** Feed-to targets, host:port. */
  pushes: readonly string[];
  port: ComponentPort;
  deps: FeederDeps;
}

export type FeederReply = { type: 'stats'; totals: SenderTotals; clients: ClientStats[] } | { type: 'ok' } | { type: 'error'; message: string };

export type FeederMsg =
  | { type: 'add-eater'; socket: net.Socket; resume: ResumePoint | null }
  | { type: 'remove-eater'; id: number; reply?: (r: FeederReply) => void }
  | { type: 'set-limits'; limits: SenderLimitsInput; reply?: (r: FeederReply) => void }
  | { type: 'get-stats'; reply: (r: FeederReply) => void }
  | { type: 'feed-to'; host: string; port: number };

export interface FeederView {
  kind: 'feeder';
  name: string;
  feed: string;
  clients: number;
}

export interface PushView {
  kind: 'push';
  target: string;
  state: PushState;
}

interface PushArgs {
  host: string;
  port: number;
  feed: string;
  sender: Feeder;
  deps: FeederDeps;
}

type PushMsg = { type: 'connected'; socket: net.Socket; resume: ResumePoint | null } | { type: 'lost'; reason: string; socket: net.Socket | null };

function pushDef(a: PushArgs): ActorDef<null, PushMsg> {
  let socket: net.Socket | null = null;
  let state: PushState = 'connecting';
  const publish = (ctx: Ctx<PushMsg>) => ctx.setInfo({ kind: 'push', read: (): PushView => ({ kind: 'push', target: `${a.host}:${a.port}`, state }) });
  return {
    init(ctx) {
      publish(ctx);
      ctx.defer(() => {
        socket?.destroy();
        socket = null;
        state = 'stopped';
      });
      openFeed({ host: a.host, port: a.port, secret: a.deps.secret, op: 'feed', feed: a.feed, tls: a.deps.tls }).then(
        (r) => {
          if (!ctx.tell({ type: 'connected', socket: r.socket, resume: r.resume ?? null })) r.socket.destroy();
        },
        (e: Error & { code?: string }) => ctx.tell({ type: 'lost', reason: `${e.code ? `${e.code}: ` : ''}${e.message}`, socket: null }),
      );
      return null;
    },
    receive(st, msg, ctx) {
      if (msg.type === 'connected') {
        socket = msg.socket;
        state = 'connected';
        const s = msg.socket;
        s.once('close', () => ctx.tell({ type: 'lost', reason: 'hang-up', socket: s }));
        a.sender.addEater(s, msg.resume);
        publish(ctx);
        return st;
      }
      if (msg.type !== 'lost') throw new UnknownMessageError(`push ${a.host}:${a.port}`, msg);
      if (msg.socket !== socket) return st;
      throw new Error(msg.reason);
    },
  };
}

const pushSpec = (a: PushArgs): ChildSpec<PushArgs> => ({ id: `push ${a.host}:${a.port}`, args: a, restart: 'permanent', shutdown: 1000, start: pushDef });

export function feederDef(a: FeederArgs): ActorDef<Feeder, FeederMsg> {
  return {
    flags: FEED_FLAGS,
    init(ctx) {
      const feeder = new Feeder(a.feed);
      const publish = () => ctx.setInfo({ kind: 'feeder', read: (): FeederView => ({ kind: 'feeder', name: a.name, feed: a.feed, clients: feeder.clientCount }) });
      feeder.on('eater-added', publish);
      // An eater downstream asked for a keyframe: the core decides (direct call, rate-limited by the feeder).
      feeder.on('key-unit', () => a.port.keyUnitRequested(a.name));
      feeder.on('eater-removed', publish);
      a.port.plugSender(a.name, feeder);
      ctx.defer(() => {
        a.port.unplugSender(a.name, feeder);
        feeder.close();
      });
      ctx.defer(
        a.deps.directory.feeder(a.feed, (socket, _leftover, resume) => {
          socket.pause();
          if (!ctx.tell({ type: 'add-eater', socket, resume })) socket.destroy();
        }),
      );
      publish();
      for (const key of a.pushes) {
        const i = key.lastIndexOf(':');
        void ctx.startChild(pushSpec({ host: key.slice(0, i), port: Number(key.slice(i + 1)), feed: a.feed, sender: feeder, deps: a.deps }) as ChildSpec);
      }
      return feeder;
    },
    async receive(feeder, msg, ctx) {
      switch (msg.type) {
        case 'add-eater':
          feeder.addEater(msg.socket, msg.resume);
          return feeder;
        case 'remove-eater': {
          const ok = feeder.sender.remove(msg.id, 'removed');
          msg.reply?.(ok ? { type: 'ok' } : { type: 'error', message: `no eater ${msg.id}` });
          return feeder;
        }
        case 'set-limits':
          try {
            feeder.sender.setLimits(msg.limits);
            msg.reply?.({ type: 'ok' });
          } catch (e) {
            msg.reply?.({ type: 'error', message: (e as Error).message });
          }
          return feeder;
        case 'get-stats':
          msg.reply({ type: 'stats', totals: feeder.sender.totals(), clients: feeder.sender.allStats() });
          return feeder;
        case 'feed-to':
          // An identical repeat is ignored; the target is in our spec already (the feeders supervisor keeps it).
          await ctx.startChild(pushSpec({ host: msg.host, port: msg.port, feed: a.feed, sender: feeder, deps: a.deps }) as ChildSpec);
          return feeder;
        default:
          throw new UnknownMessageError(`feeder ${a.feed}`, msg);
      }
    },
  };
}

export const feederSpec = (a: FeederArgs): ChildSpec<FeederArgs> => ({ id: `feeder ${a.name}`, args: a, restart: 'permanent', shutdown: 2000, start: feederDef });

// ---- the feeders supervisor ----

export interface FeedersArgs {
  /** feeder name → full feed id */
  feeders: ReadonlyArray<{ name: string; feed: string }>;
  /** feeder name → feed-to targets (host:port), kept by the component's supervisor */
  pushes: ReadonlyMap<string, ReadonlySet<string>>;
  port: ComponentPort;
  deps: FeederDeps;
}

export type FeedersMsg = { type: 'feed-to'; feeder: string; host: string; port: number };

/**
 * A component's feeders (CONTROL_FLAGS, one_for_one): a feeder that crashes gets a new sender
 * (its eaters reconnect); too many crashes and the component restarts.
 */
export function feedersDef(a: FeedersArgs): ActorDef<Map<string, Set<string>>, FeedersMsg> {
  const pushes = new Map([...a.pushes].map(([k, v]) => [k, new Set(v)]));
  const argsOf = (f: { name: string; feed: string }): FeederArgs => ({ ...f, pushes: [...(pushes.get(f.name) ?? [])], port: a.port, deps: a.deps });
  return {
    flags: CONTROL_FLAGS,
    children: a.feeders.map((f) => feederSpec(argsOf(f)) as ChildSpec),
    init: () => pushes,
    receive(st, msg, ctx) {
      if (msg.type !== 'feed-to') throw new UnknownMessageError('feeders', msg);
      const f = a.feeders.find((x) => x.name === msg.feeder);
      if (!f) return st;
      const key = `${msg.host}:${msg.port}`;
      const set = pushes.get(f.name) ?? new Set<string>();
      if (set.has(key)) return st; // an identical repeat is ignored
      set.add(key);
      pushes.set(f.name, set);
      ctx.setChildArgs(`feeder ${f.name}`, argsOf(f));
      ctx.send(`feeder ${f.name}`, { type: 'feed-to', host: msg.host, port: msg.port });
      return st;
    },
  };
}

export const feedersSpec = (a: FeedersArgs): ChildSpec<FeedersArgs> => ({ id: 'feeders', args: a, restart: 'permanent', shutdown: 5000, start: feedersDef });
