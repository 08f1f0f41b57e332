// The listeners of a stream server as records that can move: a listener leaves one server of
// this process with its socket open (detached from that server's sender once it got what was
// queued for it, so its bytes end at a page or frame) and is served on by another (a fallback
// mount, or its own mount when its stream returns), keeping its id, connect time, bytes, ICY
// count and access log. It decides nothing about when or where: transport/http/fallback.ts does.

import * as net from 'net';
import { RequestHead } from '../../protocol/http/request-head';
import { MultiClientSender } from '../sender/multi-client-sender';
import { ClientHandle } from '../sender/handles';
import { IcyFramedHandle } from '../sender/icy-framed-handle';
import { Amount, SyncMethod } from '../sender/policy';
import { ListenerRegistry } from './listener-registry';

export interface Listener {
  /** Its id in the registry, once it is served. */
  key?: string;
  head: RequestHead;
  /** The head as it came (dropped once the listener is served here). */
  raw: Buffer | null;
  socket: net.Socket;
  user: string;
  status: number;
  startedAt: number;
  capsTimer?: NodeJS.Timeout;
  /** Whose listener it is (the `home` of the server it arrived at): fallback moves bring it back there. */
  home: string;
  /** Bytes other servers sent it before it came here. */
  bytesBefore: number;
  /** Where its access log line goes: the server's it arrived at, wherever it ends. */
  logTo: ((line: string) => void) | undefined;
  /** The `icy-metaint` it was told (0: no ICY metadata). */
  metaint: number;
}

/** A listener on its way from one server to another, its response head long sent, its socket open. */
export interface MovedListener {
  handle: ClientHandle;
  readonly l: Listener;
  readonly address: string;
  readonly userAgent: string;
}

/** What a server lends its ListenerMoves: its senders, its listener maps and registry. */
export interface MoveHost {
  readonly sender: MultiClientSender;
  readonly plain: Map<number, Listener>;
  readonly icyListeners: Map<number, Listener>;
  readonly registry: ListenerRegistry;
  /** The shared ICY sender and the bytes before its next block, when there is one. */
  icy(): { sender: MultiClientSender; left: () => number } | null;
  closed(): boolean;
  title(): string;
  /** Its access log (for listeners whose own server goes away). */
  accessLog(): ((line: string) => void) | undefined;
  burst(): { syncMethod: SyncMethod; burst?: Amount };
}

export class ListenerMoves {
  private readonly title = (): string => this.h.title();

  constructor(private readonly h: MoveHost) {}

  /**
   * Serves a listener another server of this process answered: moved from its mount (to this
   * one, its fallback, or back home), or a new listener of a mount on its fallback. It starts at
   * this stream's sync point (burst on connect), never before `notBefore`, after `intro` if
   * given; `home` makes it another mount's listener from now on (a fallback without override);
   * `orphan`: the server it came from is going away: its access log line (if it has one) goes
   * to this one's.
   * False when the server is closed (the caller keeps the listener).
   */
  adopt(m: MovedListener, opts: { notBefore?: number; intro?: Buffer | null; home?: string; orphan?: boolean } = {}): boolean {
    const h = this.h;
    if (h.closed() || m.l.socket.destroyed) return false;
    const { l } = m;
    if (opts.home) l.home = opts.home;
    if (opts.orphan && l.logTo) l.logTo = h.accessLog();
    if (m.handle instanceof IcyFramedHandle) m.handle.title = this.title;
    const id = h.sender.add(m.handle, { ...h.burst(), notBefore: opts.notBefore, intro: opts.intro ? [opts.intro] : undefined, connectTime: l.startedAt });
    if (id === null) return false;
    l.key = h.registry.add(h.sender, id, m.address, m.userAgent, l.startedAt, l.key ? { id: l.key, bytesBefore: l.bytesBefore } : undefined);
    h.plain.set(id, l);
    return true;
  }

  /**
   * Detaches the listeners whose home `pick` chooses, each once it got what was queued for it,
   * and hands it to `to` with its socket open. Those already leaving are skipped. Returns how
   * many are on their way.
   */
  moveOut(pick: (home: string) => boolean, to: (m: MovedListener) => void): number {
    const h = this.h;
    const icy = h.icy();
    let n = 0;
    for (const [from, sender] of [[h.plain, h.sender], [h.icyListeners, icy?.sender]] as const) {
      if (!sender) continue;
      for (const [id, l] of from) {
        if (!pick(l.home) || sender.detaching(id)) continue;
        // From the shared ICY sender it leaves at the end of what was pushed into it so far.
        const left = from === h.icyListeners ? (icy?.left() ?? l.metaint) : 0;
        sender.detach(id, (d) => {
          if (!d) return; // it left meanwhile (closed, slow): already logged
          from.delete(id);
          const info = l.key ? h.registry.removed(l.key) : null;
          l.bytesBefore += d.stats.bytesSent + d.handle.pendingBytes;
          // One that never got a byte of the shared stream is at the start of an interval.
          const handle = left ? new IcyFramedHandle(d.handle, l.metaint, d.stats.buffersSent ? left : l.metaint, this.title) : d.handle;
          to({ handle, l, address: info?.address ?? '', userAgent: info?.userAgent ?? '' });
        });
        n++;
      }
    }
    return n;
  }

  /** Listeners served here, by home. */
  homes(): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of [this.h.plain, this.h.icyListeners]) for (const l of m.values()) out.set(l.home, (out.get(l.home) ?? 0) + 1);
    return out;
  }
}
