// The feed handshake (version 2), spoken on a worker's feed server before GDP flows:
//   server → client  {"v":2,"challenge":HEX}\n
//   client → server  {"v":2,"op":"eat"|"feed","feed":"/flow/comp:feeder","response":HEX,"challenge":HEX[,"resume":R]}\n
//   server → client  {"ok":true,"proof":HEX}\n
//                or  {"ok":false,"code":"FLUX_FEED_…","reason":"…"}\n and the server closes.
// Then the eating side says where it stands and the feeding side where it starts, and GDP follows:
//   eat:  the resume point R rides in the request; the feeder (server) writes START, then GDP.
//   feed: the eater (server) writes {"resume":R|null}\n; the feeder (client) writes START, then GDP.
//   R     = {"stream":TOKEN,"after":N}: the last buffer the eater forwarded (number N of the
//           feeder's numbering TOKEN); absent/null for an eater with nothing to resume.
//   START = {"stream":TOKEN,"from":N,"head":N|null,"prime":K,"lost":L,"idleMs":MS|null}\n:
//           K priming packets come first (sticky events, streamheader buffers), then the queued
//           buffers numbered from N; `head` is the newest buffer queued at that moment and `idleMs`
//           how long ago it was queued; `lost` counts buffers after R that had left the queue
//           (the eater then resumes at a keyframe, marked DISCONT). A feeder numbers its buffers
//           from 0 under a TOKEN of its own: a restarted feeder is a new TOKEN, and no eater resumes
//           across it. A resume continues in order, a new stream-start of the upstream included;
//           any other start begins with the priming of the current stream.
// response = HMAC-SHA256(secret, challenge + "\n" + op + "\n" + feed): the secret never travels.
// Mutual: the client sends a challenge of its own, and the server's proof =
// HMAC-SHA256(secret, "server\n" + client challenge + "\n" + server challenge + "\n" + op + "\n" + feed);
// a client takes no GDP from (and pushes none to) a server that cannot prove it knows the secret.
// Lines are JSON, at most MAX_LINE bytes, validated with zod. Pure: no I/O.

import { createHmac, randomBytes, timingSafeEqual } from 'crypto';
import { z } from 'zod';
import { PROTOCOL_ERROR_CODES as C } from './errors';

export const MAX_HANDSHAKE_LINE = 4096;

export const FEED_ERROR_CODES = {
  BAD_HANDSHAKE: C.FEED_BAD_HANDSHAKE,
  AUTH_FAILED: C.FEED_AUTH_FAILED,
  UNKNOWN_FEED: C.FEED_UNKNOWN_FEED,
  HANDSHAKE_TIMEOUT: C.FEED_HANDSHAKE_TIMEOUT,
  REFUSED: C.FEED_REFUSED,
  SERVER_UNVERIFIED: C.FEED_SERVER_UNVERIFIED,
} as const;

/** The handshake version this code speaks; a peer speaking another one is refused with a clear reason. */
export const FEED_HANDSHAKE_VERSION = 2;

/** A feeder's numbering of its buffers: it holds within one token. */
export const streamTokenSchema = z.string().regex(/^[0-9a-z][0-9a-z.-]{0,63}$/);
const bufferNumber = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const resumeSchema = z.object({ stream: streamTokenSchema, after: bufferNumber }).strict();
export type ResumePoint = z.infer<typeof resumeSchema>;

export const challengeSchema = z.object({ v: z.literal(FEED_HANDSHAKE_VERSION), challenge: z.string().regex(/^[0-9a-f]{32,128}$/) }).strict();
export const requestSchema = z
  .object({
    v: z.literal(FEED_HANDSHAKE_VERSION),
    op: z.enum(['eat', 'feed']),
    feed: z.string().regex(/^\/[^/:\s]+\/[^/:\s]+:[^/:\s]+$/),
    response: z.string().regex(/^[0-9a-f]{64}$/),
    challenge: z.string().regex(/^[0-9a-f]{32,128}$/),
    /** op eat only: where the eater resumes. */
    resume: resumeSchema.optional(),
  })
  .strict();
/** op feed: the eater's resume point, sent by the feed server's side after its reply. */
export const resumeLineSchema = z.object({ resume: resumeSchema.nullable() }).strict();
/** Where the feeder starts this eater (see the top of this file). */
export const startSchema = z
  .object({
    stream: streamTokenSchema,
    from: bufferNumber,
    head: bufferNumber.nullable(),
    prime: z.number().int().nonnegative().max(1000),
    lost: bufferNumber,
    idleMs: z.number().nonnegative().nullable(),
  })
  .strict();
export type FeedStart = z.infer<typeof startSchema>;

/** The `v` a peer's line says, for a clear refusal of another version (null when it says none). */
export function versionOf(line: string): number | null {
  try {
    const v = (JSON.parse(line) as { v?: unknown }).v;
    return typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}
export const replySchema = z.union([
  z.object({ ok: z.literal(true), proof: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
  z.object({ ok: z.literal(false), code: z.string(), reason: z.string() }).strict(),
]);
export type FeedRequest = z.infer<typeof requestSchema>;
export type FeedReply = z.infer<typeof replySchema>;

export function newChallenge(): string {
  return randomBytes(16).toString('hex');
}

export function handshakeResponse(secret: string, challenge: string, op: string, feed: string): string {
  return createHmac('sha256', secret).update(`${challenge}\n${op}\n${feed}`).digest('hex');
}

export function verifyResponse(secret: string, challenge: string, req: FeedRequest): boolean {
  const expected = Buffer.from(handshakeResponse(secret, challenge, req.op, req.feed), 'hex');
  const got = Buffer.from(req.response, 'hex');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export function serverProof(secret: string, serverChallenge: string, req: Pick<FeedRequest, 'challenge' | 'op' | 'feed'>): string {
  return createHmac('sha256', secret).update(`server\n${req.challenge}\n${serverChallenge}\n${req.op}\n${req.feed}`).digest('hex');
}

export function verifyServerProof(secret: string, serverChallenge: string, req: Pick<FeedRequest, 'challenge' | 'op' | 'feed'>, proof: string): boolean {
  const expected = Buffer.from(serverProof(secret, serverChallenge, req), 'hex');
  const got = Buffer.from(proof, 'hex');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** Splits the first line off `buffered`; null when it has not arrived yet, throws past MAX_HANDSHAKE_LINE. */
export function takeLine(buffered: Buffer): { line: string; rest: Buffer } | null {
  const nl = buffered.indexOf(0x0a);
  if (nl < 0) {
    if (buffered.length > MAX_HANDSHAKE_LINE) throw new Error('handshake line too long');
    return null;
  }
  if (nl > MAX_HANDSHAKE_LINE) throw new Error('handshake line too long');
  return { line: buffered.toString('utf8', 0, nl), rest: buffered.subarray(nl + 1) };
}

export function parseLine<T>(schema: z.ZodType<T>, line: string): T | null {
  try {
    const r = schema.safeParse(JSON.parse(line));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
