// The planet's live events for the operator's surface (the SSE stream of the API and the web
// admin): what changed between two status snapshots, as small typed events. Pure: the manager
// takes a snapshot after each change and emits the difference (and its own `reload` and
// `command` events, which no snapshot shows).

import { StatusJson } from '../protocol/status';

export type PlanetEvent = (
  | { type: 'mood'; id: string; mood: string; previous: string | null; actions: string[]; time: number }
  | { type: 'message'; id: string; level: string; text: string; time: number }
  | { type: 'worker'; name: string; state: string; previous: string | null; time: number }
  | { type: 'clients'; id: string; clients: number; bitrateOut: number; time: number }
  | { type: 'feed'; id: string; feedId: string; flowing: boolean; time: number }
  | { type: 'restarts'; id: string; restarts: number; time: number }
  | { type: 'reload'; message: string; time: number }
  | { type: 'command'; id: string; action: string; ok: boolean; message: string; time: number }
) & {
  /** Its place in the manager's sequence of events (admin/history.ts numbers them as they are emitted). */
  seq?: number;
};

/** The events that lead from `prev` to `next` (all of `next` as news when there is no `prev`). */
export function statusEvents(prev: StatusJson | null, next: StatusJson, now = Date.now()): PlanetEvent[] {
  const out: PlanetEvent[] = [];
  const before = new Map(prev?.components.map((c) => [c.id, c]) ?? []);
  const workersBefore = new Map(prev?.workers.map((w) => [w.name, w]) ?? []);
  for (const w of next.workers) {
    const b = workersBefore.get(w.name);
    if (!b || b.state !== w.state) out.push({ type: 'worker', name: w.name, state: w.state, previous: b?.state ?? null, time: now });
  }
  for (const c of next.components) {
    const b = before.get(c.id);
    if (!b || b.mood !== c.mood) out.push({ type: 'mood', id: c.id, mood: c.mood, previous: b?.mood ?? null, actions: c.actions, time: now });
    if (b && b.restarts !== c.restarts) out.push({ type: 'restarts', id: c.id, restarts: c.restarts, time: now });
    const lastBefore = b?.messages.at(-1)?.time ?? 0;
    for (const m of c.messages) if (b && m.time > lastBefore) out.push({ type: 'message', id: c.id, level: m.level, text: m.text, time: m.time });
    // A feed starts or stops flowing (an eater gone with its component has stopped).
    const flowing = (x: typeof c | undefined) => new Set(x?.eaters.flatMap((e) => e.feeds.filter((f) => f.connected).map((f) => f.feedId)) ?? []);
    const was = flowing(b);
    const is = flowing(c);
    for (const feedId of is) if (!was.has(feedId)) out.push({ type: 'feed', id: c.id, feedId, flowing: true, time: now });
    for (const feedId of was) if (!is.has(feedId)) out.push({ type: 'feed', id: c.id, feedId, flowing: false, time: now });
    const clients = c.details?.clients;
    if (clients !== undefined && (!b || b.details?.clients !== clients)) out.push({ type: 'clients', id: c.id, clients, bitrateOut: c.details?.bitrateOut ?? 0, time: now });
  }
  return out;
}
