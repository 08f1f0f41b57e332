// Fallback mounts (Icecast's <fallback-mount>, <fallback-override>) between the http-streamers
// of one worker process. Each streamer (processes: 1) is an entry of the process's directory, in
// a scope: its porter's mounts, or the worker's own ports. While a streamer's stream is away
// (its feed stopped) its listeners move, sockets open, to the first mount down its fallback
// chain whose stream flows and has the same format, and its new listeners are served there;
// when its stream returns (a keyframe after the return) they come back if `override` is on,
// else they stay, as the fallback's listeners. Moves go through ListenerMoves
// (listener-moves.ts); this file decides when and where, and says why not in messages.

import { GstCaps } from '../../protocol/gst/caps';
import { StreamFormat, formatOfCaps, incompatibility } from '../../protocol/media/stream-format';
import { TRANSPORT_ERROR_CODES } from '../errors';
import type { MovedListener, StreamServer } from './stream-server';

/** One streamer as the fallback directory knows it. */
export interface FallbackEntry {
  /** Its component id, for messages. */
  readonly id: string;
  /** Its identity: scope and mount (`homeOf`). */
  readonly home: string;
  readonly scope: string;
  readonly mount: string;
  readonly server: StreamServer;
  /** Its own fallback mount (a chain), if any. */
  readonly fallbackMount: string | null;
  /** Its own stream flows (since a keyframe after it last returned). */
  live(): boolean;
  /** Its sender's next sequence number (a listener handed to it starts there or later). */
  nextSeq(): number;
}

/** Where a streamer's fallback is looked for: its porter's mounts, or the own-port streamers of this worker. */
export function fallbackScope(porterId: string | undefined): string {
  return porterId ? `porter ${porterId}` : 'worker';
}

export function homeOf(scope: string, mount: string): string {
  return `${scope} ${mount}`;
}

/** The streamers of this process that may be fallbacks (a worker is one process). */
export class FallbackDirectory {
  private readonly entries = new Map<string, FallbackEntry>();
  private readonly watchers = new Set<() => void>();
  private scheduled = false;

  /** False when another streamer of the scope has this mount. */
  add(e: FallbackEntry): boolean {
    if (this.entries.has(e.home)) return false;
    this.entries.set(e.home, e);
    this.changed();
    return true;
  }

  remove(e: FallbackEntry): void {
    if (this.entries.get(e.home) !== e) return;
    this.entries.delete(e.home);
    this.changed();
  }

  get(home: string): FallbackEntry | undefined {
    return this.entries.get(home);
  }

  inScope(scope: string): FallbackEntry[] {
    return [...this.entries.values()].filter((e) => e.scope === scope);
  }

  /** Something changed (an entry came, went, or its stream did): every watcher looks again, soon and once. */
  changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const w of [...this.watchers]) w();
    });
  }

  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }
}

export const FALLBACKS = new FallbackDirectory();

export interface MountFallbackOptions {
  id: string;
  scope: string;
  mount: string;
  server: StreamServer;
  /** Its fallback-mount (none: it is only an entry others may fall back to). */
  fallbackMount?: string;
  /** fallback-override: bring its listeners back when its stream returns. */
  override: boolean;
  /** Its sender's next sequence number: where a returned stream begins. */
  nextSeq(): number;
  message(level: 'info' | 'warning', text: string): void;
  directory?: FallbackDirectory;
}

export interface FallbackDetails {
  mount: string;
  override: boolean;
  /** own: its stream flows; fallback: its listeners are served at `servedBy`; waiting: no stream anywhere, they wait here. */
  state: 'own' | 'fallback' | 'waiting';
  servedBy?: string;
  /** Its listeners served on other mounts now. */
  listeners: number;
  /** Listeners moved to a fallback, and back, since it started. */
  moved: number;
  returned: number;
  /** Why its listeners are not on a fallback (with its code). */
  error?: string;
}

const formats = new WeakMap<GstCaps, StreamFormat>();
function formatOf(caps: GstCaps): StreamFormat {
  let f = formats.get(caps);
  if (!f) formats.set(caps, (f = formatOfCaps(caps)));
  return f;
}

export class MountFallback {
  readonly home: string;
  private readonly dir: FallbackDirectory;
  private readonly entry: FallbackEntry;
  private registered = false;
  private unwatch: (() => void) | null = null;
  private isLive = false;
  /** Where its returned stream began in its sender (null until a buffer came since it stopped). */
  private returnSeq: number | null = null;
  private state: FallbackDetails['state'] = 'waiting';
  private target: FallbackEntry | null = null;
  private problem: string | null = null;
  private moved = 0;
  private returned = 0;

  constructor(private readonly o: MountFallbackOptions) {
    this.dir = o.directory ?? FALLBACKS;
    this.home = homeOf(o.scope, o.mount);
    this.entry = { id: o.id, home: this.home, scope: o.scope, mount: o.mount, server: o.server, fallbackMount: o.fallbackMount ?? null, live: () => this.isLive, nextSeq: o.nextSeq };
  }

  /** Joins the directory (false: another streamer here has its mount) and starts watching it. */
  start(): boolean {
    this.registered = this.dir.add(this.entry);
    if (!this.registered) {
      // Two own-port streamers of one worker may share a mount point (on two ports) as long as
      // no fallback names it (check refuses that as ambiguous); only one with a fallback of its own minds.
      if (this.o.fallbackMount) this.o.message('warning', `${TRANSPORT_ERROR_CODES.FALLBACK_UNAVAILABLE}: another streamer of this ${this.o.scope} has ${this.o.mount}: this one has no fallback and is none`);
      return false;
    }
    this.unwatch = this.dir.watch(() => this.reconsider());
    this.dir.changed();
    return true;
  }

  /**
   * Leaves the directory (call before its server closes: the streamer stops or restarts). Rather
   * than be closed with it, the listeners of other mounts served here go back to their mounts
   * (to wait there), and its own go to its fallback when that has a stream of its format (they
   * come back when it streams again). Its listeners on other mounts stay there.
   */
  close(): void {
    this.unwatch?.();
    this.unwatch = null;
    if (!this.registered) return;
    const { to } = this.o.fallbackMount ? this.resolve() : { to: null };
    const fallback = to && !this.mismatch(this.o.server.streamCaps, to.server.streamCaps) ? to : null;
    this.registered = false;
    this.dir.remove(this.entry);
    this.o.server.moves.moveOut(
      (h) => (h === this.home ? !!fallback : !!this.dir.get(h)),
      (m) => {
        const home = this.dir.get(m.l.home);
        if (home) {
          if (!home.server.moves.adopt(m, { notBefore: home.nextSeq() })) m.l.socket.destroy();
        } else if (fallback?.server.moves.adopt(m, { home: this.o.override ? undefined : fallback.home, orphan: true })) this.moved++;
        else m.l.socket.destroy();
      },
    );
  }

  get live(): boolean {
    return this.isLive;
  }

  /** Its feed stopped: its stream is away. */
  streamStopped(): void {
    this.returnSeq = null;
    if (!this.isLive) return;
    this.isLive = false;
    this.dir.changed();
  }

  /** Call before a buffer of its stream is queued: remembers where a returning stream begins. */
  beforeBuffer(): void {
    if (!this.isLive && this.returnSeq === null) this.returnSeq = this.o.nextSeq();
  }

  /** Call after a buffer was queued: a keyframe since the return makes its stream live again. */
  afterBuffer(keyframe: boolean): void {
    if (this.isLive || !keyframe || !this.o.server.streamCaps) return;
    this.isLive = true;
    this.dir.changed();
  }

  /** Where its new listeners go while it is on its fallback (for the server's `divert`). */
  divert(): { server: StreamServer; home?: string } | null {
    if (this.isLive || this.state !== 'fallback' || !this.target?.live()) return null;
    return { server: this.target.server, home: this.o.override ? undefined : this.target.home };
  }

  /** The first mount down its fallback chain whose stream flows, and why there is none. */
  private resolve(): { to: FallbackEntry | null; why: string } {
    const seen = new Set([this.home]);
    let mount = this.o.fallbackMount ?? null;
    let why = `${TRANSPORT_ERROR_CODES.FALLBACK_UNAVAILABLE}: fallback ${mount} is not served by this ${this.o.scope}`;
    while (mount) {
      const e = this.dir.get(homeOf(this.o.scope, mount));
      if (!e || seen.has(e.home)) return { to: null, why };
      if (e.live()) return { to: e, why: '' };
      seen.add(e.home);
      why = `${TRANSPORT_ERROR_CODES.FALLBACK_UNAVAILABLE}: fallback ${this.o.fallbackMount} has no stream either${e.mount !== this.o.fallbackMount ? ` (nor ${e.mount})` : ''}`;
      mount = e.fallbackMount;
    }
    return { to: null, why };
  }

  /** Why listeners of stream `from` may not go on with `to` (null: they may). */
  private mismatch(from: GstCaps | null, to: GstCaps | null): string | null {
    if (!from || !to) return null;
    const why = incompatibility(formatOf(from), formatOf(to));
    return why && `${TRANSPORT_ERROR_CODES.FALLBACK_FORMAT_MISMATCH}: ${why}`;
  }

  private say(problem: string | null): void {
    if (problem === this.problem) return;
    this.problem = problem;
    // A fallback of another format is a mistake to fix; one without a stream yet is news.
    if (problem) this.o.message(problem.startsWith(TRANSPORT_ERROR_CODES.FALLBACK_FORMAT_MISMATCH) ? 'warning' : 'info', `${problem}: listeners wait here`);
  }

  /** Looks at where its listeners should be, and moves them there. Idempotent. */
  reconsider(): void {
    if (!this.registered) return;
    const own = this.o.server;
    if (this.isLive) {
      if (this.state !== 'own' && this.target) this.o.message('info', `stream back${this.o.override ? '' : ' (fallback-override off: listeners stay on the fallback)'}`);
      this.state = 'own';
      this.target = null;
      this.say(null);
      if (!this.o.override) return;
      // Its listeners come back from wherever they are, into its returned stream only.
      for (const e of this.dir.inScope(this.o.scope)) {
        if (e === this.entry || !e.server.moves.homes().get(this.home)) continue;
        const why = this.mismatch(e.server.streamCaps, own.streamCaps);
        if (why) {
          this.o.message('warning', `listeners not moved back from ${e.mount}: ${why}`);
          continue;
        }
        const n = e.server.moves.moveOut((h) => h === this.home, (m) => this.deliver(m));
        if (n) this.o.message('info', `stream back: ${n} listener(s) moving back from ${e.mount}`);
      }
      return;
    }
    if (!this.o.fallbackMount) return;
    const { to, why } = this.resolve();
    const wrong = to && this.mismatch(own.streamCaps, to.server.streamCaps);
    if (!to || wrong) {
      this.state = 'waiting';
      this.target = null;
      this.say(wrong || why);
      return;
    }
    this.say(null);
    if (this.target !== to) this.o.message('info', `no stream here: listeners go to ${to.mount}${to.mount !== this.o.fallbackMount ? ` (down the chain from ${this.o.fallbackMount})` : ''}`);
    this.state = 'fallback';
    this.target = to;
    const n = own.moves.moveOut(() => true, (m) => this.deliver(m));
    if (n) this.o.message('info', `${n} listener(s) moving to ${to.mount}`);
    own.serveWaiting();
  }

  /** Hands a detached listener to where it belongs now (things may have changed while it was being detached). */
  private deliver(m: MovedListener): void {
    const own = this.o.server;
    if (this.isLive && m.l.home === this.home) {
      if (own.moves.adopt(m, { notBefore: this.returnSeq ?? this.o.nextSeq() })) this.returned++;
      else m.l.socket.destroy();
      return;
    }
    const to = this.state === 'fallback' ? this.target : null;
    // Without override its own listeners become the fallback's; others' stay theirs.
    if (to?.live() && to.server.moves.adopt(m, { home: !this.o.override && m.l.home === this.home ? to.home : undefined })) {
      this.moved++;
      return;
    }
    // Nowhere better: it waits here for a stream, ours or a fallback's (never for what was queued before).
    if (!own.moves.adopt(m, { notBefore: this.o.nextSeq() })) m.l.socket.destroy();
  }

  details(): FallbackDetails {
    let listeners = 0;
    for (const e of this.dir.inScope(this.o.scope)) if (e !== this.entry) listeners += e.server.moves.homes().get(this.home) ?? 0;
    return {
      mount: this.o.fallbackMount ?? '',
      override: this.o.override,
      state: this.isLive ? 'own' : this.state,
      ...(!this.isLive && this.state === 'fallback' && this.target ? { servedBy: this.target.mount } : {}),
      listeners,
      moved: this.moved,
      returned: this.returned,
      ...(this.problem ? { error: this.problem.slice(0, 1024) } : {}),
    };
  }
}
