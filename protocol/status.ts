// The planet's status as one schema and one type: what `fluxcast status --json`, the API
// (`/api/v1/planet`), `/status.json`, the web admin and the metrics read. The manager builds
// it; the CLI checks every answer against this schema where it enters. Also the results of an
// admin's commands and reloads. Pure: zod schemas only.

import { z } from 'zod';
import { ListenersResult, componentStateSchema, moodSchema, treeNodeSchema } from './wire';

const restarts = z.number().int().nonnegative();

export const WORKER_LINK_STATES = ['never', 'connected', 'lost', 'stopped'] as const;
export type WorkerLinkState = (typeof WORKER_LINK_STATES)[number];

export const workerStatusSchema = z.object({
  name: z.string(),
  connected: z.boolean(),
  state: z.enum(WORKER_LINK_STATES),
  host: z.string().nullable(),
  pid: z.number().int().nullable(),
  feedPort: z.number().int().nullable(),
  /** Restarts of this worker's avatar on the manager. */
  restarts,
  /** The worker process's own actors (worker, link), from its last report. */
  process: z
    .object({
      restarts,
      linkRestarts: restarts,
      cpuSeconds: z.number().nonnegative().optional(),
      rssBytes: z.number().nonnegative().optional(),
      heapUsedBytes: z.number().nonnegative().optional(),
      openFds: z.number().int().nonnegative().optional(),
      /** p99 event loop delay over the last report interval, seconds */
      eventLoopLagSeconds: z.number().nonnegative().optional(),
      /** Times `fluxcast up` started this worker again after it died. */
      upRestarts: restarts.optional(),
    })
    .nullable(),
  /** The worker process's live supervision tree, from its last report (null when not connected). */
  tree: treeNodeSchema.nullable().optional(),
});

export const componentStatusSchema = z.object({
  id: z.string(),
  flow: z.string(),
  name: z.string(),
  type: z.string(),
  worker: z.string(),
  mood: moodSchema,
  pid: z.number().int().nullable(),
  /** Supervised restarts of the component's core on its worker. */
  restarts,
  /** A streamer's URLs (`urls`, the primary first; `url` = `urls[0]`) and audience, a porter's routes (from the worker's last report). */
  details: componentStateSchema.shape.details,
  eaters: componentStateSchema.shape.eaters,
  feeders: componentStateSchema.shape.feeders,
  messages: componentStateSchema.shape.messages,
  /** The feeds its eaters are configured with (the planet's graph, also while sleeping or lost). */
  feeds: z.array(z.object({ eater: z.string(), feedId: z.string(), mode: z.enum(['eat-from', 'feed-to']), remote: z.boolean() })),
  /** The commands offered in its mood (actors/manager/commands.ts): what the web admin enables. */
  actions: z.array(z.enum(['start', 'stop', 'restart'])),
});

export const statusSchema = z.object({
  planet: z.string(),
  manager: z.object({
    /** Supervised restarts of the manager's own actor and of the planet actor. */
    restarts,
    planetRestarts: restarts,
    /** Times `fluxcast up` started the manager again after it died. */
    upRestarts: restarts.optional(),
    /** The manager process's live supervision tree. */
    tree: treeNodeSchema.optional(),
  }),
  workers: z.array(workerStatusSchema),
  components: z.array(componentStatusSchema),
});

export type StatusJson = z.infer<typeof statusSchema>;
export type ComponentStatus = z.infer<typeof componentStatusSchema>;
export type WorkerStatus = z.infer<typeof workerStatusSchema>;

/** A problem of a planet file, as `fluxcast check` prints it. */
export interface PlanetIssue {
  path: string;
  message: string;
  /** A stable code for problems a script may single out (FLUX_PLANET_PORT_CLASH...); the rest are FLUX_PLANET_INVALID. */
  code?: string;
}

export type CommandResult = { ok: boolean; message: string; code?: string };

/** What the manager answers about a component's listeners (the wire's listeners-result without its envelope). */
export type ListenersAnswer = Omit<ListenersResult, 'type' | 'requestId'>;

/** What a reload did, component ids by kind of change. */
export interface ReloadResult {
  added: string[];
  removed: string[];
  restarted: string[];
  moved: string[];
  unchanged: number;
  workersAdded: string[];
  workersRemoved: string[];
}

export type ReloadOutcome = { ok: true; result: ReloadResult } | { ok: false; code: string; message: string; issues?: PlanetIssue[] };

export function reloadSummary(r: ReloadResult): string {
  const list = (what: string, ids: string[]) => (ids.length ? `${what} ${ids.join(', ')}` : '');
  const parts = [list('added', r.added), list('removed', r.removed), list('restarted', r.restarted), list('moved', r.moved), list('workers added', r.workersAdded), list('workers removed', r.workersRemoved)].filter(Boolean);
  return `planet reloaded: ${parts.length ? parts.join('; ') : 'nothing changed'} (${r.unchanged} unchanged)`;
}
