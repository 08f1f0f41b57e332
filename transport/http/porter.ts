// The porter (as Flumotion's): one public port whose connections are handed to the streamers
// that own their paths. It reads and checks the request head with the same bounded parser and
// deadline as the streamers (slowloris timeout; 400/414/431/505), answers 404 itself for a path
// nobody mounted, and hands the socket with the head's raw bytes to the owner of the mount,
// which serves it as if it had read the head itself (and may pass it on to a sender process:
// the fd then crosses the process boundary with the head bytes beside it). It answers Icecast's
// public /status-json.xsl itself, with the entries of the mounts that show one.

import * as net from 'net';
import * as tls from 'tls';
import { TlsFiles, readTls, reloadOnChange, serverOptions } from '../tls';
import { HttpRequestError, parseRequestHead } from '../../protocol/http/request-head';
import { readHead } from '../socket-head';
import { HTTP_LISTEN, listenOn } from '../listen';
import { refuse } from './refusal';
import { PendingLimiter, peerAddress } from '../pending-limit';
import { ICESTATS_PATH, IcestatsSource, answerIcestats, icestatsDocument } from './icestats';

/** What a porter hands a connection to: a streamer's server (or its front in a parent process). */
export interface MountOwner {
  /** Who owns the mount, for status (a component id). */
  readonly owner: string;
  acceptHanded(socket: net.Socket, rawHead: Buffer): void;
  /** Its entry in the porter's /status-json.xsl; none, or null from it, leaves it out. */
  publicStatus?(): IcestatsSource | null;
}

/** The mounts of one porter: path → owner. Streamers join and leave as they start and stop. */
export class MountTable {
  private readonly mounts = new Map<string, MountOwner>();
  /** Where the porter listens, once it does (for the streamers' URLs). */
  address: { scheme: 'http' | 'https'; host: string; port: number } | null = null;

  /** Mounts `path`; false when another owner holds it. */
  add(path: string, owner: MountOwner): boolean {
    const cur = this.mounts.get(path);
    if (cur && cur !== owner) return false;
    this.mounts.set(path, owner);
    return true;
  }

  remove(path: string, owner: MountOwner): void {
    if (this.mounts.get(path) === owner) this.mounts.delete(path);
  }

  /** The owner of `path`: an exact mount, else the longest prefix mount (one ending in '/', as an hls-streamer's segments). */
  get(path: string): MountOwner | undefined {
    const exact = this.mounts.get(path);
    if (exact) return exact;
    let best: [string, MountOwner] | undefined;
    for (const [m, o] of this.mounts) if (m.endsWith('/') && path.startsWith(m) && (!best || m.length > best[0].length)) best = [m, o];
    return best?.[1];
  }

  routes(): Array<{ mount: string; owner: string }> {
    return [...this.mounts].map(([mount, o]) => ({ mount, owner: o.owner })).sort((a, b) => a.mount.localeCompare(b.mount));
  }

  /** The public status entries of the mounts that show one. */
  publicStatus(): IcestatsSource[] {
    const out: IcestatsSource[] = [];
    for (const o of this.mounts.values()) {
      const e = o.publicStatus?.();
      if (e) out.push(e);
    }
    return out;
  }
}

/** The mount tables of this process, by porter id (/flow/name): a porter and its streamers share one. */
const TABLES = new Map<string, MountTable>();

export function mountTable(porterId: string): MountTable {
  let t = TABLES.get(porterId);
  if (!t) TABLES.set(porterId, (t = new MountTable()));
  return t;
}

export interface PorterOptions {
  host: string;
  port: number;
  /** Connections still sending their request, at most (beyond: the oldest is dropped for the newest; 1/4 of it per address). */
  maxPending: number;
  headerTimeoutMs: number;
  maxHeaderBytes: number;
  maxUrlLength: number;
  /** HTTPS: the certificate is reloaded when its files change or on SIGHUP. */
  tls?: TlsFiles & { log(line: string): void };
  /** `Access-Control-Allow-Origin` of its own answers (/status-json.xsl); none when empty. */
  corsOrigin?: string;
}

export class Porter {
  private server: net.Server | null = null;
  private startedAt = Date.now();
  private pending: PendingLimiter | null = null;
  readonly handed = new Map<string, number>();
  readonly refused: Record<string, number> = {};

  constructor(
    readonly mounts: MountTable,
    readonly options: PorterOptions,
  ) {}

  async listen(): Promise<number> {
    const t = this.options.tls;
    const server: net.Server = t ? tls.createServer({ noDelay: true, ...serverOptions(readTls(t), false, this.options.headerTimeoutMs) }, (s) => this.accept(s)) : net.createServer({ noDelay: true }, (s) => this.accept(s));
    if (t) {
      server.on('tlsClientError', () => this.count('tls-error'));
      this.stopWatching = reloadOnChange(server as tls.Server, t, t.log);
    }
    const port = await listenOn(server, { host: this.options.host, port: this.options.port }, HTTP_LISTEN);
    server.on('error', () => undefined);
    this.server = server;
    this.startedAt = Date.now();
    return port;
  }

  get port(): number {
    return (this.server?.address() as net.AddressInfo | null)?.port ?? this.options.port;
  }

  /** Stops listening. Connections already handed over are their owners': close does not wait for them. */
  async close(): Promise<void> {
    this.stopWatching?.();
    this.stopWatching = null;
    const s = this.server;
    this.server = null;
    s?.close();
  }

  private stopWatching: (() => void) | null = null;

  private count(what: string): void {
    this.refused[what] = (this.refused[what] ?? 0) + 1;
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    this.pending ??= new PendingLimiter({ maxTotal: this.options.maxPending, maxPerAddress: Math.max(1, Math.floor(this.options.maxPending / 4)) });
    const entry = this.pending.admit(peerAddress(socket.remoteAddress), () => {
      this.count('pending-evicted');
      socket.destroy();
    });
    readHead(socket, {
      timeoutMs: this.options.headerTimeoutMs,
      parse: (buffered) => {
        const parsed = parseRequestHead(buffered, this.options);
        return parsed && { head: { path: parsed.head.path, method: parsed.head.method, raw: buffered.subarray(0, parsed.length) }, rest: buffered.subarray(parsed.length) };
      },
      onHead: ({ path, method, raw }) => {
        const owner = this.mounts.get(path);
        if (path === ICESTATS_PATH && !owner) {
          if (method !== 'GET' && method !== 'HEAD') {
            this.count('405');
            refuse(socket, 405, 'only GET and HEAD are served', { Allow: 'GET, HEAD' }, method === 'HEAD');
            return;
          }
          answerIcestats(socket, method, icestatsDocument({ host: this.options.host, start: this.startedAt }, this.mounts.publicStatus()), this.options.corsOrigin);
          return;
        }
        if (!owner) {
          this.count('404');
          refuse(socket, 404, `nothing is mounted at ${path}`, {}, method === 'HEAD');
          return;
        }
        this.handed.set(path, (this.handed.get(path) ?? 0) + 1);
        owner.acceptHanded(socket, raw);
      },
      onError: (e) => {
        const status = (e as HttpRequestError).status ?? 400;
        this.count(String(status));
        refuse(socket, status, e.message);
      },
      onTimeout: () => {
        this.count('header-timeout');
        socket.destroy();
      },
      onDone: () => this.pending?.done(entry),
    });
  }
}
