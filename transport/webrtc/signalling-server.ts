// The HTTP face of a WHEP or WHIP endpoint (draft-ietf-wish-whep, RFC 9725): `POST {path}` with
// an SDP offer answers `201` with the SDP answer and the session's `Location`; `DELETE` on that
// location ends the session; `OPTIONS` answers CORS preflights (exposing `Location`); `PATCH`
// (trickle ICE) is `405`: an ICE-lite server has all its candidates in the answer. Plain HTTP,
// HTTPS (certificate reloaded on change), or behind a porter. It owns no media: the endpoint
// (WHEP streamer, WHIP producer) makes and ends sessions. Every refusal is JSON with a code,
// offers are bounded in size (64 KiB) and in number under way, sessions by `client-limit`.

import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import { FluxError } from '../../protocol/errors';
import { sameSecret } from '../../protocol/compare';
import { WEBRTC_ERROR_CODES as E } from '../../protocol/webrtc/errors';
import { MAX_SDP_BYTES } from '../../protocol/webrtc/sdp-offer';
import { HTTP_LISTEN, listenOn } from '../listen';
import { TlsFiles, readTls, reloadOnChange, serverOptions } from '../tls';

export interface SessionAnswer {
  id: string;
  sdp: string;
}

export interface SignallingEndpoint {
  /** Sessions now (for client-limit). */
  sessions(): number;
  /** Makes a session for an offer; throws a FluxError with a WEBRTC code to refuse it. */
  offer(sdp: string, peer: string): Promise<SessionAnswer>;
  /** Ends a session; false when there is none with this id. */
  end(id: string): boolean;
}

export interface SignallingOptions {
  host: string;
  port: number;
  /** The endpoint's path; sessions live under it (`/whep/ID`). */
  path: string;
  /** Access-Control-Allow-Origin ('' = no CORS headers). */
  corsOrigin: string;
  /** Bearer tokens; any of them opens the endpoint (none: open). */
  tokens?: string[];
  /** Most sessions at once (0 = no limit). */
  clientLimit: number;
  /** Offers being answered at once, at most (a flood waits for nobody: 503). */
  maxPendingOffers: number;
  tls?: TlsFiles & { log: (line: string) => void };
  /** False behind a porter: no port of its own (connections are handed in). */
  listen: boolean;
}

export interface SignallingStats {
  offers: number;
  refused: Record<string, number>;
}

const STATUS: Record<string, number> = {
  [E.BAD_SDP]: 400, [E.NO_CODEC]: 406, [E.BAD_CONTENT_TYPE]: 415, [E.BODY_TOO_LARGE]: 413, [E.UNAUTHORIZED]: 401,
  [E.TOO_MANY_SESSIONS]: 503, [E.BUSY]: 409, [E.NO_SUCH_SESSION]: 404, [E.NOT_FOUND]: 404, [E.METHOD_NOT_ALLOWED]: 405,
  [E.NO_STREAM]: 503, [E.SESSION_FAILED]: 500,
};

/**
 * Whether the request carries one of the endpoint's Bearer tokens, compared in constant time.
 * The one credential check of the WebRTC endpoints: the planet's shared credential guard takes
 * its place here when it lands.
 */
export function bearerAccepted(tokens: readonly string[] | undefined, authorization: string | undefined): boolean {
  if (!tokens) return true;
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  let ok = false;
  for (const t of tokens) ok = (token !== undefined && sameSecret(token, t)) || ok;
  return ok;
}

export class SignallingServer {
  private readonly server: http.Server;
  private stopWatching: (() => void) | null = null;
  private pending = 0;
  port = 0;
  readonly stats: SignallingStats = { offers: 0, refused: {} };

  constructor(
    private readonly o: SignallingOptions,
    private readonly endpoint: SignallingEndpoint,
  ) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.request(req, res);
    const opts = { requestTimeout: 15000, headersTimeout: 10000, keepAliveTimeout: 5000 };
    this.server = o.tls ? https.createServer({ ...opts, ...serverOptions(readTls(o.tls)) }, handler) : http.createServer(opts, handler);
    this.server.maxHeadersCount = 50;
    if (o.tls) {
      this.server.on('tlsClientError', () => undefined);
      this.stopWatching = reloadOnChange(this.server as https.Server, o.tls, o.tls.log);
    }
  }

  get scheme(): 'http' | 'https' {
    return this.o.tls ? 'https' : 'http';
  }

  async listen(): Promise<number> {
    if (!this.o.listen) return 0;
    this.port = await listenOn(this.server, { host: this.o.host, port: this.o.port }, HTTP_LISTEN);
    return this.port;
  }

  /** A connection whose request head a porter read: served as if it came here. */
  acceptHanded(socket: net.Socket, rawHead: Buffer): void {
    socket.pause();
    socket.unshift(rawHead);
    this.server.emit('connection', socket);
    socket.resume();
  }

  async close(): Promise<void> {
    this.stopWatching?.();
    this.stopWatching = null;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private cors(res: http.ServerResponse): void {
    if (!this.o.corsOrigin) return;
    res.setHeader('Access-Control-Allow-Origin', this.o.corsOrigin);
    res.setHeader('Access-Control-Expose-Headers', 'Location, Link');
  }

  private refuse(res: http.ServerResponse, code: string, message: string, extra: Record<string, string> = {}): void {
    this.stats.refused[code] = (this.stats.refused[code] ?? 0) + 1;
    if (res.headersSent || res.destroyed) return;
    const body = JSON.stringify({ error: { code, message } });
    this.cors(res);
    res.writeHead(STATUS[code] ?? 400, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...extra });
    res.end(body);
  }

  private request(req: http.IncomingMessage, res: http.ServerResponse): void {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      return this.refuse(res, E.NOT_FOUND, 'malformed URL');
    }
    const base = this.o.path;
    const session = pathname.startsWith(`${base}/`) ? pathname.slice(base.length + 1) : null;
    if (pathname !== base && (session === null || !/^[A-Za-z0-9_-]{1,64}$/.test(session))) return this.refuse(res, E.NOT_FOUND, `nothing at ${pathname}`);
    if (req.method === 'OPTIONS') {
      this.cors(res);
      res.writeHead(204, {
        'Access-Control-Allow-Methods': session === null ? 'POST, OPTIONS' : 'DELETE, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, Authorization, If-Match',
        'Access-Control-Max-Age': '86400',
        Allow: session === null ? 'POST, OPTIONS' : 'DELETE, OPTIONS',
        'Accept-Post': 'application/sdp',
      });
      res.end();
      return;
    }
    const allowed = session === null ? 'POST, OPTIONS' : 'DELETE, OPTIONS';
    if ((session === null && req.method !== 'POST') || (session !== null && req.method !== 'DELETE')) {
      return this.refuse(res, E.METHOD_NOT_ALLOWED, `${req.method} is not taken here${req.method === 'PATCH' ? ' (no trickle ICE: the answer has every candidate)' : ''}`, { Allow: allowed });
    }
    if (!bearerAccepted(this.o.tokens, req.headers.authorization)) return this.refuse(res, E.UNAUTHORIZED, 'a valid Bearer token is required', { 'WWW-Authenticate': 'Bearer' });
    if (session !== null) {
      if (!this.endpoint.end(session)) return this.refuse(res, E.NO_SUCH_SESSION, `no session ${session}`);
      this.cors(res);
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/sdp') return this.refuse(res, E.BAD_CONTENT_TYPE, 'the offer must be Content-Type: application/sdp');
    // Offers being answered count too: a burst of them never overshoots the limit.
    if (this.o.clientLimit > 0 && this.endpoint.sessions() + this.pending >= this.o.clientLimit) return this.refuse(res, E.TOO_MANY_SESSIONS, `${this.o.clientLimit} sessions already (client-limit)`, { 'Retry-After': '5' });
    if (this.pending >= this.o.maxPendingOffers) return this.refuse(res, E.TOO_MANY_SESSIONS, `${this.o.maxPendingOffers} offers are being answered`, { 'Retry-After': '1' });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_SDP_BYTES) return this.refuse(res, E.BODY_TOO_LARGE, `an offer is at most ${MAX_SDP_BYTES} bytes`);
    this.pending++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.pending--;
    };
    res.on('close', finish);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_SDP_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        finish();
        this.refuse(res, E.BODY_TOO_LARGE, `an offer is at most ${MAX_SDP_BYTES} bytes`, { Connection: 'close' });
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done || size > MAX_SDP_BYTES) return;
      this.stats.offers++;
      const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
      this.endpoint.offer(Buffer.concat(chunks).toString('utf8'), peer).then(
        (a) => {
          finish();
          if (res.destroyed) {
            this.endpoint.end(a.id); // the offerer left before its answer
            return;
          }
          this.cors(res);
          res.writeHead(201, { 'Content-Type': 'application/sdp', 'Content-Length': Buffer.byteLength(a.sdp), Location: `${base}/${a.id}`, 'Cache-Control': 'no-store' });
          res.end(a.sdp);
        },
        (e: unknown) => {
          finish();
          const code = e instanceof FluxError ? e.code : E.SESSION_FAILED;
          this.refuse(res, code, (e as Error).message ?? String(e));
        },
      );
    });
  }
}
