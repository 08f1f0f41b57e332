// Messages between fluxcast processes (manager ⇄ worker, admin → manager), one zod schema
// each with a literal `type`, a discriminated union per direction. Frames are msgpackr-encoded
// over ws (transport/ws-channel.ts) and validated here where they enter. Pure: no I/O.

import { createHmac, randomBytes, timingSafeEqual } from 'crypto';
import { z } from 'zod';
import { PROTOCOL_ERROR_CODES as C } from './errors';

const id = z.string().regex(/^\/[^/\s]+\/[^/\s:]+$/, 'component ids are /flow/name');
const feed = z.string().regex(/^\/[^/\s]+\/[^/\s:]+:[^/\s:]+$/, 'feed ids are /flow/component:feeder');
/** The moods, as in Flumotion (actors/component/mood.ts gives their numbers). */
export const moodSchema = z.enum(['happy', 'hungry', 'waking', 'sleeping', 'lost', 'sad']);
const mood = moodSchema;
const message = z.object({ level: z.enum(['error', 'warning', 'info']), text: z.string().max(4096), time: z.number() });

const restarts = z.number().int().nonnegative();

/** What a listener id looks like (`<instance>-<n>`; checked wherever one comes from outside). */
export const LISTENER_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A listing holds at most this many listeners (the oldest); its `total` says how many there are. */
export const MAX_LISTED = 10000;
const listenerId = z.string().regex(LISTENER_ID, 'listener ids are letters, digits, - and _');

/** One listener of an http-streamer (address, user agent, since when in ms since the epoch, bytes sent). */
export const listenerInfoSchema = z.object({
  id: listenerId,
  address: z.string().max(300),
  userAgent: z.string().max(256),
  connectedSince: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
});
export type ListenerInfoWire = z.infer<typeof listenerInfoSchema>;

/** Listeners of a component, or one of them to disconnect (admin → manager → worker). */
const listenersRequest = z.object({ type: z.literal('listeners-request'), requestId: z.number().int(), id });
const listenerKick = z.object({ type: z.literal('listener-kick'), requestId: z.number().int(), id, listener: listenerId });
/** The answer, each way back (worker → manager → admin): the listing, `{ok: true}` for a kick, or a coded refusal. */
const listenersResult = z.object({
  type: z.literal('listeners-result'),
  requestId: z.number().int(),
  ok: z.boolean(),
  code: z.string().regex(/^FLUX_[A-Z_]+$/).max(64).optional(),
  message: z.string().max(1024).optional(),
  listeners: z.array(listenerInfoSchema).max(MAX_LISTED).optional(),
  total: z.number().int().nonnegative().optional(),
});
export type ListenersResult = z.infer<typeof listenersResult>;

export const componentStateSchema = z.object({
  id,
  type: z.string().max(100),
  mood,
  /** Supervised restarts of the component actor. */
  restarts,
  /** The epoch of the start order it runs under: a report of an older start is stale news. */
  epoch: z.number().int().nonnegative().optional(),
  /** A streamer's URLs and audience, a porter's routes. */
  details: z
    .object({
      /**
       * A streamer (http-streamer, hls-streamer): every URL a listener can use, the primary first
       * (its `public-url` when set, then where it is served: its own port or its porter's, at the
       * worker's advertised address when bound to every interface). Empty while it is served
       * nowhere (not bound yet, could not bind, its porter down): only URLs that answer are listed.
       */
      urls: z.array(z.string().max(2048)).max(16).optional(),
      /** A streamer: `urls[0]`, absent with no URL. A porter: its own base URL. */
      url: z.string().max(2048).optional(),
      /** A streamer: its mount point (an hls-streamer's playlist path). */
      mount: z.string().max(2048).optional(),
      clients: z.number().int().nonnegative().optional(),
      bitrateOut: z.number().nonnegative().optional(),
      bytesServed: z.number().nonnegative().optional(),
      requests: z.number().int().nonnegative().optional(),
      /** A WHEP streamer: keyframes its viewers asked for (PLI, FIR), and requests sent upstream. */
      keyframeRequests: z.number().int().nonnegative().optional(),
      keyframeRequestsUpstream: z.number().int().nonnegative().optional(),
      routes: z.array(z.object({ mount: z.string().max(2048), owner: z.string().max(300) })).max(1000).optional(),
      /** Listeners that left, by reason (closed, slow, removed, error...). */
      removed: z.record(z.string().max(32), z.number().int().nonnegative()).optional(),
      /** Most listeners at once, and when that was first reached (ms since the epoch). */
      peakClients: z.number().int().nonnegative().optional(),
      peakTime: z.number().nonnegative().optional(),
      /** Seconds listened, over every listener (those still connected until now). */
      listenerSeconds: z.number().nonnegative().optional(),
      /** The stream's last titles, oldest first, with when each came (ms since the epoch). */
      titles: z.array(z.object({ title: z.string().max(512), time: z.number().nonnegative() })).max(50).optional(),
      /**
       * An http-streamer with a fallback-mount: `own` (its stream flows), `fallback` (its listeners
       * are served at `servedBy`), `waiting` (no stream here nor down the chain: they wait);
       * `listeners` of its own on other mounts now, `moved` and `returned` since it started.
       */
      fallback: z
        .object({
          mount: z.string().max(1024),
          override: z.boolean(),
          state: z.enum(['own', 'fallback', 'waiting']),
          servedBy: z.string().max(1024).optional(),
          listeners: z.number().int().nonnegative(),
          moved: z.number().int().nonnegative(),
          returned: z.number().int().nonnegative(),
          error: z.string().max(1024).optional(),
        })
        .optional(),
      /** An http-streamer with an intro-file: what it is, whether it is played (the stream's format), to how many. */
      intro: z
        .object({
          file: z.string().max(4096),
          bytes: z.number().int().nonnegative(),
          format: z.string().max(200),
          playing: z.boolean(),
          plays: z.number().int().nonnegative(),
          error: z.string().max(1024).optional(),
        })
        .optional(),
      /** An ingest producer's source. */
      source: z
        .object({
          connected: z.boolean(),
          address: z.string().max(300).optional(),
          contentType: z.string().max(200).optional(),
          name: z.string().max(1024).optional(),
          description: z.string().max(1024).optional(),
          genre: z.string().max(1024).optional(),
          bitrate: z.string().max(100).optional(),
          title: z.string().max(1024).optional(),
          bytesIn: z.number().nonnegative().optional(),
          since: z.number().nonnegative().optional(),
          url: z.string().max(2048).optional(),
        })
        .optional(),
    })
    .optional(),
  messages: z.array(message).max(50),
  eaters: z
    .array(
      z.object({
        name: z.string().max(100),
        feeds: z
          .array(
            z.object({
              feedId: z.string().max(300),
              connected: z.boolean(),
              lastDataAgoMs: z.number().nullable(),
              /** The eater actor: waiting, connecting, flowing, backoff or stopped. */
              state: z.enum(['waiting', 'connecting', 'flowing', 'backoff', 'stopped']),
              /** Supervised restarts of the eater actor (each one a reconnection). */
              restarts,
              mode: z.enum(['eat-from', 'feed-to']),
              /** How its connections ended, by error code (FLUX_GDP_..., FLUX_FEED_...). */
              errors: z.record(z.string().max(64), z.number().int().nonnegative()).optional(),
              /** The silence bound now (ms): the check interval fitted to the feed's cadence. */
              boundMs: z.number().nonnegative().optional(),
              /** Connections that resumed the same stream after the last buffer forwarded. */
              resumes: z.number().int().nonnegative().optional(),
              /** Buffers lost because a resume point had left the upstream feeder's queue. */
              buffersLost: z.number().int().nonnegative().optional(),
            }),
          )
          .max(100),
      }),
    )
    .max(100),
  feeders: z
    .array(
      z.object({
        name: z.string().max(100),
        clients: z.number().int(),
        state: z.enum(['running', 'stopped']),
        restarts,
        /** feed-to connections this feeder keeps. */
        pushes: z.array(z.object({ target: z.string().max(300), state: z.enum(['connecting', 'connected', 'backoff', 'stopped']), restarts })).max(100),
      }),
    )
    .max(100),
});
export type ComponentState = z.infer<typeof componentStateSchema>;

/** One node of a process's live supervision tree, as `status --tree` shows it. */
export interface WireTreeNode {
  id: string;
  state: 'running' | 'backoff' | 'stopped' | 'terminating';
  restarts: number;
  lastCrash: { reason: string; time: number } | null;
  dropped: number;
  children: WireTreeNode[];
}

export const treeNodeSchema: z.ZodType<WireTreeNode> = z.lazy(() =>
  z.object({
    id: z.string().max(300),
    state: z.enum(['running', 'backoff', 'stopped', 'terminating']),
    restarts,
    lastCrash: z.object({ reason: z.string().max(2000), time: z.number() }).nullable(),
    dropped: z.number().int().nonnegative(),
    children: z.array(treeNodeSchema).max(1000),
  }),
);

export const componentSpecSchema = z.object({
  id,
  type: z.string(),
  properties: z.record(z.string(), z.unknown()),
  eaters: z.record(z.string(), z.array(feed)),
  /** Eater feeds that arrive by feed-to (the upstream connects to our feed server). */
  pushed: z.array(feed).default([]),
  feeders: z.array(z.string()),
});
export type ComponentSpec = z.infer<typeof componentSpecSchema>;

/** First frame from the manager on every connection. */
export const challengeMsg = z.object({ type: z.literal('challenge'), nonce: z.string().regex(/^[0-9a-f]{32}$/) });

/** Anything that may reach the manager. */
export const toManagerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('login'),
    role: z.enum(['worker', 'admin']),
    name: z.string().min(1).max(100),
    response: z.string().regex(/^[0-9a-f]{64}$/),
    pid: z.number().int().optional(),
    host: z.string().max(255).optional(),
    feedHost: z.string().max(255).optional(),
    feedPort: z.number().int().min(0).max(65535).optional(),
    /** Random per worker process: the same process logging in again replaces its stale link. */
    instance: z.string().regex(/^[0-9a-f]{16,64}$/).optional(),
    /** The client's own challenge: the manager proves it knows the secret too (see managerProof). */
    clientNonce: z.string().regex(/^[0-9a-f]{32}$/),
  }),
  z.object({ type: z.literal('ping'), t: z.number() }),
  z.object({ type: z.literal('pong'), t: z.number() }),
  /** A worker's full picture of what it runs (after login, and on every change). */
  z.object({
    type: z.literal('components'),
    components: z.array(componentStateSchema).max(10000),
    /** Supervised restarts of the worker's own actors. */
    worker: z
      .object({
        restarts,
        linkRestarts: restarts,
        cpuSeconds: z.number().nonnegative().optional(),
        rssBytes: z.number().nonnegative().optional(),
        heapUsedBytes: z.number().nonnegative().optional(),
        openFds: z.number().int().nonnegative().optional(),
        /** p99 event loop delay over the last report interval, seconds */
        eventLoopLagSeconds: z.number().nonnegative().optional(),
        upRestarts: restarts.optional(),
      })
      .optional(),
    /** The worker process's live supervision tree. */
    tree: treeNodeSchema.optional(),
  }),
  /** A worker stops cleanly: its components are sleeping, not lost. */
  z.object({ type: z.literal('shutdown') }),
  z.object({ type: z.literal('status-request'), requestId: z.number().int() }),
  z.object({ type: z.literal('component-command'), requestId: z.number().int(), action: z.enum(['start', 'stop', 'restart']), id }),
  /** Re-read the planet (the manager's own file, or this text) and apply the difference. */
  z.object({ type: z.literal('reload-request'), requestId: z.number().int(), planet: z.string().max(4 * 1024 * 1024).optional() }),
  listenersRequest,
  listenerKick,
  /** A worker's answer to a listing or a kick. */
  listenersResult,
]);
export type ToManager = z.infer<typeof toManagerSchema>;

/** Anything that may reach a worker or an admin. */
export const fromManagerSchema = z.discriminatedUnion('type', [
  challengeMsg,
  z.object({
    type: z.literal('welcome'),
    heartbeatIntervalMs: z.number().int().positive(),
    heartbeatTimeoutMs: z.number().int().positive(),
    /** HMAC proving the manager knows the secret of the role that logged in. */
    proof: z.string().regex(/^[0-9a-f]{64}$/),
    /** The planet's feeds run over TLS (workers: feeds: { tls: true }). */
    feedsTls: z.boolean().optional(),
  }),
  z.object({ type: z.literal('refused'), code: z.string(), reason: z.string() }),
  z.object({ type: z.literal('ping'), t: z.number() }),
  z.object({ type: z.literal('pong'), t: z.number() }),
  /** Start a component; `epoch` counts the manager's starts of it, and its reports carry it back. */
  z.object({ type: z.literal('start'), spec: componentSpecSchema, epoch: z.number().int().nonnegative().optional() }),
  z.object({ type: z.literal('stop'), id }),
  z.object({ type: z.literal('eat-from'), id, eater: z.string(), feed, host: z.string(), port: z.number().int().min(1).max(65535), /** another planet's feed secret (a relay) */ secret: z.string().min(1).max(1024).optional() }),
  z.object({ type: z.literal('feed-to'), id, feeder: z.string(), feed, host: z.string(), port: z.number().int().min(1).max(65535) }),
  z.object({ type: z.literal('status'), requestId: z.number().int(), status: z.unknown() }),
  z.object({ type: z.literal('command-result'), requestId: z.number().int(), ok: z.boolean(), message: z.string() }),
  z.object({ type: z.literal('reload-result'), requestId: z.number().int(), ok: z.boolean(), message: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string(), code: z.string().max(64).optional() })).optional() }),
  z.object({ type: z.literal('error'), code: z.string(), reason: z.string() }),
  /** To the worker running the component: list its listeners, or disconnect one. */
  listenersRequest,
  listenerKick,
  /** To the admin that asked. */
  listenersResult,
]);
export type FromManager = z.infer<typeof fromManagerSchema>;

export const WIRE_ERROR_CODES = {
  BAD_FRAME: C.WIRE_BAD_FRAME,
  AUTH_FAILED: C.WIRE_AUTH_FAILED,
  UNKNOWN_WORKER: C.WIRE_UNKNOWN_WORKER,
  DUPLICATE_WORKER: C.WIRE_DUPLICATE_WORKER,
  NOT_LOGGED_IN: C.WIRE_NOT_LOGGED_IN,
  HEARTBEAT_TIMEOUT: C.WIRE_HEARTBEAT_TIMEOUT,
  MANAGER_UNVERIFIED: C.WIRE_MANAGER_UNVERIFIED,
  TOO_MANY_ATTEMPTS: C.WIRE_TOO_MANY_ATTEMPTS,
  FORBIDDEN: C.WIRE_FORBIDDEN,
} as const;

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** Challenge-response of a login: the secret never crosses the wire. */
export function loginResponse(secret: string, nonce: string, role: string, name: string): string {
  return createHmac('sha256', secret).update(`${nonce}\n${role}\n${name}`).digest('hex');
}

export function verifyLogin(secret: string, nonce: string, role: string, name: string, response: string): boolean {
  return sameHex(loginResponse(secret, nonce, role, name), response);
}

/**
 * The manager's answer to the client's own challenge: only a manager that knows the secret
 * can give it, so a fake manager on the right port cannot make a worker obey it.
 */
export function managerProof(secret: string, clientNonce: string, nonce: string, role: string, name: string): string {
  return createHmac('sha256', secret).update(`manager\n${clientNonce}\n${nonce}\n${role}\n${name}`).digest('hex');
}

export function verifyManagerProof(secret: string, clientNonce: string, nonce: string, role: string, name: string, proof: string): boolean {
  return sameHex(managerProof(secret, clientNonce, nonce, role, name), proof);
}

/** Compares two hex digests in constant time. */
function sameHex(expected: string, got: string): boolean {
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(got, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
