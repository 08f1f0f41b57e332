// Prometheus metrics for the whole planet, one scrape target on the manager: each scrape reads
// the planet's status (what the workers last reported over their ws links) and renders it with
// prom-client, beside the manager process's own CPU and memory. Counters are the workers'
// running totals (restarts, reconnects, bytes): a restart of a worker starts them over, which
// Prometheus' rate() handles as a counter reset. One label scheme: every metric of a component
// has `flow` and `component` (its full id, /flow/name); a worker's have `worker`.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { MOOD_NAMES } from '../actors/component/mood';
import { StatusJson } from '../protocol/status';

/** The catalogue (also in the README): name → help. */
export const METRICS = {
  fluxcast_component_mood: 'the component is in this mood (1) or not (0); one series per mood',
  fluxcast_component_restarts_total: 'supervised restarts of the component on its worker',
  fluxcast_worker_connected: 'the worker is logged in to the manager (1) or not (0)',
  fluxcast_eater_reconnects_total: 'supervised restarts of an eater, each one a reconnection of its feed',
  fluxcast_feed_last_data_age_seconds: 'seconds since an eater last received media on a feed (buffers; not events, filler or reconnections)',
  fluxcast_feed_silence_bound_seconds: "how long a feed may bring no media before its eater counts it as not flowing (the check interval fitted to the feed's cadence)",
  fluxcast_feed_buffers_lost_total: "buffers an eater lost on reconnections because its resume point had left the upstream feeder's queue",
  fluxcast_http_clients: 'listeners of an http-streamer now',
  fluxcast_http_clients_peak: 'most listeners an http-streamer had at once since it started',
  fluxcast_http_listener_seconds_total: 'seconds listened to an http-streamer, summed over its listeners (those connected until now)',
  fluxcast_http_bytes_sent_total: 'bytes an http-streamer sent to its listeners',
  fluxcast_http_clients_removed_total: 'listeners that left an http-streamer, by reason',
  fluxcast_hls_clients: 'addresses that fetched from an hls-streamer in the last 30 s',
  fluxcast_hls_requests_total: 'requests an hls-streamer answered (playlists, segments, parts)',
  fluxcast_hls_bytes_sent_total: 'bytes of playlists, segments and parts an hls-streamer sent',
  fluxcast_webrtc_viewers: 'viewers of a whep-streamer connected now',
  fluxcast_webrtc_viewers_peak: 'most viewers a whep-streamer had at once since it started',
  fluxcast_webrtc_viewer_seconds_total: 'seconds watched on a whep-streamer, summed over its viewers (those connected until now)',
  fluxcast_webrtc_bytes_sent_total: 'RTP payload and header bytes a whep-streamer sent to its viewers',
  fluxcast_webrtc_viewers_removed_total: 'viewers that left a whep-streamer, by reason (closed: DELETE; timeout: no STUN or RTCP; removed; error)',
  fluxcast_webrtc_keyframe_requests_total: 'keyframes the viewers of a whep-streamer asked for (PLI, FIR)',
  fluxcast_webrtc_keyframe_requests_upstream_total: 'keyframe requests a whep-streamer sent upstream (rate-limited)',
  fluxcast_source_connected: 'an ingest producer has a source sending (1) or not (0)',
  fluxcast_source_bytes_received: 'bytes an ingest producer received from its current source (0 without one)',
  fluxcast_gdp_errors_total: 'feed connections that ended on a GDP error, by code',
  fluxcast_worker_cpu_seconds_total: 'CPU seconds a worker process used',
  fluxcast_worker_resident_memory_bytes: 'resident memory of a worker process',
  fluxcast_worker_heap_used_bytes: 'V8 heap in use in a worker process',
  fluxcast_worker_open_fds: 'open file descriptors of a worker process',
  fluxcast_worker_event_loop_lag_seconds: "p99 of a worker process's event loop delay since its previous report",
  fluxcast_worker_up_restarts_total: 'times `fluxcast up` started a worker process again after it died',
} as const;

export class PlanetMetrics {
  readonly registry = new Registry();

  constructor(status: () => Promise<StatusJson>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'fluxcast_manager_' });
    let snapshot: StatusJson | null = null;
    // One status per scrape, shared by every metric's collect().
    const g = (name: keyof typeof METRICS, labelNames: string[], fill: (m: Gauge, s: StatusJson) => void) =>
      new Gauge({
        name,
        help: METRICS[name],
        labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          if (snapshot) fill(this, snapshot);
        },
      });
    const c = (name: keyof typeof METRICS, labelNames: string[], fill: (m: Counter, s: StatusJson) => void) =>
      new Counter({
        name,
        help: METRICS[name],
        labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          if (snapshot) fill(this, snapshot);
        },
      });
    this.refresh = async () => {
      snapshot = await status();
    };
    g('fluxcast_component_mood', ['flow', 'component', 'type', 'worker', 'mood'], (m, s) => {
      for (const x of s.components) for (const mood of MOOD_NAMES) m.set({ flow: x.flow, component: x.id, type: x.type, worker: x.worker, mood }, x.mood === mood ? 1 : 0);
    });
    c('fluxcast_component_restarts_total', ['flow', 'component'], (m, s) => {
      for (const x of s.components) m.inc({ flow: x.flow, component: x.id }, x.restarts);
    });
    g('fluxcast_worker_connected', ['worker'], (m, s) => {
      for (const w of s.workers) m.set({ worker: w.name }, w.connected ? 1 : 0);
    });
    c('fluxcast_eater_reconnects_total', ['flow', 'component', 'feed'], (m, s) => {
      for (const x of s.components) for (const e of x.eaters) for (const f of e.feeds) m.inc({ flow: x.flow, component: x.id, feed: f.feedId }, f.restarts);
    });
    g('fluxcast_feed_last_data_age_seconds', ['flow', 'component', 'feed'], (m, s) => {
      for (const x of s.components) for (const e of x.eaters) for (const f of e.feeds) if (f.lastDataAgoMs !== null) m.set({ flow: x.flow, component: x.id, feed: f.feedId }, f.lastDataAgoMs / 1000);
    });
    g('fluxcast_feed_silence_bound_seconds', ['flow', 'component', 'feed'], (m, s) => {
      for (const x of s.components) for (const e of x.eaters) for (const f of e.feeds) if (f.boundMs !== undefined) m.set({ flow: x.flow, component: x.id, feed: f.feedId }, f.boundMs / 1000);
    });
    c('fluxcast_feed_buffers_lost_total', ['flow', 'component', 'feed'], (m, s) => {
      for (const x of s.components) for (const e of x.eaters) for (const f of e.feeds) if (f.buffersLost !== undefined) m.inc({ flow: x.flow, component: x.id, feed: f.feedId }, f.buffersLost);
    });
    const streamers = (s: StatusJson) => s.components.filter((x) => x.type === 'http-streamer' && x.details);
    const mount = (url: string | undefined) => (url ? url.replace(/^[a-z]+:\/\/[^/]*/, '') || '/' : '');
    const http = (x: StatusJson['components'][number]) => ({ flow: x.flow, component: x.id, mount: mount(x.details?.url) });
    g('fluxcast_http_clients', ['flow', 'component', 'mount'], (m, s) => {
      for (const x of streamers(s)) m.set(http(x), x.details?.clients ?? 0);
    });
    g('fluxcast_http_clients_peak', ['flow', 'component', 'mount'], (m, s) => {
      for (const x of streamers(s)) m.set(http(x), x.details?.peakClients ?? 0);
    });
    c('fluxcast_http_listener_seconds_total', ['flow', 'component', 'mount'], (m, s) => {
      for (const x of streamers(s)) m.inc(http(x), x.details?.listenerSeconds ?? 0);
    });
    c('fluxcast_http_bytes_sent_total', ['flow', 'component', 'mount'], (m, s) => {
      for (const x of streamers(s)) m.inc(http(x), x.details?.bytesServed ?? 0);
    });
    c('fluxcast_http_clients_removed_total', ['flow', 'component', 'reason'], (m, s) => {
      for (const x of streamers(s)) for (const [reason, n] of Object.entries(x.details?.removed ?? {})) m.inc({ flow: x.flow, component: x.id, reason }, n);
    });
    const hls = (s: StatusJson) => s.components.filter((x) => x.type === 'hls-streamer' && x.details);
    g('fluxcast_hls_clients', ['flow', 'component', 'mount'], (m, s) => {
      for (const x of hls(s)) m.set(http(x), x.details?.clients ?? 0);
    });
    c('fluxcast_hls_requests_total', ['flow', 'component', 'mount'], (m, s) => {
      for (const x of hls(s)) m.inc(http(x), x.details?.requests ?? 0);
    });
    c('fluxcast_hls_bytes_sent_total', ['flow', 'component', 'mount'], (m, s) => {
      for (const x of hls(s)) m.inc(http(x), x.details?.bytesServed ?? 0);
    });
    const wheps = (s: StatusJson) => s.components.filter((x) => x.type === 'whep-streamer' && x.details);
    g('fluxcast_webrtc_viewers', ['flow', 'component', 'mount'], (m, s) => {
      for (const x of wheps(s)) m.set(http(x), x.details?.clients ?? 0);
    });
    g('fluxcast_webrtc_viewers_peak', ['flow', 'component', 'mount'], (m, s) => {
      for (const x of wheps(s)) m.set(http(x), x.details?.peakClients ?? 0);
    });
    c('fluxcast_webrtc_viewer_seconds_total', ['flow', 'component', 'mount'], (m, s) => {
      for (const x of wheps(s)) m.inc(http(x), x.details?.listenerSeconds ?? 0);
    });
    c('fluxcast_webrtc_bytes_sent_total', ['flow', 'component', 'mount'], (m, s) => {
      for (const x of wheps(s)) m.inc(http(x), x.details?.bytesServed ?? 0);
    });
    c('fluxcast_webrtc_viewers_removed_total', ['flow', 'component', 'reason'], (m, s) => {
      for (const x of wheps(s)) for (const [reason, n] of Object.entries(x.details?.removed ?? {})) m.inc({ flow: x.flow, component: x.id, reason }, n);
    });
    c('fluxcast_webrtc_keyframe_requests_total', ['flow', 'component'], (m, s) => {
      for (const x of wheps(s)) m.inc({ flow: x.flow, component: x.id }, x.details?.keyframeRequests ?? 0);
    });
    c('fluxcast_webrtc_keyframe_requests_upstream_total', ['flow', 'component'], (m, s) => {
      for (const x of wheps(s)) m.inc({ flow: x.flow, component: x.id }, x.details?.keyframeRequestsUpstream ?? 0);
    });
    const sources = (s: StatusJson) => s.components.filter((x) => x.details?.source);
    g('fluxcast_source_connected', ['flow', 'component'], (m, s) => {
      for (const x of sources(s)) m.set({ flow: x.flow, component: x.id }, x.details?.source?.connected ? 1 : 0);
    });
    g('fluxcast_source_bytes_received', ['flow', 'component'], (m, s) => {
      for (const x of sources(s)) m.set({ flow: x.flow, component: x.id }, x.details?.source?.bytesIn ?? 0);
    });
    c('fluxcast_gdp_errors_total', ['flow', 'component', 'code'], (m, s) => {
      for (const x of s.components) {
        const sums = new Map<string, number>();
        for (const e of x.eaters) {
          for (const f of e.feeds) {
            for (const [code, n] of Object.entries(f.errors ?? {})) if (code.startsWith('FLUX_GDP_')) sums.set(code, (sums.get(code) ?? 0) + n);
          }
        }
        for (const [code, n] of sums) m.inc({ flow: x.flow, component: x.id, code }, n);
      }
    });
    c('fluxcast_worker_cpu_seconds_total', ['worker'], (m, s) => {
      for (const w of s.workers) if (w.process?.cpuSeconds !== undefined) m.inc({ worker: w.name }, w.process.cpuSeconds);
    });
    g('fluxcast_worker_resident_memory_bytes', ['worker'], (m, s) => {
      for (const w of s.workers) if (w.process?.rssBytes !== undefined) m.set({ worker: w.name }, w.process.rssBytes);
    });
    g('fluxcast_worker_heap_used_bytes', ['worker'], (m, s) => {
      for (const w of s.workers) if (w.process?.heapUsedBytes !== undefined) m.set({ worker: w.name }, w.process.heapUsedBytes);
    });
    g('fluxcast_worker_open_fds', ['worker'], (m, s) => {
      for (const w of s.workers) if (w.process?.openFds !== undefined) m.set({ worker: w.name }, w.process.openFds);
    });
    g('fluxcast_worker_event_loop_lag_seconds', ['worker'], (m, s) => {
      for (const w of s.workers) if (w.process?.eventLoopLagSeconds !== undefined) m.set({ worker: w.name }, w.process.eventLoopLagSeconds);
    });
    c('fluxcast_worker_up_restarts_total', ['worker'], (m, s) => {
      for (const w of s.workers) if (w.process?.upRestarts) m.inc({ worker: w.name }, w.process.upRestarts);
    });
  }

  /** Takes the status the next render reads. */
  readonly refresh: () => Promise<void>;

  async render(): Promise<{ contentType: string; text: string }> {
    await this.refresh();
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
