// The listening side of Icecast's source protocol, for one mount: source clients (BUTT, Mixxx,
// liquidsoap, ffmpeg's icecast://) connect with `PUT` (Icecast 2.4+, `Expect: 100-continue`
// honoured) or the legacy `SOURCE` method, Basic auth as user `source`; the bytes after the
// head are the stream. `GET /admin/metadata?mount=...&mode=updinfo&song=...` updates the title.
// Refusals are coded as Icecast's: 401 wrong password, 404 unknown mount, 415 unsupported
// Content-Type, 403 mount in use (one source at a time). The server decides who may send; what
// the bytes are is the owner's business (onSource gets the socket and the bytes already read).

import * as net from 'net';
import { sameSecret } from '../../protocol/compare';
import { HttpRequestError, RequestHead, parseRequestHead } from '../../protocol/http/request-head';
import { HTTP_LISTEN, listenOn } from '../listen';
import { PendingLimiter, peerAddress } from '../pending-limit';
import { readHead } from '../socket-head';
import { refuse } from './refusal';

export interface SourceMetadata {
  contentType: string;
  name?: string;
  description?: string;
  genre?: string;
  bitrate?: string;
  url?: string;
  public?: boolean;
  /** user-agent of the source client */
  agent?: string;
}

export interface SourceServerOptions {
  host: string;
  port: number;
  mount: string;
  password: string;
  /** ms a client may take to send its request head */
  headerTimeoutMs: number;
  /** True when the Content-Type can be taken (else 415). */
  accepts(contentType: string | undefined): boolean;
  /** True while a source sends on the mount (a second one gets 403). */
  busy(): boolean;
  /** A source was let in: its socket (its head answered) and the stream bytes read with the head. */
  onSource(socket: net.Socket, meta: SourceMetadata, rest: Buffer, address: string): void;
  /** A metadata update; false when no source is on the mount. */
  onMetadata(title: string): boolean;
  /** A refused or failed attempt, for the component's messages. */
  onRefused?(address: string, status: number, reason: string): void;
}

const HEAD_LIMITS = { maxHeaderBytes: 8192, maxUrlLength: 2048 };

/** What Icecast answers to a metadata update. */
function iceResponse(ok: boolean, message: string): string {
  return `<?xml version="1.0"?>\n<iceresponse><message>${message}</message><return>${ok ? 1 : 0}</return></iceresponse>\n`;
}

/** The password of `Authorization: Basic` for user `source` (or any user, as Icecast's source auth allows `source` only). */
function basicPassword(head: RequestHead): { user: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(head.headers.get('authorization') ?? '');
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? null : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

export class SourceServer {
  private readonly server: net.Server;
  private readonly pending = new PendingLimiter({ maxTotal: 64, maxPerAddress: 16 });
  port = 0;

  constructor(private readonly o: SourceServerOptions) {
    this.server = net.createServer((s) => this.connection(s));
  }

  async listen(): Promise<number> {
    this.port = await listenOn(this.server, { host: this.o.host, port: this.o.port }, HTTP_LISTEN);
    return this.port;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private connection(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    const address = peerAddress(socket.remoteAddress);
    const entry = this.pending.admit(address, () => socket.destroy());
    readHead<RequestHead>(socket, {
      timeoutMs: this.o.headerTimeoutMs,
      parse: (b) => {
        // libshout's oldest dialect: `SOURCE /mount ICE/1.0`.
        const lineEnd = b.indexOf('\n');
        if (lineEnd > 0 && b.subarray(0, 7).toString('latin1') === 'SOURCE ') {
          const line = b.toString('latin1', 0, lineEnd).replace(/\r$/, '');
          if (/ ICE\/1\.0$/.test(line)) b = Buffer.concat([Buffer.from(line.replace(/ICE\/1\.0$/, 'HTTP/1.0'), 'latin1'), b.subarray(lineEnd - (b[lineEnd - 1] === 0x0d ? 1 : 0))]);
        }
        const r = parseRequestHead(b, HEAD_LIMITS);
        return r ? { head: r.head, rest: b.subarray(r.length) } : null;
      },
      onHead: (head, rest) => this.request(socket, head, rest, address),
      onError: (e) => {
        const status = e instanceof HttpRequestError ? e.status : 400;
        this.o.onRefused?.(address, status, e.message);
        refuse(socket, status, e.message);
      },
      onTimeout: () => refuse(socket, 408, 'no request head in time'),
      onDone: () => this.pending.done(entry),
    });
  }

  private request(socket: net.Socket, head: RequestHead, rest: Buffer, address: string): void {
    const no = (status: number, message: string, extra: Record<string, string> = {}) => {
      this.o.onRefused?.(address, status, message);
      refuse(socket, status, message, extra);
    };
    const authorized = () => {
      const auth = basicPassword(head);
      return !!auth && auth.user === 'source' && sameSecret(auth.password, this.o.password);
    };
    const challenge = { 'WWW-Authenticate': 'Basic realm="Icecast2 Server"' };
    if (head.method === 'GET' && head.path === '/admin/metadata') {
      if (!authorized()) return no(401, 'authentication required', challenge);
      if (head.query.get('mount') !== this.o.mount) return no(404, `unknown mount ${head.query.get('mount') ?? '(none)'}`);
      if (head.query.get('mode') !== 'updinfo') return no(400, 'mode must be updinfo');
      const song = head.query.get('song') ?? head.query.get('title') ?? '';
      if (song.length > 1024) return no(400, 'song over 1024 characters');
      const ok = this.o.onMetadata(song);
      const body = iceResponse(ok, ok ? 'Metadata update successful' : 'Source is not available');
      socket.end(`HTTP/1.0 ${ok ? '200 OK' : '400 Bad Request'}\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      socket.resume();
      return;
    }
    if (head.method !== 'PUT' && head.method !== 'SOURCE') return no(405, 'sources use PUT or SOURCE; listeners use the http-streamer', { Allow: 'PUT, SOURCE' });
    if (!authorized()) return no(401, 'authentication required', challenge);
    if (head.path !== this.o.mount) return no(404, `unknown mount ${head.path} (this one takes ${this.o.mount})`);
    const contentType = head.headers.get('content-type');
    if (!this.o.accepts(contentType)) return no(415, `unsupported content type ${contentType ?? '(none)'}`);
    if (/chunked/i.test(head.headers.get('transfer-encoding') ?? '')) return no(400, 'chunked transfer encoding is not supported: send the stream as it is');
    if (this.o.busy()) return no(403, 'Mountpoint in use');
    const h = new Map([...head.headers].map(([k, v]) => [k, v.slice(0, 1024)])); // bounded, as the status shows them
    const pub = h.get('ice-public') ?? h.get('icy-pub');
    const meta: SourceMetadata = {
      contentType: (contentType as string).slice(0, 200),
      name: h.get('ice-name') ?? h.get('icy-name'),
      description: h.get('ice-description') ?? h.get('icy-description'),
      genre: h.get('ice-genre') ?? h.get('icy-genre'),
      bitrate: h.get('ice-bitrate') ?? h.get('icy-br'),
      url: h.get('ice-url') ?? h.get('icy-url'),
      public: pub === undefined ? undefined : pub === '1' || pub.toLowerCase() === 'true',
      agent: h.get('user-agent'),
    };
    if (/100-continue/i.test(h.get('expect') ?? '')) socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    socket.write('HTTP/1.0 200 OK\r\n\r\n');
    this.o.onSource(socket, meta, rest, address);
  }
}
