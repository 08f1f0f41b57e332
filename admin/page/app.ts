// The web admin of a fluxcast manager (served at /admin/): log in with the admin secret, see
// each flow as a graph (components as boxes coloured by mood, feeds as arrows), the workers,
// listener counts and players; start, stop, restart components and reload the planet. Updates
// arrive live through the API's event stream. Plain TypeScript compiled to a plain script.

interface Feed { feedId: string; connected: boolean; state: string; restarts: number }
interface ComponentView {
  id: string; flow: string; name: string; type: string; worker: string; mood: string; restarts: number;
  eaters: Array<{ name: string; feeds: Feed[] }>;
  messages: Array<{ level: string; text: string; time: number }>;
  details?: { url?: string; clients?: number; bitrateOut?: number; routes?: Array<{ mount: string; owner: string }> };
}
interface WorkerView { name: string; connected: boolean; state: string; host: string | null; pid: number | null; feedPort: number | null; restarts: number }
interface Status { planet: string; workers: WorkerView[]; components: ComponentView[] }

let csrf: string | null = null;
let state: Status | null = null;
let events: EventSource | null = null;
let refetchTimer: number | null = null;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function el(tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read field by field
type Json = any;

async function api(method: string, path: string, body?: string): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  const r = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  const json: Json = await r.json().catch(() => null);
  return { status: r.status, json };
}

function notice(text: string, isError = false): void {
  const n = $('notice');
  n.hidden = false;
  n.textContent = text;
  n.className = isError ? 'error' : '';
  n.setAttribute('data-error', isError ? '1' : '0');
}

function showLogin(message = ''): void {
  events?.close();
  events = null;
  $('app').hidden = true;
  $('actions').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
}

async function start(): Promise<void> {
  const s = await api('GET', '/api/v1/session');
  if (s.status !== 200) return showLogin();
  csrf = s.json.csrf;
  $('login').hidden = true;
  $('app').hidden = false;
  $('actions').hidden = false;
  await refetch();
  connectEvents();
}

function connectEvents(): void {
  events?.close();
  const es = new EventSource('/api/v1/events');
  events = es;
  es.onopen = () => ($('live').className = 'live on');
  es.onerror = () => {
    $('live').className = 'live off';
    if (es.readyState === EventSource.CLOSED) setTimeout(() => void start(), 2000);
  };
  es.addEventListener('status', (e) => {
    state = JSON.parse((e as MessageEvent).data) as Status;
    render();
  });
  es.addEventListener('mood', (e) => {
    const ev = JSON.parse((e as MessageEvent).data) as { id: string; mood: string };
    const c = state?.components.find((x) => x.id === ev.id);
    if (c) c.mood = ev.mood;
    render();
    scheduleRefetch();
  });
  es.addEventListener('worker', (e) => {
    const ev = JSON.parse((e as MessageEvent).data) as { name: string; state: string };
    const w = state?.workers.find((x) => x.name === ev.name);
    if (w) {
      w.state = ev.state;
      w.connected = ev.state === 'connected';
    }
    render();
    scheduleRefetch();
  });
  for (const type of ['message', 'clients', 'restarts', 'reload']) es.addEventListener(type, () => scheduleRefetch());
}

function scheduleRefetch(): void {
  if (refetchTimer !== null) return;
  refetchTimer = window.setTimeout(() => {
    refetchTimer = null;
    void refetch();
  }, 300);
}

async function refetch(): Promise<void> {
  const r = await api('GET', '/api/v1/planet');
  if (r.status === 401) return showLogin('your session ended: log in again');
  if (r.status === 200) {
    state = r.json as Status;
    render();
  }
}

/** Columns by feed depth: producers first, each consumer right of what it eats. */
function layers(components: ComponentView[]): ComponentView[][] {
  const byId = new Map(components.map((c) => [c.id, c]));
  const depth = new Map<string, number>();
  const visit = (c: ComponentView, seen: Set<string>): number => {
    if (depth.has(c.id)) return depth.get(c.id) as number;
    if (seen.has(c.id)) return 0;
    seen.add(c.id);
    let d = 0;
    for (const e of c.eaters) for (const f of e.feeds) {
      const up = byId.get(f.feedId.slice(0, f.feedId.lastIndexOf(':')));
      if (up) d = Math.max(d, visit(up, seen) + 1);
    }
    depth.set(c.id, d);
    return d;
  };
  for (const c of components) visit(c, new Set());
  const cols: ComponentView[][] = [];
  for (const c of components) (cols[depth.get(c.id) ?? 0] ??= []).push(c);
  return cols.filter(Boolean);
}

function componentBox(c: ComponentView): HTMLElement {
  const last = c.messages[c.messages.length - 1];
  const d = c.details;
  const buttons = el('div', { class: 'buttons' });
  for (const action of ['start', 'stop', 'restart']) {
    const b = el('button', { type: 'button', 'data-action': action, 'data-id': c.id }, action) as HTMLButtonElement;
    b.onclick = () => void act(action, c.id);
    buttons.append(b);
  }
  return el(
    'div',
    { class: `component mood-${c.mood}`, id: `c-${c.id.replace(/[^A-Za-z0-9_-]/g, '_')}`, 'data-id': c.id, 'data-mood': c.mood },
    el('div', { class: 'name' }, `${c.name} `, el('span', { class: 'mood' }, c.mood)),
    el('div', { class: 'meta' }, `${c.type} on ${c.worker} · restarts ${c.restarts}`),
    ...(d?.clients !== undefined ? [el('div', { class: 'meta' }, `${d.clients} listener(s) · ${Math.round((d.bitrateOut ?? 0) / 1000)} kbit/s out`)] : []),
    ...(d?.routes ? [el('div', { class: 'meta' }, `routes: ${d.routes.map((r) => `${r.mount} → ${r.owner}`).join(', ') || '(none)'}`)] : []),
    ...(last ? [el('div', { class: 'msg' }, `${last.level}: ${last.text}`)] : []),
    buttons,
  );
}

function drawArrows(graph: HTMLElement, flow: ComponentView[]): void {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  const box = graph.getBoundingClientRect();
  svg.setAttribute('width', String(graph.scrollWidth));
  svg.setAttribute('height', String(graph.scrollHeight));
  // Arrowheads: green for a flowing feed, grey for one that is down.
  const defs = document.createElementNS('http://www.w3.org/2000/svg', 'defs');
  for (const [name, colour] of [['up', '#2e7d32'], ['down', '#bdbdbd']]) {
    const marker = document.createElementNS('http://www.w3.org/2000/svg', 'marker');
    for (const [k, v] of Object.entries({ id: `arrow-${name}`, viewBox: '0 0 10 10', refX: '10', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' })) marker.setAttribute(k, v);
    const tip = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    tip.setAttribute('d', 'M 0 0 L 10 5 L 0 10 z');
    tip.setAttribute('fill', colour);
    marker.append(tip);
    defs.append(marker);
  }
  svg.append(defs);
  const find = (id: string) => graph.querySelector(`[data-id="${CSS.escape(id)}"]`) as HTMLElement | null;
  for (const c of flow) {
    const to = find(c.id);
    for (const e of c.eaters) for (const f of e.feeds) {
      const from = find(f.feedId.slice(0, f.feedId.lastIndexOf(':')));
      if (!from || !to) continue;
      const a = from.getBoundingClientRect();
      const b = to.getBoundingClientRect();
      const x1 = a.right - box.left + graph.scrollLeft, y1 = a.top + a.height / 2 - box.top;
      const x2 = b.left - box.left + graph.scrollLeft, y2 = b.top + b.height / 2 - box.top;
      const line = document.createElementNS('http://www.w3.org/2000/svg', 'path');
      line.setAttribute('d', `M${x1},${y1} C${x1 + 30},${y1} ${x2 - 30},${y2} ${x2},${y2}`);
      line.setAttribute('fill', 'none');
      line.setAttribute('stroke', f.connected ? '#2e7d32' : '#bdbdbd');
      line.setAttribute('stroke-width', '2');
      line.setAttribute('marker-end', `url(#arrow-${f.connected ? 'up' : 'down'})`);
      line.setAttribute('data-feed', f.feedId);
      svg.append(line);
    }
  }
  graph.prepend(svg);
}

function render(): void {
  if (!state) return;
  $('planet-name').textContent = `· ${state.planet}`;
  const flows = $('flows');
  flows.replaceChildren();
  const byFlow = new Map<string, ComponentView[]>();
  for (const c of state.components) (byFlow.get(c.flow) ?? byFlow.set(c.flow, []).get(c.flow))!.push(c);
  for (const [name, comps] of byFlow) {
    const columns = el('div', { class: 'columns' }, ...layers(comps).map((col) => el('div', { class: 'column' }, ...col.map(componentBox))));
    const graph = el('div', { class: 'graph' }, columns);
    flows.append(el('section', { class: 'flow', 'data-flow': name }, el('h2', {}, `flow ${name}`), graph));
    requestAnimationFrame(() => drawArrows(graph, comps));
  }
  const tbody = $('workers').querySelector('tbody') as HTMLElement;
  tbody.replaceChildren(
    ...state.workers.map((w) =>
      el('tr', { 'data-worker': w.name, 'data-state': w.state }, el('td', {}, w.name), el('td', {}, w.state), el('td', {}, w.host ?? ''), el('td', {}, w.pid ? String(w.pid) : ''), el('td', {}, w.feedPort ? String(w.feedPort) : ''), el('td', {}, String(w.restarts))),
    ),
  );
  const players = $('players');
  const keep = new Map([...players.querySelectorAll<HTMLElement>('.player')].map((p) => [p.dataset.url ?? '', p]));
  const wanted = state.components.filter((c) => c.type === 'http-streamer' && c.details?.url?.startsWith('http'));
  players.replaceChildren(
    ...wanted.map((c) => {
      const url = c.details?.url as string;
      const existing = keep.get(url);
      if (existing) return existing; // a playing player keeps playing
      const media = /\.(webm|mkv|ogv)$/.test(url) ? el('video', { controls: '', preload: 'none', src: url }) : el('audio', { controls: '', preload: 'none', src: url });
      return el('div', { class: 'player', 'data-url': url }, el('div', {}, `${c.id}: `, el('a', { href: url }, url)), media);
    }),
  );
}

async function act(action: string, id: string): Promise<void> {
  if (!confirm(`${action} ${id}?`)) return;
  const r = await api('POST', `/api/v1/components${id}/${action}`);
  if (r.status === 401) return showLogin('your session ended: log in again');
  notice(r.status === 200 ? r.json.message : `${r.json?.error?.code}: ${r.json?.error?.message}`, r.status !== 200);
  scheduleRefetch();
}

async function reloadPlanet(): Promise<void> {
  if (!confirm('Reload the planet file and apply the difference?')) return;
  const r = await api('POST', '/api/v1/planet/reload');
  if (r.status === 200) notice(`reloaded: added ${r.json.added.length}, removed ${r.json.removed.length}, restarted ${r.json.restarted.length}, moved ${r.json.moved.length}`);
  else notice(`${r.json?.error?.code}: ${r.json?.error?.message}\n${(r.json?.error?.issues ?? []).map((i: { path: string; message: string }) => `${i.path}: ${i.message}`).join('\n')}`, true);
  scheduleRefetch();
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const secret = ($('secret') as HTMLInputElement).value;
    void api('POST', '/admin/login', new URLSearchParams({ secret }).toString()).then((r) => {
      if (r.status === 200) {
        ($('secret') as HTMLInputElement).value = '';
        void start();
      } else showLogin(r.json?.error?.message ?? `refused (${r.status})`);
    });
  });
  $('logout').addEventListener('click', () => void api('POST', '/admin/logout').then(() => showLogin()));
  $('reload').addEventListener('click', () => void reloadPlanet());
  void start();
});
