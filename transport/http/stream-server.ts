// The HTTP side of the http-streamer: accepts listeners on one port and mount point, answers
// their request (200 with Content-Type, or 302/400/401/404/405/414/431/503/505), then hands the
// socket to the multi-client sender with burst on connect; answers Icecast's public
// /status-json.xsl beside the mount. Owns request limits (slowloris timeout, head size, URL
// length), client and bandwidth limits and the access log; the listeners and their statistics
// are kept in a ListenerRegistry. Bad input costs only the connection that sent it. A listener
// may be written an intro first, and may leave with its socket open for another server of this
// process and arrive from one (fallback mounts: moveOut/adopt), keeping its id, bytes and log.

import * as net from 'net';
import * as tls from 'tls';
import { readTls, reloadOnChange, serverOptions } from '../tls';
import { GstCaps } from '../../protocol/gst/caps';
import { contentTypeForCaps } from '../../protocol/media-types';
import { HttpRequestError, RequestHead, parseRequestHead } from '../../protocol/http/request-head';
import { readHead } from '../socket-head';
import { HTTP_LISTEN, listenOn } from '../listen';
import { MultiClientSender } from '../sender/multi-client-sender';
import { ClientHandle, StreamHandle } from '../sender/handles';
import { IcyFramedHandle } from '../sender/icy-framed-handle';
import { Amount, SyncMethod } from '../sender/policy';
import { ClientStats } from '../sender/multi-client-sender';
import { requestLogLine, slimHead } from './access-log';
import { refuse } from './refusal';
import { PendingLimiter, peerAddress } from '../pending-limit';
import { authenticate } from './listener-auth';
import { AudienceStats, ListenerList, ListenerRegistry, MAX_LISTED, RateSampler } from './listener-registry';
import { ICESTATS_PATH, answerIcestats, icestatsDocument } from './icestats';
import { STREAM_SERVER_DEFAULTS, StreamServerOptions, StreamServerStats } from './stream-server-options';
import { Listener, ListenerMoves, MovedListener } from './listener-moves';

export { STREAM_SERVER_DEFAULTS };
export type { StreamServerOptions, StreamServerStats, MovedListener };

const ignore = (): void => undefined;

export class StreamServer {
  readonly options: StreamServerOptions;
  private server: net.Server | null = null;
  private caps: GstCaps | null = null;
  private readonly waiting = new Set<Listener>();
  private readonly listeners = new Map<number, Listener>();
  /** ICY metadata: listeners asking `Icy-MetaData: 1` are served from this sender instead. */
  private icy: { sender: MultiClientSender; metaint: number; left: () => number } | null = null;
  private readonly icyListeners = new Map<number, Listener>();
  private pendingLimiter: PendingLimiter | null = null;
  private totalClients = 0;
  private readonly refused: Record<string, number> = {};
  readonly registry: ListenerRegistry;
  private readonly sampler: RateSampler;
  /** When it started listening (Icecast's server_start). */
  private startedAt = Date.now();
  private closed = false;
  private readonly title = (): string => this.options.title?.() ?? '';
  /** Its listeners leave and arrive here (fallback mounts): see listener-moves.ts. */
  readonly moves: ListenerMoves;

  constructor(
    readonly sender: MultiClientSender,
    options: Partial<StreamServerOptions> = {},
  ) {
    this.options = { ...STREAM_SERVER_DEFAULTS, ...options };
    this.registry = new ListenerRegistry(this.options.instance);
    this.sampler = new RateSampler(() => ({ inBytes: sender.totals().bytesQueued, outBytes: sender.totals().bytesServed + (this.icy?.sender.totals().bytesServed ?? 0) }));
    sender.on('client-removed', (id, reason, stats) => reason !== 'moved' && this.onRemoved(this.listeners, id, stats));
    const host = { sender, plain: this.listeners, icyListeners: this.icyListeners, registry: this.registry, title: this.title };
    this.moves = new ListenerMoves({ ...host, icy: () => this.icy, closed: () => this.closed, burst: () => this.burst(), accessLog: () => this.options.accessLog });
    // The queue keeps the largest burst a listener can get, reaching back to a keyframe.
    const b = this.burst();
    sender.setLimits(b.burst ? { burst: b.burst } : { syncMethod: 'latest-keyframe' });
  }

  /** Starts listening (unless behind a porter); resolves with the bound port (0 without one). */
  async listen(): Promise<number> {
    this.sampler.start();
    this.startedAt = Date.now();
    if (!this.options.listen) return 0;
    const t = this.options.tls;
    const server: net.Server = t ? tls.createServer({ noDelay: true, ...serverOptions(readTls(t), false, this.options.headerTimeoutMs) }, (s) => this.accept(s)) : net.createServer({ noDelay: true }, (s) => this.accept(s));
    if (t) {
      server.on('tlsClientError', () => this.count('tls-error'));
      this.stopWatching = reloadOnChange(server as tls.Server, t, t.log);
    }
    // Room for the listeners, those being refused, the requests under way and the waiting; no client limit, no bound.
    if (this.options.clientLimit > 0) server.maxConnections = this.options.maxPendingRequests + this.options.clientLimit * 2 + this.options.maxWaiting;
    await listenOn(server, { host: this.options.host, port: this.options.port }, HTTP_LISTEN);
    server.on('error', () => undefined);
    this.server = server;
    return (server.address() as net.AddressInfo).port;
  }

  get port(): number {
    return (this.server?.address() as net.AddressInfo | null)?.port ?? this.options.port;
  }

  /**
   * Serves listeners that ask for ICY metadata from `sender` (see IcyInput). Once. `left`: the
   * bytes before the next metadata block after what was pushed into it so far.
   */
  setIcy(sender: MultiClientSender, metaint: number, left: () => number = () => metaint): void {
    if (this.icy) return;
    this.icy = { sender, metaint, left };
    sender.on('client-removed', (id, reason, stats) => reason !== 'moved' && this.onRemoved(this.icyListeners, id, stats));
    const b = this.burst();
    sender.setLimits(b.burst ? { burst: b.burst } : { syncMethod: 'latest-keyframe' });
  }

  /** The stream's caps, once they came. */
  get streamCaps(): GstCaps | null {
    return this.caps;
  }

  /** New caps from the stream: listeners that were waiting for them are answered now. */
  setCaps(caps: GstCaps): void {
    this.caps = caps;
    this.serveWaiting();
  }

  /** Answers the listeners waiting for the stream if it can be served now (it started, or its fallback took over). */
  serveWaiting(): void {
    if (!this.caps && !this.options.divert?.()) return;
    for (const l of [...this.waiting]) {
      this.waiting.delete(l);
      if (l.capsTimer) clearTimeout(l.capsTimer);
      this.respond(l);
    }
  }

  stats(): StreamServerStats {
    const totals = this.sender.totals();
    const icy = this.icy?.sender.totals();
    const a = this.registry.stats();
    return {
      currentClients: a.current,
      peakClients: a.peak,
      peakTime: a.peakTime,
      listenerSeconds: a.listenerSeconds,
      totalClients: this.totalClients,
      bytesServed: totals.bytesServed + (icy?.bytesServed ?? 0),
      ...this.sampler.rates(),
      refused: { ...this.refused },
    };
  }

  audience(): AudienceStats {
    return this.registry.stats();
  }

  /** The listeners served here, oldest first (at most `limit`). */
  listListeners(limit = MAX_LISTED): ListenerList {
    return this.registry.list(limit);
  }

  /** Disconnects a listener served here (reason `removed`, in the access log); false when there is none. */
  kick(id: string): boolean {
    return this.registry.kick(id);
  }

  private stopWatching: (() => void) | null = null;

  /** Stops listening and disconnects everyone. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopWatching?.();
    this.stopWatching = null;
    this.sampler.stop();
    for (const l of this.waiting) {
      if (l.capsTimer) clearTimeout(l.capsTimer);
      l.socket.destroy();
    }
    this.waiting.clear();
    for (const id of [...this.listeners.keys()]) this.sender.remove(id, 'removed');
    for (const id of [...this.icyListeners.keys()]) this.icy?.sender.remove(id, 'removed');
    // Stop listening at once. Our own listeners were removed above; sockets handed to sender
    // processes are theirs, so the close does not wait for them (Node's server would, forever,
    // once those processes are gone).
    const server = this.server;
    this.server = null;
    server?.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private accept(socket: net.Socket): void {
    socket.on('error', ignore); // one shared listener: a socket's late errors are never fatal
    // Silent or slow requests cannot fill the room: past a bound the oldest pending one goes.
    this.pendingLimiter ??= new PendingLimiter({ maxTotal: this.options.maxPendingRequests, maxPerAddress: this.options.maxPendingPerAddress });
    const entry = this.pendingLimiter.admit(peerAddress(socket.remoteAddress), () => {
      this.count('pending-evicted');
      socket.destroy();
    });
    // Slowloris: a request head must be complete within headerTimeoutMs.
    readHead(socket, {
      timeoutMs: this.options.headerTimeoutMs,
      parse: (buffered) => {
        const parsed = parseRequestHead(buffered, this.options);
        return parsed && { head: { head: parsed.head, raw: buffered.subarray(0, parsed.length) }, rest: buffered.subarray(parsed.length) };
      },
      onHead: ({ head, raw }) => this.route(this.arrived(head, raw, socket, Date.now())),
      onError: (e) => this.reject(socket, (e as HttpRequestError).status ?? 400, e.message),
      onTimeout: () => {
        this.count('header-timeout');
        socket.destroy();
      },
      onDone: () => this.pendingLimiter?.done(entry),
    });
  }

  /**
   * A listener whose request head was read by someone else (the porter, or the parent process
   * of a sender child), handed over with the head's raw bytes.
   */
  acceptHanded(socket: net.Socket, raw: Buffer, since = Date.now()): void {
    socket.on('error', ignore);
    let head: RequestHead | undefined;
    try {
      head = parseRequestHead(raw, this.options)?.head;
    } catch (e) {
      this.reject(socket, (e as HttpRequestError).status ?? 400, (e as Error).message);
      return;
    }
    if (!head) {
      this.reject(socket, 400, 'incomplete request head');
      return;
    }
    this.route(this.arrived(head, raw, socket, since));
  }

  private arrived(head: RequestHead, raw: Buffer, socket: net.Socket, startedAt: number): Listener {
    return { head, raw, socket, user: '-', status: 0, startedAt, home: this.options.home ?? this.options.mountPoint, bytesBefore: 0, logTo: this.options.accessLog, metaint: 0 };
  }

  private route(l: Listener): void {
    const { head } = l;
    if (head.method === 'OPTIONS' && this.options.corsOrigin && head.path === this.options.mountPoint) {
      // A browser's preflight (a player that sends Icy-MetaData or Range from another origin).
      l.socket.end(['HTTP/1.1 204 No Content', ...this.corsHeaders(), 'Access-Control-Allow-Methods: GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers: Icy-MetaData, Range, Authorization', 'Access-Control-Max-Age: 86400', 'Content-Length: 0', 'Connection: close', '', ''].join('\r\n'));
      l.status = 204;
      this.log(l, 0, Date.now());
      return;
    }
    if (head.path === ICESTATS_PATH && head.path !== this.options.mountPoint) {
      this.icestats(l);
      return;
    }
    if (head.method !== 'GET' && head.method !== 'HEAD') {
      this.reject(l.socket, 405, 'only GET and HEAD are served', { Allow: this.options.corsOrigin ? 'GET, HEAD, OPTIONS' : 'GET, HEAD' }, l);
      return;
    }
    if (head.path !== this.options.mountPoint) {
      this.reject(l.socket, 404, `nothing is mounted at ${head.path}`, {}, l);
      return;
    }
    const who = this.options.trusted ? '-' : authenticate(this.options.auth, head);
    if (who === null) {
      const realm = this.options.auth?.type === 'basic' ? this.options.auth.realm ?? 'fluxcast' : 'fluxcast';
      const extra: Record<string, string> = this.options.auth?.type === 'basic' ? { 'WWW-Authenticate': `Basic realm="${realm}"` } : {};
      this.reject(l.socket, 401, 'authentication required', extra, l);
      return;
    }
    l.user = who;
    const overflow = this.options.trusted ? null : this.overflow();
    if (overflow) {
      this.count(overflow);
      if (this.options.redirectOnOverflow) this.reject(l.socket, 302, 'moved', { Location: this.options.redirectOnOverflow }, l);
      else this.reject(l.socket, 503, `${overflow} reached`, { 'Retry-After': '10' }, l);
      return;
    }
    if (this.options.handOff && l.raw && this.options.handOff(l.socket, l.raw, l.startedAt)) {
      this.totalClients++;
      return;
    }
    if (!this.caps && !this.options.divert?.()) {
      if (this.waiting.size >= this.options.maxWaiting) {
        this.reject(l.socket, 503, 'stream not ready', { 'Retry-After': '5' }, l);
        return;
      }
      this.waiting.add(l);
      l.socket.once('close', () => {
        this.waiting.delete(l);
        if (l.capsTimer) clearTimeout(l.capsTimer);
      });
      // Not forever: a stream that never starts gets a clear refusal.
      l.capsTimer = setTimeout(() => {
        if (!this.waiting.delete(l)) return;
        this.count('caps-timeout');
        this.reject(l.socket, 503, `the stream did not start within ${this.options.capsTimeoutMs / 1000} s`, { 'Retry-After': '5' }, l);
      }, this.options.capsTimeoutMs);
      l.capsTimer.unref();
      return;
    }
    this.respond(l);
  }

  /** Icecast's public status of this mount (404 when hidden, as for any unknown path). */
  private icestats(l: Listener): void {
    const { head, socket } = l;
    if (head.method !== 'GET' && head.method !== 'HEAD') {
      this.reject(socket, 405, 'only GET and HEAD are served', { Allow: 'GET, HEAD' }, l);
      return;
    }
    if (!this.options.publicStatus) {
      this.reject(socket, 404, `nothing is mounted at ${head.path}`, {}, l);
      return;
    }
    const source = this.options.publicStatus();
    const doc = icestatsDocument({ host: this.options.host, start: this.startedAt }, source ? [source] : []);
    l.status = 200;
    this.log(l, answerIcestats(socket, head.method, doc, this.options.corsOrigin), Date.now());
  }

  private overflow(): string | null {
    const o = this.options;
    const current = this.listeners.size + this.icyListeners.size + (o.externalClients?.() ?? 0);
    if (o.clientLimit > 0 && current >= o.clientLimit) return 'client-limit';
    if (o.bandwidthLimit > 0) {
      const rate = this.stats().bitrateIn;
      if (rate > 0 && rate * (current + 1) > o.bandwidthLimit) return 'bandwidth-limit';
    }
    return null;
  }

  private respond(l: Listener): void {
    const socket = l.socket;
    if (socket.destroyed) return;
    // On its fallback, this mount's new listeners are served there (as ours: they come back with the stream).
    const elsewhere = this.options.divert?.() ?? null;
    const caps = this.caps ?? elsewhere?.server.streamCaps ?? null;
    const icy = this.icy && l.head.headers.get('icy-metadata') === '1' ? this.icy : null;
    const headers = [
      `HTTP/1.0 200 OK`,
      `Content-Type: ${contentTypeForCaps(caps)}`,
      ...(icy ? [`icy-metaint: ${icy.metaint}`] : []),
      'Cache-Control: no-cache, no-store, must-revalidate',
      'Pragma: no-cache',
      'Connection: close',
      'Server: fluxcast',
      ...this.corsHeaders(),
    ];
    socket.write(headers.join('\r\n') + '\r\n\r\n');
    l.status = 200;
    if (l.head.method === 'HEAD') {
      this.log(l, 0, Date.now());
      socket.end();
      return;
    }
    const intro = this.options.intro?.(caps) ?? null;
    const address = peerAddress(socket.remoteAddress);
    const userAgent = l.head.headers.get('user-agent') ?? '';
    // A listener may stay for days: keep of its request only what the access log will need.
    l.head = slimHead(l.head, !!this.options.accessLog);
    l.raw = null;
    l.metaint = icy?.metaint ?? 0;
    this.totalClients++;
    let handle: ClientHandle = new StreamHandle(socket, { owned: true });
    // ICY metadata counted for this listener alone when its bytes do not all come from the shared ICY sender.
    if (icy && (intro || elsewhere)) handle = new IcyFramedHandle(handle, icy.metaint, icy.metaint, this.title);
    if (elsewhere) {
      if (!elsewhere.server.moves.adopt({ handle, l, address, userAgent }, { intro, home: elsewhere.home })) socket.destroy();
      return;
    }
    const sender = icy && !(handle instanceof IcyFramedHandle) ? icy.sender : this.sender;
    const id = sender.add(handle, { ...this.burst(), intro: intro ? [intro] : undefined });
    if (id === null) return;
    l.key = this.registry.add(sender, id, address, userAgent, l.startedAt);
    (sender === this.sender ? this.listeners : this.icyListeners).set(id, l);
  }

  /**
   * Where a new listener starts: the streamheaders, then (burst on connect) the keyframe (a sync
   * point the muxer marked: an Ogg page, a WebM Cluster) that gives at least the burst, or the
   * oldest one there is; without a burst, the latest keyframe. Never in the middle of a cluster.
   */
  private burst(): { syncMethod: SyncMethod; burst?: Amount } {
    const o = this.options;
    if (!o.burstOnConnect) return { syncMethod: 'latest-keyframe' };
    if (o.burstTime !== undefined) return { syncMethod: 'burst-keyframe', burst: { format: 'time', value: o.burstTime * 1000 } };
    return { syncMethod: 'burst-keyframe', burst: { format: 'bytes', value: o.burstSize * 1024 } };
  }

  private onRemoved(from: Map<number, Listener>, id: number, stats: ClientStats): void {
    const l = from.get(id);
    if (!l) return;
    from.delete(id);
    const end = stats.disconnectTime || Date.now();
    if (l.key) this.registry.removed(l.key, end);
    this.log(l, l.bytesBefore + stats.bytesSent, end);
  }

  private corsHeaders(): string[] {
    const o = this.options.corsOrigin;
    return o ? [`Access-Control-Allow-Origin: ${o}`, 'Access-Control-Expose-Headers: icy-metaint, icy-name'] : [];
  }

  private reject(socket: net.Socket, status: number, message: string, extra: Record<string, string> = {}, l?: Listener): void {
    this.count(String(status));
    refuse(socket, status, message, extra, l?.head.method === 'HEAD');
    if (l) {
      l.status = status;
      this.log(l, 0, Date.now());
    }
  }

  private count(what: string): void {
    this.refused[what] = (this.refused[what] ?? 0) + 1;
  }

  private log(l: Listener, bytes: number, end: number): void {
    l.logTo?.(requestLogLine(l, bytes, end));
  }
}
