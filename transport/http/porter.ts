// The porter (as Flumotion's): one public port whose connections are handed to the streamers
// that own their paths. It reads and checks the request head with the same bounded parser and
// deadline as the streamers (slowloris timeout; 400/414/431/505), answers 404 itself for a path
// nobody mounted, and hands the socket with the head's raw bytes to the owner of the mount,
// which serves it as if it had read the head itself (and may pass it on to a sender process:
// the fd then crosses the process boundary with the head bytes beside it).

import * as net from 'net';
import { HttpRequestError, parseRequestHead } from '../../protocol/http/request-head';
import { readHead } from '../socket-head';
import { HTTP_LISTEN, listenOn } from '../listen';
import { refuse } from './refusal';

/** What a porter hands a connection to: a streamer's server (or its front in a parent process). */
export interface MountOwner {
  /** Who owns the mount, for status (a component id). */
  readonly owner: string;
  acceptHanded(socket: net.Socket, rawHead: Buffer): void;
}

/** The mounts of one porter: path → owner. Streamers join and leave as they start and stop. */
export class MountTable {
  private readonly mounts = new Map<string, MountOwner>();
  /** Where the porter listens, once it does (for the streamers' URLs). */
  address: { host: string; port: number } | null = null;

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

  get(path: string): MountOwner | undefined {
    return this.mounts.get(path);
  }

  routes(): Array<{ mount: string; owner: string }> {
    return [...this.mounts].map(([mount, o]) => ({ mount, owner: o.owner })).sort((a, b) => a.mount.localeCompare(b.mount));
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
  /** Connections still sending their request, at most (beyond: closed at once). */
  maxPending: number;
  headerTimeoutMs: number;
  maxHeaderBytes: number;
  maxUrlLength: number;
}

export class Porter {
  private server: net.Server | null = null;
  private pending = 0;
  readonly handed = new Map<string, number>();
  readonly refused: Record<string, number> = {};

  constructor(
    readonly mounts: MountTable,
    readonly options: PorterOptions,
  ) {}

  async listen(): Promise<number> {
    const server = net.createServer({ noDelay: true }, (s) => this.accept(s));
    const port = await listenOn(server, { host: this.options.host, port: this.options.port }, HTTP_LISTEN);
    server.on('error', () => undefined);
    this.server = server;
    return port;
  }

  get port(): number {
    return (this.server?.address() as net.AddressInfo | null)?.port ?? this.options.port;
  }

  /** Stops listening. Connections already handed over are their owners': close does not wait for them. */
  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    s?.close();
  }

  private count(what: string): void {
    this.refused[what] = (this.refused[what] ?? 0) + 1;
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    if (this.pending >= this.options.maxPending) {
      this.count('pending-limit');
      socket.destroy();
      return;
    }
    this.pending++;
    readHead(socket, {
      timeoutMs: this.options.headerTimeoutMs,
      parse: (buffered) => {
        const parsed = parseRequestHead(buffered, this.options);
        return parsed && { head: { path: parsed.head.path, method: parsed.head.method, raw: buffered.subarray(0, parsed.length) }, rest: buffered.subarray(parsed.length) };
      },
      onHead: ({ path, method, raw }) => {
        const owner = this.mounts.get(path);
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
      onDone: () => this.pending--,
    });
  }
}
