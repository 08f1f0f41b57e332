// The `fluxcast launch` description: components and links, like gst-launch:
//   audiotest-producer frequency=440 ! vorbis-encoder name=enc ! ogg-muxer ! http-streamer port=8800
//   videotest-producer ! vp8-encoder ! mux.  audiotest-producer ! vorbis-encoder ! mux.  webm-muxer name=mux ! http-streamer
// `!` links the previous component's feeder (default) to the next one's eater (default);
// `NAME.` or `NAME.FEEDER` / `NAME.EATER` refer to a named component. Pure: returns a graph or
// throws a FluxError naming the column (1-based) of the problem.

import { FluxError, PROTOCOL_ERROR_CODES } from './errors';

export interface LaunchComponent {
  name: string;
  type: string;
  properties: Record<string, string | number | boolean>;
  /** Column of each property, for error messages. */
  propertyColumns: Record<string, number>;
  column: number;
}

export interface LaunchLink {
  from: { component: string; feeder: string };
  to: { component: string; eater: string };
  column: number;
}

export interface LaunchGraph {
  components: LaunchComponent[];
  links: LaunchLink[];
}

interface Token {
  text: string;
  column: number;
}

export const LAUNCH_ERROR_CODE = PROTOCOL_ERROR_CODES.LAUNCH_SYNTAX;

function fail(message: string, column: number): never {
  throw new FluxError(LAUNCH_ERROR_CODE, `${message} (column ${column})`);
}

function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i])) {
      i++;
      continue;
    }
    const start = i;
    let cur = '';
    if (text[i] === '!') {
      out.push({ text: '!', column: i + 1 });
      i++;
      continue;
    }
    while (i < text.length && !/\s/.test(text[i]) && text[i] !== '!') {
      const q = text[i];
      if (q === '"' || q === "'") {
        const end = text.indexOf(q, i + 1);
        if (end < 0) fail('unterminated quote', i + 1);
        cur += text.slice(i + 1, end);
        i = end + 1;
      } else {
        cur += q;
        i++;
      }
    }
    out.push({ text: cur, column: start + 1 });
  }
  return out;
}

function value(raw: string): string | number | boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

export function parseLaunch(text: string): LaunchGraph {
  const toks = tokens(text);
  if (!toks.length) fail('empty description', 1);
  const components: LaunchComponent[] = [];
  const links: LaunchLink[] = [];
  let prev: { component: string; feeder: string } | null = null; // what the next `!` links from
  let pendingLink: { from: { component: string; feeder: string }; column: number } | null = null;
  let current: LaunchComponent | null = null;
  const counters = new Map<string, number>();
  for (const t of toks) {
    if (t.text === '!') {
      if (!prev) fail("'!' needs a component or reference before it", t.column);
      if (pendingLink) fail("two '!' in a row", t.column);
      pendingLink = { from: prev, column: t.column };
      current = null;
      continue;
    }
    const ref = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/.exec(t.text);
    if (ref) {
      const [, comp, pad] = ref;
      if (pendingLink) {
        links.push({ from: pendingLink.from, to: { component: comp, eater: pad || 'default' }, column: t.column });
        pendingLink = null;
        prev = null;
      } else {
        prev = { component: comp, feeder: pad || 'default' };
      }
      current = null;
      continue;
    }
    const prop = /^([A-Za-z][A-Za-z0-9_-]*)=(.*)$/.exec(t.text);
    if (prop) {
      if (!current) fail(`property '${prop[1]}' does not follow a component`, t.column);
      if (prop[1] === 'name') {
        if (!/^[A-Za-z0-9_-]+$/.test(prop[2])) fail(`invalid name '${prop[2]}'`, t.column);
        if (components.some((c) => c.name === prop[2])) fail(`duplicate name '${prop[2]}'`, t.column);
        const old = current.name;
        current.name = prop[2];
        for (const l of links) {
          if (l.to.component === old) l.to.component = prop[2];
          if (l.from.component === old) l.from.component = prop[2];
        }
        if (prev?.component === old) prev = { ...prev, component: prop[2] };
      } else {
        current.properties[prop[1]] = value(prop[2]);
        current.propertyColumns[prop[1]] = t.column;
      }
      continue;
    }
    if (!/^[a-z][a-z0-9-]*$/.test(t.text)) fail(`unexpected '${t.text}'`, t.column);
    const n = (counters.get(t.text) ?? 0) + 1;
    counters.set(t.text, n);
    current = { name: n === 1 ? t.text : `${t.text}${n}`, type: t.text, properties: {}, propertyColumns: {}, column: t.column };
    components.push(current);
    if (pendingLink) {
      links.push({ from: pendingLink.from, to: { component: current.name, eater: 'default' }, column: pendingLink.column });
      pendingLink = null;
    }
    prev = { component: current.name, feeder: 'default' };
  }
  if (pendingLink) fail("'!' at the end links to nothing", pendingLink.column);
  for (const l of links) {
    for (const end of [l.from.component, l.to.component]) {
      if (!components.some((c) => c.name === end)) fail(`no component named '${end}'`, l.column);
    }
  }
  return { components, links };
}
