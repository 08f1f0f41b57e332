// A small time chart in inline SVG for the web admin: one value over the last 30 minutes (or
// less, while the manager has sampled for less: the span grows 1, 2, 5, 10, 15, 30 min), with its
// scale, time ticks, the periods the streamer did not run shaded, and gaps where samples are
// missing (the manager was not sampling). Pure drawing: samples in, an <svg> out.

import { svg } from './dom.js';
import { Sample } from './types.js';

export const WINDOW_MS = 30 * 60 * 1000;
const SPANS_MIN = [1, 2, 5, 10, 15, 30];
const H = 150;
const LEFT = 52;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 22;

/** The smallest 1, 2 or 5 × 10^k at least `v` (at least `min`). */
export function niceCeil(v: number, min = 1): number {
  const x = Math.max(v, min);
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

export interface ChartOptions {
  /** What is drawn (a class and the accessible name). */
  name: string;
  label: string;
  value(s: Sample): number;
  format(v: number): string;
  /** Listener counts change in steps; rates are joined by lines. */
  steps: boolean;
  intervalMs: number;
  now: number;
  /** Pixels wide (the chart is drawn 1:1, so its text stays readable on a phone). */
  width: number;
}

/** The time span drawn (ms): the shortest of 1, 2, 5, 10, 15, 30 min that holds every sample. */
export function spanOf(samples: Sample[], now: number): number {
  const first = samples.find((s) => s.t >= now - WINDOW_MS)?.t ?? now;
  const min = SPANS_MIN.find((m) => m * 60000 >= now - first) ?? 30;
  return min * 60000;
}

export function timeChart(samples: Sample[], o: ChartOptions): SVGElement {
  const W = Math.max(240, Math.round(o.width));
  const span = spanOf(samples, o.now);
  const from = o.now - span;
  const shown = samples.filter((s) => s.t >= from && s.t <= o.now);
  const max = niceCeil(Math.max(0, ...shown.map(o.value)));
  const x = (t: number) => LEFT + ((t - from) / span) * (W - LEFT - RIGHT);
  const y = (v: number) => TOP + (1 - v / max) * (H - TOP - BOTTOM);
  const last = shown[shown.length - 1];
  const root = svg('svg', {
    class: `chart chart-${o.name}`, width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `${o.label}, last ${span / 60000} min${last ? `: now ${o.format(o.value(last))}` : ''}`,
    'data-samples': shown.length, 'data-last': last ? o.value(last) : '', 'data-max': max, 'data-span-min': span / 60000,
  });
  // Not running (sleeping, lost): shaded, one band per stretch of such samples.
  const down = (s: Sample) => s.mood === 'sleeping' || s.mood === 'lost';
  for (let i = 0; i < shown.length; i++) {
    if (!down(shown[i])) continue;
    let j = i;
    while (j + 1 < shown.length && down(shown[j + 1])) j++;
    const end = shown[j + 1]?.t ?? Math.min(o.now, shown[j].t + o.intervalMs);
    root.append(svg('rect', { class: 'down', x: x(shown[i].t), y: TOP, width: Math.max(1, x(end) - x(shown[i].t)), height: H - TOP - BOTTOM }));
    i = j;
  }
  // Scale and time ticks.
  for (const v of [0, max / 2, max]) {
    root.append(svg('line', { class: 'grid', x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v) }));
    root.append(svg('text', { class: 'axis', x: LEFT - 4, y: y(v) + 4, 'text-anchor': 'end' }, o.format(v)));
  }
  for (const k of [3, 2, 1, 0]) {
    const ago = (span * k) / 3;
    const label = ago === 0 ? 'now' : ago % 60000 === 0 ? `−${ago / 60000} min` : `−${Math.round(ago / 1000)} s`;
    root.append(svg('text', { class: 'axis', x: x(o.now - ago), y: H - 6, 'text-anchor': k === 3 ? 'start' : k === 0 ? 'end' : 'middle' }, label));
  }
  // The line, broken where samples are missing.
  let d = '';
  let prev: Sample | null = null;
  for (const s of shown) {
    const gap = !prev || s.t - prev.t > 2.5 * o.intervalMs;
    if (gap) d += `M${x(s.t).toFixed(1)},${y(o.value(s)).toFixed(1)}`;
    else if (o.steps) d += `H${x(s.t).toFixed(1)}V${y(o.value(s)).toFixed(1)}`;
    else d += `L${x(s.t).toFixed(1)},${y(o.value(s)).toFixed(1)}`;
    prev = s;
  }
  if (prev && o.steps) d += `H${Math.min(x(o.now), x(prev.t + o.intervalMs)).toFixed(1)}`;
  root.append(svg('path', { class: 'line', d: d || 'M0,0', fill: 'none' }));
  if (last) root.append(svg('circle', { class: 'dot', cx: x(last.t), cy: y(o.value(last)), r: 3 }));
  return root;
}
