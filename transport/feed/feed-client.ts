// The client side of the feed handshake: connects to a worker's feed server, answers the
// challenge, and resolves with the socket once the server said yes and the next line of the
// handshake arrived (GDP follows): for an eater (op eat) the feeder's START line, for a pushing
// feeder (op feed) the eater's resume point. Every failure rejects with a FluxError whose code
// says why (refused, auth, unknown feed, timeout, a malformed line).

import * as net from 'net';
import * as tls from 'tls';
import { z } from 'zod';
import { TlsMaterial, feedClientOptions } from '../tls';
import { FluxError } from '../../protocol/errors';
import {
  FEED_ERROR_CODES as E, FEED_HANDSHAKE_VERSION, FeedStart, ResumePoint, challengeSchema, handshakeResponse, newChallenge, parseLine, replySchema, resumeLineSchema,
  startSchema, takeLine, verifyServerProof, versionOf,
} from '../../protocol/feed-handshake';

export interface OpenFeedOptions {
  host: string;
  port: number;
  secret: string;
  op: 'eat' | 'feed';
  feed: string;
  timeoutMs?: number;
  /** TLS with our certificate, verifying the server against the planet's CA. */
  tls?: TlsMaterial;
  /** op eat: the last buffer this eater forwarded, to resume after it. */
  resume?: ResumePoint | null;
}

export interface OpenedFeed {
  socket: net.Socket;
  /** Bytes that came after the handshake (the start of GDP). */
  leftover: Buffer;
  /** op eat: where the feeder starts us. */
  start?: FeedStart;
  /** op feed: where the eater we push to resumes (null: a new eater). */
  resume?: ResumePoint | null;
}

export function openFeed(o: OpenFeedOptions): Promise<OpenedFeed> {
  return new Promise((resolve, reject) => {
    const socket: net.Socket = o.tls ? tls.connect({ host: o.host, port: o.port, ...feedClientOptions(o.tls) }) : net.connect({ host: o.host, port: o.port, noDelay: true });
    socket.setNoDelay(true);
    let buffered: Buffer = Buffer.alloc(0);
    let stage: 'challenge' | 'reply' | 'next' = 'challenge';
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
    const done = (r: Omit<OpenedFeed, 'socket' | 'leftover'>) => {
      settled = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      resolve({ socket, leftover: buffered, ...r });
    };
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
          if (!c) {
            const v = versionOf(taken.line);
            return fail(E.BAD_HANDSHAKE, v !== null && v !== FEED_HANDSHAKE_VERSION ? `feed server ${o.host}:${o.port} speaks feed handshake version ${v}, not ${FEED_HANDSHAKE_VERSION} (run one fluxcast version on every worker)` : 'malformed challenge');
          }
          theirs = c.challenge;
          const resume = o.op === 'eat' && o.resume ? { resume: o.resume } : {};
          socket.write(JSON.stringify({ v: FEED_HANDSHAKE_VERSION, op: o.op, feed: o.feed, response: handshakeResponse(o.secret, c.challenge, o.op, o.feed), challenge: mine, ...resume }) + '\n');
          stage = 'reply';
          continue;
        }
        if (stage === 'reply') {
          const r = parseLine(replySchema, taken.line);
          if (!r) return fail(E.BAD_HANDSHAKE, 'malformed reply');
          if (!r.ok) return fail(r.code, r.reason);
          if (!verifyServerProof(o.secret, theirs, { challenge: mine, op: o.op, feed: o.feed }, r.proof)) {
            return fail(E.SERVER_UNVERIFIED, `feed server ${o.host}:${o.port} did not prove it knows the secret`);
          }
          stage = 'next';
          continue;
        }
        if (o.op === 'eat') {
          const start = parseLine(startSchema, taken.line);
          if (!start) return fail(E.BAD_HANDSHAKE, `malformed start line from feed server ${o.host}:${o.port}`);
          return done({ start });
        }
        const line = parseLine(resumeLineSchema, taken.line);
        if (!line) return fail(E.BAD_HANDSHAKE, `malformed resume line from feed server ${o.host}:${o.port}`);
        return done({ resume: line.resume });
      }
    };
    const onError = (e: Error) => fail(E.REFUSED, `cannot reach feed server ${o.host}:${o.port}${o.tls ? ' (TLS)' : ''}: ${(e as NodeJS.ErrnoException).code ?? e.message}`);
    const onClose = () => fail(E.REFUSED, `feed server ${o.host}:${o.port} closed the connection`);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/**
 * Reads one handshake line of `schema` from a socket handed over after the handshake (a pushed
 * feed: the feeder's START line), with what was read already; resolves with the rest.
 */
export function readLine<T>(socket: net.Socket, leftover: Buffer, schema: z.ZodType<T>, what: string, timeoutMs = 5000): Promise<{ value: T; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = leftover;
    let settled = false;
    const finish = (err: FluxError | null, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.pause();
      if (err) reject(err);
      else resolve({ value: value as T, rest: buffered });
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      let taken: ReturnType<typeof takeLine>;
      try {
        taken = takeLine(buffered);
      } catch (e) {
        return finish(new FluxError(E.BAD_HANDSHAKE, (e as Error).message));
      }
      if (!taken) return;
      buffered = taken.rest;
      const v = parseLine(schema, taken.line);
      if (v === null) return finish(new FluxError(E.BAD_HANDSHAKE, `malformed ${what}`));
      finish(null, v);
    };
    const onClose = () => finish(new FluxError(E.REFUSED, `the peer closed the connection before its ${what}`));
    const timer = setTimeout(() => finish(new FluxError(E.HANDSHAKE_TIMEOUT, `no ${what} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    if (leftover.length) onData(Buffer.alloc(0));
    if (!settled) socket.resume();
  });
}
