// The eater actor: one per eater feed of a running component, a child of its component's
// `eaters` supervisor. Each incarnation owns one EaterConnection (socket + GDP decoder +
// silence watchdog); bytes go from the socket into the decoder and each frame to the
// component through its port by a direct call, never through a mailbox. When the connection
// ends (hang-up, EOS, GDP error, silence, a refused handshake) the incarnation crashes with
// that reason; the eaters supervisor tells the core the feed is down (hungry by default) and
// restarts the eater after the feed backoff, forever: reconnection is nothing but that restart.
// The feed's FeedFlow (last media, cadence, resume point) is the supervisor's, handed to every
// incarnation: a reconnection resumes after the last buffer forwarded and is never data itself.
//
// States (as status shows them): waiting (no target yet, or a feed-to eater with no pushed
// connection), connecting (connected, no media yet), flowing (media buffers arrive), backoff
// (between a crash and the restart, from the tree), stopped.

import * as net from 'net';
import { EaterConnection } from '../../transport/feed/eater-connection';
import { FeedFlow } from '../../transport/feed/feed-flow';
import { TlsMaterial } from '../../transport/tls';
import { ActorDef, ChildSpec, Ctx, UnknownMessageError } from '../supervision';
import { ComponentPort } from '../component/component-port';
import { FeedDirectory } from '../worker/feed-directory';

export type EaterState = 'waiting' | 'connecting' | 'flowing' | 'backoff' | 'stopped';

export interface FeedTarget {
  host: string;
  port: number;
  /** Another planet's workers' secret (a relay); else the worker's own. */
  secret?: string;
}

export const sameTarget = (a: FeedTarget | null | undefined, b: FeedTarget | null | undefined): boolean => !!a && !!b && a.host === b.host && a.port === b.port && a.secret === b.secret;

/** What every eater of a worker shares. */
export interface EaterDeps {
  secret: string;
  tls?: TlsMaterial;
  /** The worker's --check-interval (a component's `check-interval` property overrides it). */
  checkIntervalMs: number;
  directory: FeedDirectory;
}

export interface EaterArgs {
  eater: string;
  feed: string;
  mode: 'eat-from' | 'feed-to';
  target: FeedTarget | null;
  port: ComponentPort;
  deps: EaterDeps;
  /** The feed's flow, kept by the eaters supervisor across incarnations. */
  flow: FeedFlow;
}

export type EaterMsg =
  | { type: 'target'; target: FeedTarget }
  | { type: 'attach'; socket: net.Socket; leftover: Buffer }
  | { type: 'lost'; reason: string; code?: string; conn: EaterConnection };

/** What an eater publishes about itself (its node's info in the live tree). */
export interface EaterView {
  kind: 'eater';
  eater: string;
  feed: string;
  mode: 'eat-from' | 'feed-to';
  state: EaterState;
  /** Since media last arrived, on any connection (null before any). */
  lastDataAgoMs: number | null;
  /** The silence bound now (ms): the check interval fitted to the feed's cadence. */
  boundMs: number;
  /** Connections that resumed the same stream, and buffers lost when a resume point had left the feeder's queue. */
  resumes: number;
  buffersLost: number;
}

/** The reason a connection ended, with its error code when it has one: what the eaters supervisor reads from the crash. */
export class FeedLost extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

interface State {
  conn: EaterConnection | null;
  dialed: FeedTarget | null;
  state: EaterState;
}

export function eaterDef(a: EaterArgs): ActorDef<State, EaterMsg> {
  let st: State = { conn: null, dialed: null, state: 'waiting' };
  const publish = (ctx: Ctx<EaterMsg>) =>
    ctx.setInfo({
      kind: 'eater',
      read: (): EaterView => ({
        kind: 'eater', eater: a.eater, feed: a.feed, mode: a.mode, state: st.state,
        lastDataAgoMs: a.flow.lastMediaAgoMs(), boundMs: a.flow.bound(), resumes: a.flow.resumes, buffersLost: a.flow.buffersLost,
      }),
    });
  let unplugUpstream: (() => void) | null = null;
  const connection = (ctx: Ctx<EaterMsg>): EaterConnection => {
    unplugUpstream?.();
    const c: EaterConnection = new EaterConnection({
      feed: a.feed,
      flow: a.flow,
      onFrame: (f) => a.port.eat(a.eater, a.feed, f),
      onFlowing: ctx.guard(() => {
        st.state = 'flowing';
        a.port.toCore({ type: 'feed-up', eater: a.eater, feed: a.feed });
        publish(ctx);
      }),
      onEnd: (reason, code) => ctx.tell({ type: 'lost', reason, code, conn: c }),
    });
    // Keyframe requests go up this connection while it is ours.
    unplugUpstream = a.port.plugUpstream(a.eater, a.feed, (frame) => c.sendUpstream(frame));
    return c;
  };
  const replace = (why: string) => {
    const old = st.conn;
    if (!old) return;
    st.conn = null;
    const wasFlowing = old.flowing;
    old.close();
    if (wasFlowing) a.port.toCore({ type: 'feed-down', eater: a.eater, feed: a.feed, reason: why, note: true });
  };
  const dial = (ctx: Ctx<EaterMsg>, t: FeedTarget | null) => {
    if (a.mode !== 'eat-from' || !t) {
      st.state = 'waiting';
      publish(ctx);
      return;
    }
    const c = connection(ctx);
    st = { ...st, conn: c, dialed: { ...t }, state: 'connecting' };
    publish(ctx);
    c.open(t.host, t.port, t.secret ?? a.deps.secret, a.deps.tls);
  };
  return {
    init(ctx) {
      ctx.defer(() => {
        unplugUpstream?.();
        unplugUpstream = null;
        st.conn?.close();
        st.conn = null;
        st.state = 'stopped';
      });
      if (a.mode === 'feed-to') {
        ctx.defer(
          a.deps.directory.pushedEater(a.feed, (socket, leftover) => {
            if (!ctx.tell({ type: 'attach', socket, leftover })) socket.destroy();
          }),
        );
      }
      dial(ctx, a.target);
      return st;
    },
    receive(_s, msg, ctx) {
      switch (msg.type) {
        case 'target':
          if (a.mode !== 'eat-from') return st;
          if (st.conn && sameTarget(st.dialed, msg.target)) return st; // an identical repeat
          // The upstream moved: this connection is over, for a reason that is no fault.
          replace('upstream moved');
          dial(ctx, msg.target);
          return st;
        case 'attach': {
          replace('replaced by a new pushed connection');
          const c = connection(ctx);
          st = { ...st, conn: c, state: 'connecting' };
          publish(ctx);
          c.attach(msg.socket, msg.leftover);
          return st;
        }
        case 'lost':
          if (msg.conn !== st.conn) return st; // an older connection's late news
          throw new FeedLost(msg.reason, msg.code);
        default:
          throw new UnknownMessageError(`eater ${a.feed}`, msg);
      }
    },
  };
}

export function eaterSpec(a: EaterArgs): ChildSpec<EaterArgs> {
  return { id: a.feed, args: a, restart: 'permanent', shutdown: 2000, start: eaterDef };
}
