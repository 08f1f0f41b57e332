// Serves one live HLS stream from memory over HTTP/1.1 (keep-alive): the media playlist at the
// mount point, segments and parts under its prefix (`/live.m3u8` → `/live/seg-N.ts`,
// `/live/part-N.I.ts`). Low-latency HLS: a playlist request with `_HLS_msn` (and `_HLS_part`)
// waits until that segment (part) is listed, a request for the preload-hinted part waits until
// it is complete; every wait is bounded (three target durations, then 503). Segments and parts
// are immutable for caches; playlists are not cached. CORS for players on other sites.

import * as http from 'http';
import * as net from 'net';
import { HlsSegmenter } from '../../protocol/hls/segmenter';
import { renderPlaylist } from '../../protocol/hls/playlist';
import { sameSecret } from '../../protocol/compare';
import { HTTP_LISTEN, listenOn } from '../listen';

export interface HlsServerOptions {
  host: string;
  port: number;
  mountPoint: string;
  lowLatency: boolean;
  partDuration: number;
  corsOrigin: string;
  /** Query `token` or `Authorization: Bearer` must match one of these, when given. */
  tokens?: string[];
  /** How many blocked requests may wait at once (beyond: 503). */
  maxWaiting: number;
  /** False behind a porter: no port of its own, connections are handed in (acceptHanded). */
  listen?: boolean;
}

export interface HlsStats {
  requests: number;
  bytesServed: number;
  /** Addresses that asked for something in the last 30 s. */
  clients: number;
  waiting: number;
}

interface Waiter {
  ready(): boolean;
  done(timedOut: boolean): void;
  timer: NodeJS.Timeout;
}

export class HlsServer {
  private readonly server: http.Server;
  private readonly waiters = new Set<Waiter>();
  private readonly seen = new Map<string, number>();
  private readonly base: string;
  private readonly prefix: string;
  requests = 0;
  bytesServed = 0;
  /** Requests per segment msn, for the last 1,000 segments (how often the origin served each). */
  readonly segmentHits = new Map<number, number>();
  port = 0;

  constructor(
    private readonly seg: HlsSegmenter,
    private readonly o: HlsServerOptions,
  ) {
    // `/live.m3u8` → segments under `/live/`, listed as `live/...` (relative to the playlist).
    const stem = o.mountPoint.replace(/\.m3u8$/, '');
    this.base = `${stem}/`;
    this.prefix = `${stem.slice(stem.lastIndexOf('/') + 1)}/`;
    this.server = http.createServer({ requestTimeout: 30000, headersTimeout: 10000, keepAliveTimeout: 10000 }, (req, res) => this.request(req, res));
    this.server.maxHeadersCount = 50;
  }

  async listen(): Promise<number> {
    if (this.o.listen === false) return 0;
    this.port = await listenOn(this.server, { host: this.o.host, port: this.o.port }, HTTP_LISTEN);
    return this.port;
  }

  /** A connection whose request head a porter read: served as if it came here (keep-alive too). */
  acceptHanded(socket: net.Socket, rawHead: Buffer): void {
    socket.pause();
    socket.unshift(rawHead);
    this.server.emit('connection', socket);
    socket.resume();
  }

  async close(): Promise<void> {
    for (const w of [...this.waiters]) this.finish(w, true);
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  stats(): HlsStats {
    const now = Date.now();
    for (const [k, t] of this.seen) if (now - t > 30000) this.seen.delete(k);
    return { requests: this.requests, bytesServed: this.bytesServed, clients: this.seen.size, waiting: this.waiters.size };
  }

  /** The segmenter changed (a part or segment completed): blocked requests that can be answered are. */
  changed(): void {
    this.cached = null;
    for (const w of [...this.waiters]) if (w.ready()) this.finish(w, false);
  }

  private finish(w: Waiter, timedOut: boolean): void {
    if (!this.waiters.delete(w)) return;
    clearTimeout(w.timer);
    w.done(timedOut);
  }

  private wait(res: http.ServerResponse, ready: () => boolean, done: (timedOut: boolean) => void): void {
    if (ready()) return done(false);
    if (this.waiters.size >= this.o.maxWaiting) return this.send(res, 503, 'text/plain', Buffer.from('too many waiting requests\n'), 'no-store');
    const w: Waiter = { ready, done, timer: setTimeout(() => this.finish(w, true), this.seg.o.targetDuration * 3000) };
    this.waiters.add(w);
    res.on('close', () => {
      if (this.waiters.delete(w)) clearTimeout(w.timer);
    });
  }

  private send(res: http.ServerResponse, status: number, type: string, body: Buffer, cache: string, head = false): void {
    if (res.writableEnded || res.destroyed) return;
    const headers: Record<string, string | number> = { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': cache };
    if (this.o.corsOrigin) headers['Access-Control-Allow-Origin'] = this.o.corsOrigin;
    res.writeHead(status, headers);
    res.end(head ? undefined : body);
    if (status === 200 && !head) this.bytesServed += body.length;
  }

  private request(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests++;
    this.seen.set(req.socket.remoteAddress ?? '-', Date.now());
    const url = new URL(req.url ?? '/', 'http://x');
    const head = req.method === 'HEAD';
    if (req.method === 'OPTIONS' && this.o.corsOrigin) {
      res.writeHead(204, { 'Access-Control-Allow-Origin': this.o.corsOrigin, 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS', 'Access-Control-Allow-Headers': 'Range, Authorization', 'Access-Control-Max-Age': 86400 });
      res.end();
      return;
    }
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD, OPTIONS');
      return this.send(res, 405, 'text/plain', Buffer.from('only GET and HEAD are served\n'), 'no-store');
    }
    if (this.o.tokens) {
      const token = url.searchParams.get('token') ?? /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      let ok = false;
      for (const t of this.o.tokens) ok = (token !== undefined && token !== null && sameSecret(token, t)) || ok;
      if (!ok) return this.send(res, 401, 'text/plain', Buffer.from('a valid token is required\n'), 'no-store');
    }
    const path = url.pathname;
    if (path === this.o.mountPoint) return this.playlist(url, res, head);
    if (path.startsWith(this.base)) {
      const name = path.slice(this.base.length);
      let m = /^seg-(\d{1,12})\.ts$/.exec(name);
      if (m) return this.segmentRequest(Number(m[1]), res, head);
      m = /^part-(\d{1,12})\.(\d{1,6})\.ts$/.exec(name);
      if (m) return this.partRequest(Number(m[1]), Number(m[2]), res, head);
    }
    this.send(res, 404, 'text/plain', Buffer.from(`nothing at ${path}\n`), 'no-store');
  }

  /** The playlist as last rendered; it changes only when a part or segment completes (changed()). */
  private cached: Buffer | null = null;

  private playlistBody(): Buffer {
    if (!this.cached) this.cached = Buffer.from(renderPlaylist(this.seg, { prefix: this.prefix, lowLatency: this.o.lowLatency, partDuration: this.o.partDuration }));
    return this.cached;
  }

  private playlist(url: URL, res: http.ServerResponse, head: boolean): void {
    const type = 'application/vnd.apple.mpegurl';
    const msnText = url.searchParams.get('_HLS_msn');
    if (!this.o.lowLatency || msnText === null) {
      if (this.seg.segments.length === 0) return this.send(res, 404, 'text/plain', Buffer.from('the stream has not started\n'), 'no-store');
      return this.send(res, 200, type, this.playlistBody(), 'no-cache', head);
    }
    const msn = Number(msnText);
    const partText = url.searchParams.get('_HLS_part');
    const part = partText === null ? null : Number(partText);
    if (!Number.isInteger(msn) || msn < 0 || (part !== null && (!Number.isInteger(part) || part < 0))) {
      return this.send(res, 400, 'text/plain', Buffer.from('_HLS_msn and _HLS_part must be non-negative integers\n'), 'no-store');
    }
    const last = this.seg.segments[this.seg.segments.length - 1];
    if (last && msn > last.msn + 2) return this.send(res, 400, 'text/plain', Buffer.from(`_HLS_msn ${msn} is too far ahead\n`), 'no-store');
    // Listed: segment msn complete (no part asked), or its part `part` complete.
    const ready = () => {
      const s = this.seg.segment(msn);
      if (s?.complete) return true;
      if (part === null) return false;
      return !!s && s.parts.filter((p) => p.complete).length > part;
    };
    this.wait(res, ready, (timedOut) => {
      if (timedOut) this.send(res, 503, 'text/plain', Buffer.from('the stream did not get there in time\n'), 'no-store');
      else this.send(res, 200, type, this.playlistBody(), 'no-cache', head);
    });
  }

  private segmentRequest(msn: number, res: http.ServerResponse, head: boolean): void {
    const s = this.seg.segment(msn);
    if (!s?.data) return this.send(res, 404, 'text/plain', Buffer.from(`no segment ${msn}\n`), 'no-store');
    this.segmentHits.set(msn, (this.segmentHits.get(msn) ?? 0) + 1);
    if (this.segmentHits.size > 1000) this.segmentHits.delete(this.segmentHits.keys().next().value as number); // bounded
    this.send(res, 200, 'video/mp2t', s.data, 'public, max-age=31536000, immutable', head);
  }

  private partRequest(msn: number, index: number, res: http.ServerResponse, head: boolean): void {
    const find = () => this.seg.segment(msn)?.parts[index];
    const p = find();
    if (p?.complete && p.chunks.length) return this.send(res, 200, 'video/mp2t', p.chunks[0], 'public, max-age=31536000, immutable', head);
    // The part the playlist hints at (or the one right after): answered once it is complete.
    const last = this.seg.segments[this.seg.segments.length - 1];
    const hinted = last && (msn === last.msn || msn === last.msn + 1);
    if (!this.o.lowLatency || !hinted) return this.send(res, 404, 'text/plain', Buffer.from(`no part ${msn}.${index}\n`), 'no-store');
    this.wait(res, () => !!find()?.complete, (timedOut) => {
      const q = find();
      if (timedOut || !q?.complete || !q.chunks.length) this.send(res, 503, 'text/plain', Buffer.from('the part did not come in time\n'), 'no-store');
      else this.send(res, 200, 'video/mp2t', q.chunks[0], 'public, max-age=31536000, immutable', head);
    });
  }
}
