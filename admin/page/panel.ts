// A streamer's panel in the web admin (opened by clicking its box): the URLs listeners use, its
// listeners and outgoing kbit/s over the last 30 minutes (the manager's samples, polled), and for
// an http-streamer the table of its listeners with a kick button each. A manager without the
// listener routes (404 FLUX_API_NOT_FOUND) gets a clear message instead of the table.

import { $, bytes, duration, el } from './dom.js';
import { WINDOW_MS, timeChart } from './chart.js';
import { api, componentPath, refusal } from './http.js';
import { ComponentView, Details, Listener, Sample } from './types.js';

const LISTENERS_EVERY_MS = 2000;

/** Every URL a listener can use, the primary first: `details.urls`, else `details.url`. */
export function listenerUrls(d: Details | undefined): string[] {
  if (Array.isArray(d?.urls) && d.urls.length) return d.urls.filter((u) => typeof u === 'string');
  return d?.url ? [d.url] : [];
}

export interface PanelDeps {
  component(id: string): ComponentView | undefined;
  notice(text: string, isError?: boolean): void;
  loggedOut(): void;
}

export class StreamerPanel {
  private id: string | null = null;
  private samples: Sample[] = [];
  private intervalMs = 10000;
  private historyTimer: number | null = null;
  private listenersTimer: number | null = null;
  /** The listener routes are unknown to this manager: not asked again until the panel reopens. */
  private noListenerApi = false;

  constructor(private readonly deps: PanelDeps) {
    $('panel-close').addEventListener('click', () => this.close());
  }

  get openId(): string | null {
    return this.id;
  }

  open(id: string): void {
    const c = this.deps.component(id);
    if (!c) return;
    this.close();
    this.id = id;
    this.samples = [];
    this.noListenerApi = false;
    const panel = $('panel');
    panel.hidden = false;
    panel.setAttribute('data-id', id);
    $('panel-title').textContent = `${c.type} ${c.id}`;
    $('chart-listeners').replaceChildren();
    $('chart-bitrate').replaceChildren();
    const hasList = c.type === 'http-streamer' || c.type === 'whep-streamer';
    $('listeners-body').replaceChildren(el('p', { class: 'muted' }, hasList ? 'loading…' : 'An hls-streamer counts its listeners by address over the last 30 s: there is no connection to list or kick.'));
    this.refresh();
    panel.scrollIntoView({ block: 'nearest' });
    void this.pollHistory();
    if (hasList) void this.pollListeners();
  }

  close(): void {
    if (this.historyTimer !== null) clearTimeout(this.historyTimer);
    if (this.listenersTimer !== null) clearTimeout(this.listenersTimer);
    this.historyTimer = this.listenersTimer = null;
    this.id = null;
    $('panel').hidden = true;
    $('panel').removeAttribute('data-id');
  }

  /** The component changed (a status or event): its mood, audience and URLs again. */
  refresh(): void {
    if (!this.id) return;
    const c = this.deps.component(this.id);
    if (!c) return this.close(); // gone with a reload
    const d = c.details;
    this.meta(c);
    $('panel').setAttribute('data-mood', c.mood);
    const urls = listenerUrls(d);
    const list = $('panel-urls');
    const now = [...list.querySelectorAll('li[data-url]')].map((li) => li.getAttribute('data-url'));
    if (JSON.stringify(now) !== JSON.stringify(urls)) {
      // Links only for http(s): a worker's report is data, never a script to run.
      const link = (u: string) => (/^https?:\/\//i.test(u) ? el('a', { href: u, target: '_blank', rel: 'noopener' }, u) : el('code', {}, u));
      list.replaceChildren(...(urls.length ? urls.map((u, i) => el('li', { 'data-url': u }, link(u), i === 0 && urls.length > 1 ? ' (primary)' : '')) : [el('li', { class: 'muted' }, 'no URL yet (not running)')]));
    }
  }

  /** Mood and worker from the status; the audience now from the newest sample (the status's bit rate is refreshed less often). */
  private meta(c: ComponentView): void {
    const s = this.samples[this.samples.length - 1];
    const fresh = s && s.t > Date.now() - 2 * this.intervalMs - 2000;
    const clients = fresh ? s.clients : c.details?.clients ?? 0;
    const bitrate = fresh ? s.bitrateOut : c.details?.bitrateOut ?? 0;
    $('panel-meta').textContent = `${c.mood} · on ${c.worker} · ${clients} listener(s) now · ${Math.round(bitrate / 1000)} kbit/s out`;
  }

  private async pollHistory(): Promise<void> {
    const id = this.id;
    if (!id) return;
    const last = this.samples[this.samples.length - 1]?.t;
    const r = await api('GET', `${componentPath(id)}/history${last !== undefined ? `?since=${last}` : ''}`).catch(() => null);
    if (this.id !== id) return;
    if (r?.status === 401) return this.deps.loggedOut();
    if (r?.status === 200 && Array.isArray(r.json?.samples)) {
      this.intervalMs = Number(r.json.intervalMs) > 0 ? Number(r.json.intervalMs) : this.intervalMs;
      const from = Date.now() - WINDOW_MS;
      this.samples = [...this.samples, ...(r.json.samples as Sample[])].filter((s) => s.t >= from);
      this.drawCharts();
      const c = this.deps.component(id);
      if (c) this.meta(c);
    } else if (r) {
      $('chart-listeners').replaceChildren(el('p', { class: 'error' }, refusal(r)));
    }
    this.historyTimer = window.setTimeout(() => void this.pollHistory(), Math.min(10000, Math.max(1000, this.intervalMs)));
  }

  private drawCharts(): void {
    const now = Date.now();
    const common = { intervalMs: this.intervalMs, now };
    const listeners = $('chart-listeners');
    const bitrate = $('chart-bitrate');
    listeners.replaceChildren(timeChart(this.samples, { ...common, width: listeners.clientWidth || 300, name: 'listeners', label: 'listeners', value: (s) => s.clients, format: (v) => String(Math.round(v)), steps: true }));
    bitrate.replaceChildren(timeChart(this.samples, { ...common, width: bitrate.clientWidth || 300, name: 'bitrate', label: 'kbit/s out', value: (s) => s.bitrateOut / 1000, format: (v) => (v >= 10 || v === 0 ? String(Math.round(v)) : v.toFixed(1)), steps: false }));
    const span = listeners.querySelector('svg')?.getAttribute('data-span-min');
    $('caption-listeners').textContent = `Listeners, last ${span} min`;
    $('caption-bitrate').textContent = `kbit/s out, last ${span} min`;
  }

  private async pollListeners(): Promise<void> {
    const id = this.id;
    if (!id || this.noListenerApi) return;
    const r = await api('GET', `${componentPath(id)}/listeners`).catch(() => null);
    if (this.id !== id) return;
    if (r?.status === 401) return this.deps.loggedOut();
    const body = $('listeners-body');
    if (r?.status === 404 && r.json?.error?.code === 'FLUX_API_NOT_FOUND') {
      this.noListenerApi = true;
      body.replaceChildren(el('p', { class: 'notice-box', 'data-unavailable': '1' }, 'This manager does not list listeners (it does not know GET …/listeners): upgrade fluxcast to see and kick them.'));
      return;
    }
    if (r?.status === 200 && Array.isArray(r.json?.listeners)) this.table(id, r.json.listeners as Listener[]);
    else body.replaceChildren(el('p', { class: 'error' }, r ? refusal(r) : 'the manager did not answer'));
    this.listenersTimer = window.setTimeout(() => void this.pollListeners(), LISTENERS_EVERY_MS);
  }

  private table(id: string, listeners: Listener[]): void {
    const now = Date.now();
    const rows = listeners.map((l) => {
      const kick = el('button', { type: 'button', 'data-kick': l.id }, 'kick');
      kick.addEventListener('click', () => void this.kick(id, l));
      return el(
        'tr',
        { 'data-listener': l.id },
        el('td', {}, String(l.address)),
        el('td', { class: 'ua', title: String(l.userAgent ?? '') }, String(l.userAgent ?? '')),
        el('td', { title: new Date(l.connectedSince).toISOString() }, duration(now - l.connectedSince)),
        el('td', {}, bytes(Number(l.bytes) || 0)),
        el('td', {}, kick),
      );
    });
    const table = el('table', { class: 'listeners' }, el('thead', {}, el('tr', {}, ...['address', 'player', 'connected', 'sent', ''].map((h) => el('th', {}, h)))), el('tbody', {}, ...rows));
    $('listeners-body').replaceChildren(listeners.length ? table : el('p', { class: 'muted', 'data-empty': '1' }, 'nobody is listening'));
  }

  private async kick(id: string, l: Listener): Promise<void> {
    if (!confirm(`Disconnect the listener at ${l.address} (${l.userAgent || 'unknown player'})?`)) return;
    const r = await api('DELETE', `${componentPath(id)}/listeners/${encodeURIComponent(l.id)}`);
    if (r.status === 401) return this.deps.loggedOut();
    this.deps.notice(r.status === 200 ? `disconnected the listener at ${l.address}` : refusal(r), r.status !== 200);
    if (this.listenersTimer !== null) clearTimeout(this.listenersTimer);
    if (this.id === id) void this.pollListeners();
  }
}
