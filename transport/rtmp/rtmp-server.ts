// An RTMP server on one host and port, shared by every route on it: a route is an application
// and stream key (`rtmp://HOST:PORT/APP/KEY`) and whoever owns it (an rtmp-producer). The server
// completes each connection's handshake, connect and publish (rtmp-connection.ts), then hands the
// publisher to the route whose app and key it named; a wrong key gets NetStream.Publish.BadName,
// an unknown app NetConnection.Connect.Rejected. It does not know what the media mean.
// Connections that have not published are bounded (PendingLimiter: 64 at once, 16 per address;
// each under 1 MiB, see rtmp-connection.ts), and all of them end when the server closes.

import * as net from 'net';
import { sameSecret } from '../../protocol/compare';
import { FluxError, PROTOCOL_ERROR_CODES } from '../../protocol/errors';
import { HTTP_LISTEN, ListenWords, listenOn } from '../listen';
import { PendingLimiter, peerAddress } from '../pending-limit';
import { PublishRefusal, RtmpConnection, RtmpPublisher, RtmpRouteTarget, RtmpRouter } from './rtmp-connection';

export type { PublishRefusal, RtmpPublisher } from './rtmp-connection';

export const RTMP_LISTEN: ListenWords = { ...HTTP_LISTEN, hint: 'another RTMP server?' };

export interface RtmpRouteOptions {
  /** the application in rtmp://host:port/APP/KEY (may have several path segments) */
  app: string;
  streamKey: string;
  /** ms a connection may take from its first byte to a publish (the largest of a port's routes applies) */
  setupTimeoutMs: number;
  /** Who owns it, as messages name it (a component name). */
  owner: string;
  /** Null when a publisher may start now; else what it is told. */
  refusal(): PublishRefusal | null;
  onPublish(p: RtmpPublisher): void;
  /** A connection aimed at this route (its app, or any when the app is unknown) was refused. */
  onRefused?(address: string, reason: string): void;
}

/** A route as the server holds it. */
export interface RtmpRoute {
  readonly options: RtmpRouteOptions;
  /** app and key as one path: `live/KEY` (publishers split it either way). */
  readonly path: string;
}

/** `a/b` + `c` with empty segments and stray slashes dropped. */
export function streamPath(app: string, name: string): string {
  return `${app}/${name}`.split('/').filter(Boolean).join('/');
}

/** The connections a server holds now (for tests and status). */
export interface RtmpConnectionInfo {
  address: string;
  publishing: boolean;
  /** bytes held for it: handshake, messages in progress, replies not yet sent */
  bufferedBytes: number;
}

/**
 * Whether a client's app may be aimed at a route's: the same, or one extends the other (clients
 * put part of the path in the app or in the stream name; the key is checked at publish).
 */
function sameApp(app: string, routeApp: string): boolean {
  return app === routeApp || routeApp.startsWith(`${app}/`) || app.startsWith(`${routeApp}/`);
}

export class RtmpServer implements RtmpRouter {
  private readonly server: net.Server;
  private readonly pending = new PendingLimiter({ maxTotal: 64, maxPerAddress: 16 });
  private readonly routes: RtmpRoute[] = [];
  private readonly connections = new Set<RtmpConnection>();
  port = 0;

  constructor(
    readonly host: string,
    private readonly requestedPort: number,
  ) {
    this.server = net.createServer((s) => {
      const c = new RtmpConnection(s, this, peerAddress(s.remoteAddress));
      this.connections.add(c);
    });
  }

  async listen(): Promise<number> {
    this.port = await listenOn(this.server, { host: this.host, port: this.requestedPort }, RTMP_LISTEN);
    return this.port;
  }

  /** Adds a route; refuses (FLUX_RTMP_ROUTE_TAKEN) one whose app and key another route has. */
  addRoute(options: RtmpRouteOptions): RtmpRoute {
    const path = streamPath(options.app, options.streamKey);
    const taken = this.routes.find((r) => r.path === path);
    if (taken) throw new FluxError(PROTOCOL_ERROR_CODES.RTMP_ROUTE_TAKEN, `rtmp://${this.host}:${this.port || this.requestedPort}/${options.app}/<stream key> is served by ${taken.options.owner} already (same app and stream key)`);
    const route = { options, path };
    this.routes.push(route);
    return route;
  }

  removeRoute(route: RtmpRoute): void {
    const i = this.routes.indexOf(route);
    if (i >= 0) this.routes.splice(i, 1);
  }

  get routeCount(): number {
    return this.routes.length;
  }

  connectionInfo(): RtmpConnectionInfo[] {
    return [...this.connections].map((c) => ({ address: c.address, publishing: c.isPublishing, bufferedBytes: c.bufferedBytes() }));
  }

  /** Stops listening and ends every connection. */
  close(): Promise<void> {
    const done = new Promise<void>((r) => this.server.close(() => r()));
    for (const c of [...this.connections]) c.destroy('the server closed');
    return done;
  }

  // RtmpRouter, for the connections:

  get setupTimeoutMs(): number {
    return Math.max(1000, ...this.routes.map((r) => r.options.setupTimeoutMs));
  }

  acceptsApp(app: string): boolean {
    return this.routes.some((r) => sameApp(app, r.options.app));
  }

  route(app: string, name: string): RtmpRouteTarget | null {
    const path = streamPath(app, name);
    // Every route is compared (in constant time each), so the time taken says nothing of which matched.
    let found: RtmpRoute | null = null;
    for (const r of this.routes) if (sameSecret(path, r.path) && !found) found = r;
    if (!found) return null;
    const { options } = found;
    return { refusal: () => options.refusal(), onPublish: (p) => options.onPublish(p) };
  }

  refused(address: string, reason: string, app: string | null): void {
    const mine = app === null ? [] : this.routes.filter((r) => sameApp(app, r.options.app));
    for (const r of mine.length ? mine : this.routes) r.options.onRefused?.(address, reason);
  }

  admit(address: string, evict: () => void): () => void {
    const entry = this.pending.admit(address, evict);
    return () => this.pending.done(entry);
  }

  closed(c: RtmpConnection): void {
    this.connections.delete(c);
  }
}
