// A worker's feed server: one TCP listener where eaters ask for a feed ("eat") and feeders
// behind firewalls offer one ("feed"). It runs the handshake (challenge, HMAC response,
// feed lookup, timeout) and hands the authenticated socket over; it never touches GDP itself.
// Refusals carry a code and a reason and close the connection; nothing else is affected.

import * as net from 'net';
import * as tls from 'tls';
import { TlsMaterial, serverOptions } from '../tls';
import { FluxError } from '../../protocol/errors';
import { FEED_ERROR_CODES as E, FEED_HANDSHAKE_VERSION, ResumePoint, newChallenge, parseLine, requestSchema, serverProof, takeLine, verifyResponse, versionOf } from '../../protocol/feed-handshake';
import { PendingLimiter, peerAddress } from '../pending-limit';
import { readHead } from '../socket-head';
import { FEED_LISTEN, listenOn } from '../listen';

/** Flumotion's feederports: each worker on a host takes the first free one. */
export const DEFAULT_FEED_PORTS = { from: 8600, to: 8639 };

/**
 * Takes over an authenticated socket (and any bytes that came after the request line); for an
 * eater (op eat), with the point it resumes from (null: a new eater).
 */
export type FeedAcceptor = (socket: net.Socket, leftover: Buffer, resume: ResumePoint | null) => void;

export interface FeedEndpoints {
  /** The feeder of `feed` that takes eaters, or null when there is none here. */
  eat(feed: string): FeedAcceptor | null;
  /** The eater waiting for `feed` to be pushed to it, or null when none waits. */
  feed(feed: string): FeedAcceptor | null;
}

export interface FeedServerOptions {
  host: string;
  /** One port (0 = any free one) or a range whose first free port is taken (default 8600-8639). */
  port: number | { from: number; to: number };
  secret: string;
  handshakeTimeoutMs: number;
  /** Connections still in their handshake, at most (the oldest is evicted to make room). */
  maxPending: number;
  /** Connections still in their handshake from one address, at most. */
  maxPendingPerAddress: number;
  /** TLS, with every client's certificate checked against the CA too (mutual). */
  tls?: TlsMaterial;
}

/** How long a refused peer may take to close its side before its socket is destroyed (ms). */
const REFUSAL_LINGER_MS = 2000;

const ignore = (): void => undefined;

export class FeedServer {
  private server: net.Server | null = null;
  private pending!: PendingLimiter;
  readonly refused: Record<string, number> = {};
  readonly options: FeedServerOptions;

  constructor(
    options: Partial<FeedServerOptions> & { secret: string },
    private readonly endpoints: FeedEndpoints,
  ) {
    this.options = { host: '127.0.0.1', port: DEFAULT_FEED_PORTS, handshakeTimeoutMs: 5000, maxPending: 256, maxPendingPerAddress: 32, ...options };
    this.pending = new PendingLimiter({ maxTotal: this.options.maxPending, maxPerAddress: this.options.maxPendingPerAddress });
  }

  /** Handshakes evicted to make room for newer ones. */
  get evicted(): number {
    return this.pending.evicted;
  }

  async listen(): Promise<number> {
    const tlsOn = this.options.tls;
    const server: net.Server = tlsOn
      ? tls.createServer({ noDelay: true, ...serverOptions(tlsOn, true, this.options.handshakeTimeoutMs) }, (s) => this.accept(s))
      : net.createServer({ noDelay: true }, (s) => this.accept(s));
    if (tlsOn) server.on('tlsClientError', () => undefined); // a peer without our CA's certificate: refused by TLS itself
    await listenOn(server, { host: this.options.host, port: this.options.port }, FEED_LISTEN);
    server.on('error', () => undefined);
    this.server = server;
    return this.port;
  }

  /** The bound port (0 before listen()). */
  get port(): number {
    return (this.server?.address() as net.AddressInfo | null)?.port ?? 0;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    socket.on('error', ignore); // one shared listener: a socket's late errors are never fatal
    const entry = this.pending.admit(peerAddress(socket.remoteAddress), () => {
      this.refused.evicted = (this.refused.evicted ?? 0) + 1;
      socket.destroy();
    });
    const challenge = newChallenge();
    const refuse = (code: string, reason: string) => {
      this.refused[code] = (this.refused[code] ?? 0) + 1;
      socket.end(JSON.stringify({ ok: false, code, reason }) + '\n');
      socket.resume();
      // A refused peer that never closes its side holds nothing for long.
      setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
    };
    readHead(socket, {
      timeoutMs: this.options.handshakeTimeoutMs,
      parse: (buffered) => {
        const taken = takeLine(buffered);
        return taken && { head: taken.line, rest: taken.rest };
      },
      onHead: (line, rest) => {
        const req = parseLine(requestSchema, line);
        const v = versionOf(line);
        if (!req && v !== null && v !== FEED_HANDSHAKE_VERSION) {
          return refuse(E.BAD_HANDSHAKE, `feed handshake version ${v}; this worker speaks ${FEED_HANDSHAKE_VERSION} (run one fluxcast version on every worker)`);
        }
        if (!req) return refuse(E.BAD_HANDSHAKE, 'malformed feed request');
        if (req.op === 'feed' && req.resume) return refuse(E.BAD_HANDSHAKE, 'a resume point is for op eat only');
        if (!verifyResponse(this.options.secret, challenge, req)) return refuse(E.AUTH_FAILED, 'wrong secret');
        const acceptor = req.op === 'eat' ? this.endpoints.eat(req.feed) : this.endpoints.feed(req.feed);
        if (!acceptor) return refuse(E.UNKNOWN_FEED, `no ${req.op === 'eat' ? 'feeder' : 'eater'} for ${req.feed} here`);
        // Mutual: we prove we know the secret too, before any GDP (writes keep their order).
        socket.write(JSON.stringify({ ok: true, proof: serverProof(this.options.secret, challenge, req) }) + '\n');
        acceptor(socket, rest, req.resume ?? null);
      },
      onError: (e) => refuse(E.BAD_HANDSHAKE, e.message),
      onTimeout: () => refuse(E.HANDSHAKE_TIMEOUT, `no feed request within ${this.options.handshakeTimeoutMs} ms`),
      onDone: () => this.pending.done(entry),
    });
    socket.write(JSON.stringify({ v: FEED_HANDSHAKE_VERSION, challenge }) + '\n');
  }
}

export { FluxError };
