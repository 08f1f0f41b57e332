// The planet file: manager, workers, flows of components and the atmosphere, as YAML.
// This file owns the structure (zod) and feed id syntax; what each component type accepts is
// checked against its own declaration by actors/planet/check.ts. Pure: no I/O.

import { z } from 'zod';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'names use letters, digits, "_", "." and "-"');

export const feedRefSchema = z.union([
  z.string().min(1),
  z
    .object({
      feed: z.string().min(1),
      mode: z.enum(['eat-from', 'feed-to']).default('eat-from'),
      /** Another planet's feed: the `host:port` of the feed server of the worker that runs it. */
      remote: z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port').optional(),
      /** That planet's workers' secret (or secret-file, read by the manager). */
      secret: z.string().min(16, 'must be at least 16 characters').optional(),
      'secret-file': z.string().min(1).optional(),
    })
    .strict()
    .refine((r) => !r.remote || r.mode === 'eat-from', { message: 'a remote feed is eaten from (mode: eat-from)', path: ['mode'] })
    .refine((r) => !r.remote || !!r.secret !== !!r['secret-file'], { message: 'a remote feed needs one of secret or secret-file', path: ['remote'] })
    .refine((r) => !!r.remote || (!r.secret && !r['secret-file']), { message: 'secret and secret-file are for remote feeds only', path: ['secret'] }),
]);
export type FeedRef = z.infer<typeof feedRefSchema>;

export const componentConfigSchema = z
  .object({
    name,
    type: z.string().min(1),
    worker: name,
    properties: z.record(z.string(), z.unknown()).default({}),
    eaters: z.record(z.string(), z.array(feedRefSchema)).default({}),
  })
  .strict();
export type ComponentConfig = z.infer<typeof componentConfigSchema>;

const tlsFilesSchema = z
  .object({
    'cert-file': z.string().min(1),
    'key-file': z.string().min(1),
    /** A private CA: workers and the CLI trust it (instead of the system's CAs); for feeds, it signs every worker. */
    'ca-file': z.string().min(1).optional(),
  })
  .strict();

export const planetSchema = z
  .object({
    name: name.default('planet'),
    manager: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(1).max(65535).default(7531),
        /** The workers' secret: worker logins and feeds (or secret-file). */
        secret: z.string().min(16, 'a secret has at least 16 characters').optional(),
        'secret-file': z.string().optional(),
        /** The admins' secret: the CLI, the API and the web admin (or admin-secret-file). */
        'admin-secret': z.string().min(16, 'a secret has at least 16 characters').optional(),
        'admin-secret-file': z.string().optional(),
        /** Heartbeat interval and dead-link timeout, milliseconds. */
        'heartbeat-interval': z.number().int().positive().default(500),
        'heartbeat-timeout': z.number().int().positive().default(2500),
        /** Connections that have not logged in yet, at most (the oldest is dropped for a new one). */
        'max-pending-logins': z.number().int().positive().default(64),
        /** ms a connection has to log in. */
        'login-timeout': z.number().int().positive().default(5000),
        /** Serve flows, component names, moods and listener counts at /status.json without credentials. */
        'public-status': z.boolean().default(false),
        /** ms between two samples of each streamer's listeners and bitrate (the web admin's charts keep 30 min). */
        'sample-interval': z.number().int().min(100, 'sample-interval is at least 100 ms').max(60000, 'sample-interval is at most 60000 ms').default(10000),
        /** wss:// and https:// on the manager's port (and nothing in clear text). */
        tls: tlsFilesSchema.optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 7531, 'heartbeat-interval': 500, 'heartbeat-timeout': 2500, 'max-pending-logins': 64, 'login-timeout': 5000, 'public-status': false, 'sample-interval': 10000 }),
    workers: z.array(z.object({ name, 'feed-port': z.number().int().min(0).max(65535).optional() }).strict()).min(1),
    /** Feeds between workers: TLS with mutual verification (every worker's certificate signed by ca-file). */
    feeds: z
      .object({ tls: z.boolean().default(false), 'cert-file': z.string().min(1).optional(), 'key-file': z.string().min(1).optional(), 'ca-file': z.string().min(1).optional() })
      .strict()
      .refine((f) => !f.tls || (f['cert-file'] && f['key-file'] && f['ca-file']), { message: 'feeds with tls: true need cert-file, key-file and ca-file' })
      .default({ tls: false }),
    atmosphere: z.object({ components: z.array(componentConfigSchema).default([]) }).strict().default({ components: [] }),
    flows: z.array(z.object({ name, components: z.array(componentConfigSchema).min(1) }).strict()).default([]),
  })
  .strict();
export type PlanetConfig = z.infer<typeof planetSchema>;

/** A parsed feed id: `/flow/component:feeder`. */
export interface FeedId {
  flow: string;
  component: string;
  feeder: string;
}

/**
 * Reads a feed id as written in a planet: `component`, `component:feeder` (both within
 * `flow`) or the full `/flow/component:feeder`. Returns null when malformed.
 */
export function parseFeedId(text: string, flow: string): FeedId | null {
  const m = /^(?:\/([^/:]+)\/)?([^/:]+)(?::([^/:]+))?$/.exec(text);
  if (!m) return null;
  return { flow: m[1] ?? flow, component: m[2], feeder: m[3] ?? 'default' };
}

export function fullFeedId(f: FeedId): string {
  return `/${f.flow}/${f.component}:${f.feeder}`;
}

export function feedRefText(ref: FeedRef): string {
  return typeof ref === 'string' ? ref : ref.feed;
}

/** A remote feed's address, or null for a feed of this planet. */
export function feedRefRemote(ref: FeedRef): { host: string; port: number } | null {
  if (typeof ref === 'string' || !ref.remote) return null;
  const i = ref.remote.lastIndexOf(':');
  return { host: ref.remote.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(ref.remote.slice(i + 1)) };
}

export function feedRefMode(ref: FeedRef): 'eat-from' | 'feed-to' {
  return typeof ref === 'string' ? 'eat-from' : ref.mode;
}

/** Formats a zod path the way `fluxcast check` prints it: `flows[0].components[2].eaters.default[0]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top)';
}
