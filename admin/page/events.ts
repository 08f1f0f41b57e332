// The web admin's event history: the manager's recent lasting events (moods, workers, reloads,
// commands, restarts) newest first, from GET /api/v1/events/history and then live from the
// event stream. Events are numbered by the manager (`seq`): the two sources merge without
// duplicates or gaps, whichever arrives first. At most 200 are shown.

import { $, clock, el } from './dom.js';
import { PlanetEvent } from './types.js';

const MAX = 200;
const KEPT = new Set(['mood', 'worker', 'reload', 'command', 'restarts']);

export function describeEvent(e: PlanetEvent): string {
  switch (e.type) {
    case 'mood':
      return `${e.id} ${e.mood}${e.previous ? ` (was ${e.previous})` : ''}`;
    case 'worker':
      return `worker ${e.name} ${e.state === 'never' ? 'has not logged in yet' : e.state}${e.previous ? ` (was ${e.previous === 'never' ? 'not logged in yet' : e.previous})` : ''}`;
    case 'command':
      return `${e.action} ${e.id}: ${e.ok ? 'accepted' : 'refused'}${e.ok ? '' : ` (${e.message})`}`;
    case 'restarts':
      return `${e.id} restarted by its supervisor (${e.restarts} restart(s))`;
    case 'reload':
      return String(e.message);
    default:
      return e.type;
  }
}

export class EventList {
  private readonly bySeq = new Map<number, PlanetEvent>();
  private unnumbered: PlanetEvent[] = [];

  /** Events from the history route or the stream; unknown kinds and repeats are ignored. */
  add(list: PlanetEvent[]): void {
    let changed = false;
    for (const e of list) {
      if (!KEPT.has(e.type)) continue;
      if (typeof e.seq === 'number') {
        if (this.bySeq.has(e.seq)) continue;
        this.bySeq.set(e.seq, e);
      } else {
        this.unnumbered.push(e); // an older manager: no numbers, shown as they come
      }
      changed = true;
    }
    if (changed) this.render();
  }

  private sorted(): PlanetEvent[] {
    const all = [...this.bySeq.values(), ...this.unnumbered];
    all.sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0) || b.time - a.time);
    return all;
  }

  private render(): void {
    const all = this.sorted();
    // Keep the newest MAX.
    for (const e of all.slice(MAX)) {
      if (typeof e.seq === 'number') this.bySeq.delete(e.seq);
      else this.unnumbered = this.unnumbered.filter((x) => x !== e);
    }
    const shown = all.slice(0, MAX);
    $('events').replaceChildren(
      ...shown.map((e) =>
        el(
          'li',
          { 'data-type': e.type, 'data-seq': String(e.seq ?? ''), ...(e.id ? { 'data-id': e.id } : {}), ...(e.type === 'command' ? { 'data-ok': e.ok ? '1' : '0' } : {}), class: `event ev-${e.type}${e.type === 'mood' ? ` ev-mood-${e.mood}` : ''}${e.type === 'command' && !e.ok ? ' refused' : ''}` },
          el('time', { datetime: new Date(e.time).toISOString(), title: new Date(e.time).toString() }, clock(e.time)),
          ' ',
          el('span', { class: 'what' }, describeEvent(e)),
        ),
      ),
    );
    if (!shown.length) $('events').append(el('li', { class: 'muted' }, 'nothing yet'));
  }
}
