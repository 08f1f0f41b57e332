// The web admin of a fluxcast manager (served at /admin/): log in with the admin secret, see
// each flow as a graph (graph.ts), the workers, the players, a streamer's charts and listeners
// (panel.ts) and the recent events (events.ts); start, stop, restart components (only what the
// manager offers in their mood) and reload the planet. Updates arrive live through the API's
// event stream. Plain TypeScript compiled to ES modules, no framework, no build step beyond tsc.

import { $, el } from './dom.js';
import { EventList } from './events.js';
import { Flows } from './graph.js';
import { api, componentPath, refusal, setCsrf } from './http.js';
import { StreamerPanel, listenerUrls } from './panel.js';
import { Action, PlanetEvent, Status } from './types.js';

let state: Status | null = null;
let stream: EventSource | null = null;
let refetchTimer: number | null = null;
/** Components with a command under way: their buttons wait for the answer. */
const busy = new Set<string>();

const flows = new Flows({ act: (action, id) => void act(action, id), open: (id) => panel.open(id) });
const history = new EventList();
let panel: StreamerPanel;

let noticeTimer: number | null = null;

/** The server's answer, floating at the bottom: good news leaves after 10 s, errors when clicked. */
function notice(text: string, isError = false): void {
  const n = $('notice');
  n.hidden = false;
  n.textContent = text;
  n.className = isError ? 'error' : '';
  n.setAttribute('data-error', isError ? '1' : '0');
  if (noticeTimer !== null) clearTimeout(noticeTimer);
  noticeTimer = isError ? null : window.setTimeout(() => (n.hidden = true), 10000);
}

function showLogin(message = ''): void {
  stream?.close();
  stream = null;
  panel?.close();
  $('app').hidden = true;
  $('actions').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
}

const loggedOut = () => showLogin('your session ended: log in again');

async function start(): Promise<void> {
  const s = await api('GET', '/api/v1/session');
  if (s.status !== 200) return showLogin();
  setCsrf(s.json.csrf);
  $('login').hidden = true;
  $('app').hidden = false;
  $('actions').hidden = false;
  await refetch();
  connectEvents();
}

function connectEvents(): void {
  stream?.close();
  const es = new EventSource('/api/v1/events');
  stream = es;
  es.onopen = () => ($('live').className = 'live on');
  es.onerror = () => {
    $('live').className = 'live off';
    if (es.readyState === EventSource.CLOSED) setTimeout(() => void start(), 2000);
  };
  const data = (e: Event) => JSON.parse((e as MessageEvent).data) as PlanetEvent;
  es.addEventListener('status', (e) => {
    state = JSON.parse((e as MessageEvent).data) as Status;
    render();
    // Connected (again): the history up to now; the stream brings the rest, numbered alike.
    void api('GET', '/api/v1/events/history').then((r) => r.status === 200 && Array.isArray(r.json?.events) && history.add(r.json.events));
  });
  es.addEventListener('mood', (e) => {
    const ev = data(e);
    const c = state?.components.find((x) => x.id === ev.id);
    if (c && ev.mood) {
      c.mood = ev.mood;
      if (ev.actions) c.actions = ev.actions;
    }
    history.add([ev]);
    render();
    scheduleRefetch();
  });
  es.addEventListener('worker', (e) => {
    const ev = data(e);
    const w = state?.workers.find((x) => x.name === ev.name);
    if (w && ev.state) {
      w.state = ev.state;
      w.connected = ev.state === 'connected';
    }
    history.add([ev]);
    render();
    scheduleRefetch();
  });
  for (const type of ['command', 'restarts', 'reload']) {
    es.addEventListener(type, (e) => {
      history.add([data(e)]);
      scheduleRefetch();
    });
  }
  for (const type of ['message', 'clients', 'feed']) es.addEventListener(type, () => scheduleRefetch());
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
  if (r.status === 401) return loggedOut();
  if (r.status === 200) {
    state = r.json as Status;
    render();
  }
}

function render(): void {
  if (!state) return;
  $('planet-name').textContent = `· ${state.planet}`;
  flows.render(state.components, busy);
  panel.refresh();
  const tbody = $('workers').querySelector('tbody') as HTMLElement;
  tbody.replaceChildren(
    ...state.workers.map((w) =>
      el('tr', { 'data-worker': w.name, 'data-state': w.state }, el('td', {}, w.name), el('td', {}, w.state), el('td', {}, w.host ?? ''), el('td', {}, w.pid ? String(w.pid) : ''), el('td', {}, w.feedPort ? String(w.feedPort) : ''), el('td', {}, String(w.restarts))),
    ),
  );
  const players = $('players');
  const keep = new Map([...players.querySelectorAll<HTMLElement>('.player')].map((p) => [p.dataset.url ?? '', p]));
  const wanted = state.components.filter((c) => c.type === 'http-streamer' && ['happy', 'hungry'].includes(c.mood) && listenerUrls(c.details)[0]?.startsWith('http'));
  players.replaceChildren(
    ...wanted.map((c) => {
      const url = listenerUrls(c.details)[0];
      const existing = keep.get(url);
      if (existing) return existing; // a playing player keeps playing
      const media = /\.(webm|mkv|ogv)$/.test(url) ? el('video', { controls: '', preload: 'none', src: url }) : el('audio', { controls: '', preload: 'none', src: url });
      return el('div', { class: 'player', 'data-url': url }, el('div', {}, `${c.id}: `, el('a', { href: url }, url)), media);
    }),
  );
}

async function act(action: Action, id: string): Promise<void> {
  if (!confirm(`${action} ${id}?`)) return;
  busy.add(id);
  render();
  try {
    const r = await api('POST', `${componentPath(id)}/${action}`);
    if (r.status === 401) return loggedOut();
    // The new mood first (the buttons wait for it: no second click on what this one made
    // stale), then the answer: the page never shows "done" beside the old state.
    await refetch();
    notice(r.status === 200 ? r.json.message : refusal(r), r.status !== 200);
  } catch (e) {
    notice(`the manager did not answer: ${(e as Error).message}`, true);
  } finally {
    busy.delete(id);
    render();
  }
}

async function reloadPlanet(): Promise<void> {
  if (!confirm('Reload the planet file and apply the difference?')) return;
  const r = await api('POST', '/api/v1/planet/reload');
  if (r.status === 401) return loggedOut();
  if (r.status === 200) notice(`reloaded: added ${r.json.added.length}, removed ${r.json.removed.length}, restarted ${r.json.restarted.length}, moved ${r.json.moved.length}`);
  else notice(`${refusal(r)}\n${(r.json?.error?.issues ?? []).map((i: { path: string; message: string }) => `${i.path}: ${i.message}`).join('\n')}`, true);
  scheduleRefetch();
}

document.addEventListener('DOMContentLoaded', () => {
  panel = new StreamerPanel({ component: (id) => state?.components.find((c) => c.id === id), notice, loggedOut });
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
  $('notice').addEventListener('click', () => ($('notice').hidden = true));
  // Bit rates and data ages change without an event: a fresh picture every 5 s while shown.
  window.setInterval(() => {
    if (stream && !document.hidden) scheduleRefetch();
  }, 5000);
  void start();
});
