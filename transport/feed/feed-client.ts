// The client side of the feed handshake: connects to a worker's feed server, answers the
// challenge, and resolves with the socket once the server said yes (GDP follows). Every
// failure rejects with a FluxError whose code says why (refused, auth, unknown feed, timeout).

import * as net from 'net';
import * as tls from 'tls';
import { TlsMaterial, feedClientOptions } from '../tls';
import { FluxError } from '../../protocol/errors';
import { FEED_ERROR_CODES as E, challengeSchema, handshakeResponse, newChallenge, parseLine, replySchema, takeLine, verifyServerProof } from '../../protocol/feed-handshake';

export interface OpenFeedOptions {
  host: string;
  port: number;
  secret: string;
  op: 'eat' | 'feed';
  feed: string;
  timeoutMs?: number;
  /** TLS with our certificate, verifying the server against the planet's CA. */
  tls?: TlsMaterial;
}

export function openFeed(o: OpenFeedOptions): Promise<{ socket: net.Socket; leftover: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket: net.Socket = o.tls ? tls.connect({ host: o.host, port: o.port, ...feedClientOptions(o.tls) }) : net.connect({ host: o.host, port: o.port, noDelay: true });
    socket.setNoDelay(true);
    let buffered: Buffer = Buffer.alloc(0);
    let stage: 'challenge' | 'reply' = 'challenge';
    const mine = newChallenge();
    let theirs = '';
    let settled = false;
    const fail = (code: string, message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(new FluxError(code, message));
    };
    const timer = setTimeout(() => fail(E.HANDSHAKE_TIMEOUT, `feed handshake with ${o.host}:${o.port} timed out`), o.timeoutMs ?? 5000);
    const onData = (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      for (;;) {
        let taken: ReturnType<typeof takeLine>;
        try {
          taken = takeLine(buffered);
        } catch (e) {
          return fail(E.BAD_HANDSHAKE, (e as Error).message);
        }
        if (!taken) return;
        buffered = taken.rest;
        if (stage === 'challenge') {
          const c = parseLine(challengeSchema, taken.line);
          if (!c) return fail(E.BAD_HANDSHAKE, 'malformed challenge');
          theirs = c.challenge;
          socket.write(JSON.stringify({ v: 1, op: o.op, feed: o.feed, response: handshakeResponse(o.secret, c.challenge, o.op, o.feed), challenge: mine }) + '\n');
          stage = 'reply';
          continue;
        }
        const r = parseLine(replySchema, taken.line);
        if (!r) return fail(E.BAD_HANDSHAKE, 'malformed reply');
        if (!r.ok) return fail(r.code, r.reason);
        if (!verifyServerProof(o.secret, theirs, { challenge: mine, op: o.op, feed: o.feed }, r.proof)) {
          return fail(E.SERVER_UNVERIFIED, `feed server ${o.host}:${o.port} did not prove it knows the secret`);
        }
        settled = true;
        clearTimeout(timer);
        socket.removeListener('data', onData);
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
        resolve({ socket, leftover: buffered });
        return;
      }
    };
    const onError = (e: Error) => fail(E.REFUSED, `cannot reach feed server ${o.host}:${o.port}${o.tls ? ' (TLS)' : ''}: ${(e as NodeJS.ErrnoException).code ?? e.message}`);
    const onClose = () => fail(E.REFUSED, `feed server ${o.host}:${o.port} closed the connection`);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}
