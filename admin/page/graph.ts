// A flow drawn as a graph: components as boxes, configured feeds as arrows. Positions come from
// the flow's structure alone (a column per component by the longest feed path to it, planet
// order within a column; fixed box sizes), never from moods or which feeds are connected: a stop
// changes colours and text, never a position, and an arrow stays (grey and dashed while its
// feed does not flow). Boxes and arrows are updated in place until the structure changes.

import { $, el, svg } from './dom.js';
import { Action, ComponentView } from './types.js';

export const BOX_W = 232;
export const BOX_H = 158;
export const GAP_X = 72;
export const GAP_Y = 20;
const PAD = 4;

const ACTIONS: Action[] = ['start', 'stop', 'restart'];
const STREAMERS = new Set(['http-streamer', 'hls-streamer', 'whep-streamer']);
const RUNNING = new Set(['happy', 'hungry', 'waking']);

export const upstreamOf = (feedId: string): string => feedId.slice(0, feedId.lastIndexOf(':'));
export const isStreamer = (c: ComponentView): boolean => STREAMERS.has(c.type);

/** The feeds a component is configured to eat (the planet's graph); an older manager: what runs. */
function configuredFeeds(c: ComponentView): string[] {
  return c.feeds ? c.feeds.map((f) => f.feedId) : c.eaters.flatMap((e) => e.feeds.map((f) => f.feedId));
}

/** Column and row of every component of a flow, from its configured feeds within the flow. */
export function layout(comps: ComponentView[]): Map<string, { col: number; row: number }> {
  const byId = new Map(comps.map((c) => [c.id, c]));
  const col = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (c: ComponentView): number => {
    const known = col.get(c.id);
    if (known !== undefined) return known;
    if (visiting.has(c.id)) return 0; // a cycle (the planet check refuses them): cut it here
    visiting.add(c.id);
    let d = 0;
    for (const f of configuredFeeds(c)) {
      const up = byId.get(upstreamOf(f));
      if (up && up !== c) d = Math.max(d, depth(up) + 1);
    }
    visiting.delete(c.id);
    col.set(c.id, d);
    return d;
  };
  const rows: number[] = [];
  const out = new Map<string, { col: number; row: number }>();
  for (const c of comps) {
    const k = depth(c);
    out.set(c.id, { col: k, row: (rows[k] = (rows[k] ?? -1) + 1) });
  }
  return out;
}

/** What decides the drawing: components, their types and configured feeds, in planet order. */
export function structureOf(comps: ComponentView[]): string {
  return JSON.stringify(comps.map((c) => [c.id, c.type, configuredFeeds(c)]));
}

export interface GraphHandlers {
  act(action: Action, id: string): void;
  open(id: string): void;
}

interface Arrow { path: SVGElement; feedId: string; to: string }

export class FlowGraph {
  readonly section: HTMLElement;
  readonly structure: string;
  private readonly boxes = new Map<string, HTMLElement>();
  private readonly arrows: Arrow[] = [];

  constructor(readonly flow: string, comps: ComponentView[], private readonly h: GraphHandlers) {
    this.structure = structureOf(comps);
    const pos = layout(comps);
    const cols = Math.max(0, ...[...pos.values()].map((p) => p.col)) + 1;
    const rows = Math.max(0, ...[...pos.values()].map((p) => p.row)) + 1;
    const width = PAD * 2 + cols * BOX_W + (cols - 1) * GAP_X;
    const height = PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y;
    const at = (id: string) => {
      const p = pos.get(id) as { col: number; row: number };
      return { x: PAD + p.col * (BOX_W + GAP_X), y: PAD + p.row * (BOX_H + GAP_Y) };
    };

    const canvas = el('div', { class: 'canvas' });
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const lines = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, 'aria-hidden': 'true' });
    lines.append(svg('defs', {}, marker('on', '#2e7d32'), marker('off', '#9e9e9e')));
    canvas.append(lines);

    // Arrows: from the right edge of what feeds to the left edge of what eats, the ends spread
    // along the edges in a fixed order so that several feeds of one box stay apart.
    const ids = new Set(comps.map((c) => c.id));
    const edges = comps.flatMap((c) => configuredFeeds(c).filter((f) => ids.has(upstreamOf(f)) && upstreamOf(f) !== c.id).map((feedId) => ({ feedId, from: upstreamOf(feedId), to: c.id })));
    const outs = new Map<string, typeof edges>();
    const ins = new Map<string, typeof edges>();
    for (const e of edges) {
      (outs.get(e.from) ?? outs.set(e.from, []).get(e.from))!.push(e);
      (ins.get(e.to) ?? ins.set(e.to, []).get(e.to))!.push(e);
    }
    const spread = (list: typeof edges, e: (typeof edges)[number]) => (BOX_H * (list.indexOf(e) + 1)) / (list.length + 1);
    for (const e of edges) {
      const a = at(e.from);
      const b = at(e.to);
      const x1 = a.x + BOX_W, y1 = a.y + spread(outs.get(e.from) ?? [], e);
      const x2 = b.x - 2, y2 = b.y + spread(ins.get(e.to) ?? [], e);
      const bend = Math.max(24, (x2 - x1) / 2);
      const path = svg('path', { d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`, fill: 'none', 'stroke-width': 2, 'data-feed': e.feedId, 'data-to': e.to });
      path.append(svg('title', {}, `${e.feedId} → ${e.to}`));
      lines.append(path);
      this.arrows.push({ path, feedId: e.feedId, to: e.to });
    }

    for (const c of comps) {
      const p = at(c.id);
      const { col, row } = pos.get(c.id) as { col: number; row: number };
      const box = this.box(c);
      box.setAttribute('data-col', String(col));
      box.setAttribute('data-row', String(row));
      box.style.left = `${p.x}px`;
      box.style.top = `${p.y}px`;
      box.style.width = `${BOX_W}px`;
      box.style.height = `${BOX_H}px`;
      this.boxes.set(c.id, box);
      canvas.append(box);
    }
    this.section = el('section', { class: 'flow', 'data-flow': flow }, el('h2', {}, `flow ${flow}`), el('div', { class: 'graph' }, canvas));
  }

  private box(c: ComponentView): HTMLElement {
    const buttons = el('div', { class: 'buttons' });
    for (const action of ACTIONS) {
      const b = el('button', { type: 'button', 'data-action': action, 'data-id': c.id }, action);
      b.addEventListener('click', (ev) => {
        ev.stopPropagation();
        this.h.act(action, c.id);
      });
      buttons.append(b);
    }
    const box = el(
      'div',
      { class: 'component', id: `c-${c.id.replace(/[^A-Za-z0-9_-]/g, '_')}`, 'data-id': c.id },
      el('div', { class: 'name' }, el('span', { class: 'title' }, c.name), ' ', el('span', { class: 'mood' })),
      el('div', { class: 'meta type' }),
      el('div', { class: 'meta where' }),
      el('div', { class: 'meta extra' }),
      el('div', { class: 'msg' }),
      buttons,
    );
    if (isStreamer(c)) {
      // A streamer opens its panel (charts, listeners, URLs) when clicked.
      box.classList.add('openable');
      box.setAttribute('title', `${c.id}: click for its listeners and charts`);
      const details = el('button', { type: 'button', 'data-action': 'details', 'data-id': c.id }, 'details');
      details.addEventListener('click', (ev) => {
        ev.stopPropagation();
        this.h.open(c.id);
      });
      buttons.append(details);
      box.addEventListener('click', () => this.h.open(c.id));
    }
    return box;
  }

  /** New moods, texts, enabled buttons and arrow colours; positions stay. */
  update(comps: ComponentView[], busy: ReadonlySet<string>): void {
    // A feed flows when its eater says so and both ends run (a report may lag a stop).
    const running = new Set(comps.filter((c) => RUNNING.has(c.mood)).map((c) => c.id));
    const live = new Map<string, boolean>();
    for (const c of comps) for (const e of c.eaters) for (const f of e.feeds) live.set(`${c.id}|${f.feedId}`, f.connected && running.has(c.id) && running.has(upstreamOf(f.feedId)));
    for (const c of comps) {
      const box = this.boxes.get(c.id);
      if (!box) continue;
      box.className = `component mood-${c.mood}${isStreamer(c) ? ' openable' : ''}`;
      box.setAttribute('data-mood', c.mood);
      text(box, '.mood', c.mood);
      text(box, '.type', c.type);
      text(box, '.where', `on ${c.worker} · restarts ${c.restarts}`);
      text(box, '.extra', extraLine(c));
      const last = c.messages[c.messages.length - 1];
      const msg = box.querySelector('.msg') as HTMLElement;
      msg.textContent = last ? `${last.level}: ${last.text}` : '';
      msg.title = msg.textContent;
      for (const b of box.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
        const a = b.dataset.action as Action | 'details';
        if (a === 'details') continue;
        b.disabled = busy.has(c.id) || !(c.actions ?? ACTIONS).includes(a);
      }
    }
    for (const a of this.arrows) {
      const on = live.get(`${a.to}|${a.feedId}`) === true;
      a.path.setAttribute('class', on ? 'feed flowing' : 'feed down');
      a.path.setAttribute('data-flowing', on ? '1' : '0');
      a.path.setAttribute('stroke', on ? '#2e7d32' : '#9e9e9e');
      a.path.setAttribute('stroke-dasharray', on ? 'none' : '6 5');
      a.path.setAttribute('marker-end', `url(#arrow-${on ? 'on' : 'off'})`);
    }
  }
}

/** A streamer's audience, a porter's routes, or the feeds from outside the flow. */
function extraLine(c: ComponentView): string {
  const d = c.details;
  if (isStreamer(c)) return d?.clients !== undefined ? `${d.clients} listener(s) · ${Math.round((d.bitrateOut ?? 0) / 1000)} kbit/s out` : 'no listeners (not running)';
  if (d?.routes) return `routes: ${d.routes.map((r) => `${r.mount} → ${r.owner}`).join(', ') || '(none)'}`;
  const outside = (c.feeds ?? []).filter((f) => f.remote || !f.feedId.startsWith(`/${c.flow}/`)).map((f) => `← ${f.feedId}${f.remote ? ' (remote)' : ''}`);
  return outside.join(', ');
}

function text(box: HTMLElement, sel: string, t: string): void {
  const e = box.querySelector(sel) as HTMLElement;
  if (e.textContent !== t) e.textContent = t;
}

function marker(name: string, colour: string): SVGElement {
  return svg('marker', { id: `arrow-${name}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: colour }));
}

/** Keeps one FlowGraph per flow in #flows, rebuilt only when that flow's structure changes. */
export class Flows {
  private readonly graphs = new Map<string, FlowGraph>();

  constructor(private readonly h: GraphHandlers) {}

  render(components: ComponentView[], busy: ReadonlySet<string>): void {
    const byFlow = new Map<string, ComponentView[]>();
    for (const c of components) (byFlow.get(c.flow) ?? byFlow.set(c.flow, []).get(c.flow))!.push(c);
    for (const [flow, comps] of byFlow) {
      let g = this.graphs.get(flow);
      if (g && g.structure !== structureOf(comps)) g = undefined;
      if (!g) this.graphs.set(flow, (g = new FlowGraph(flow, comps, this.h)));
      g.update(comps, busy);
    }
    for (const flow of [...this.graphs.keys()]) if (!byFlow.has(flow)) this.graphs.delete(flow);
    const host = $('flows');
    const wanted = [...byFlow.keys()].map((f) => (this.graphs.get(f) as FlowGraph).section);
    if (wanted.length !== host.children.length || wanted.some((s, i) => host.children[i] !== s)) host.replaceChildren(...wanted);
  }
}
