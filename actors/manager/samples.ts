// Each streamer's audience over the last 30 minutes, for the web admin's charts (GET
// /api/v1/components/{flow}/{name}/history): every interval the manager samples what the
// workers last reported (listeners, outgoing bit/s) into a bounded ring per streamer. It reads
// reports, it never asks a worker. Always: a ring holds at most 30 min / interval samples, and
// a component that is not running (sleeping, lost) is sampled as 0 listeners, 0 bit/s.

import { Mood, MOODS, MOOD_NAMES } from '../component/mood';

/** What the charts show: the last 30 minutes. */
export const SAMPLE_WINDOW_MS = 30 * 60 * 1000;
export const DEFAULT_SAMPLE_INTERVAL_MS = 10000;
/** Component types that serve listeners (their reports carry `clients`). */
export const STREAMER_TYPES: ReadonlySet<string> = new Set(['http-streamer', 'hls-streamer', 'whep-streamer']);

export interface StreamerSample {
  /** ms since the epoch */
  t: number;
  clients: number;
  /** bit/s sent to listeners (an hls-streamer's from its bytes served between two samples) */
  bitrateOut: number;
  mood: Mood;
}

/** What the sampler reads of a component: its type, mood and last reported details. */
export interface SampledComponent {
  id: string;
  type: string;
  mood: Mood;
  details?: { clients?: number; bitrateOut?: number; bytesServed?: number } | null;
}

/** A fixed-size ring of samples in typed arrays: no allocation per sample. */
export class SampleRing {
  private readonly t: Float64Array;
  private readonly clients: Uint32Array;
  private readonly bitrate: Float64Array;
  private readonly mood: Uint8Array;
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a sample ring holds at least 1 sample (got ${capacity})`);
    this.t = new Float64Array(capacity);
    this.clients = new Uint32Array(capacity);
    this.bitrate = new Float64Array(capacity);
    this.mood = new Uint8Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(s: StreamerSample): void {
    const i = (this.start + this.size) % this.capacity;
    this.t[i] = s.t;
    this.clients[i] = Math.max(0, Math.min(0xffffffff, Math.round(s.clients)));
    this.bitrate[i] = Math.max(0, s.bitrateOut);
    this.mood[i] = MOODS[s.mood];
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** The samples taken after `since` (ms; all when omitted), oldest first. */
  since(since = -Infinity): StreamerSample[] {
    const out: StreamerSample[] = [];
    for (let k = 0; k < this.size; k++) {
      const i = (this.start + k) % this.capacity;
      if (this.t[i] <= since) continue;
      out.push({ t: this.t[i], clients: this.clients[i], bitrateOut: this.bitrate[i], mood: MOOD_NAMES[this.mood[i]] });
    }
    return out;
  }
}

export function isStreamer(c: Pick<SampledComponent, 'type' | 'details'>): boolean {
  return STREAMER_TYPES.has(c.type) || typeof c.details?.clients === 'number';
}

export class StreamerSamples {
  private readonly rings = new Map<string, SampleRing>();
  /** Bytes served at the last sample, for streamers that report no bit rate. */
  private readonly lastBytes = new Map<string, { t: number; bytes: number }>();
  private timer: NodeJS.Timeout | null = null;
  readonly capacity: number;

  constructor(readonly intervalMs = DEFAULT_SAMPLE_INTERVAL_MS) {
    if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new RangeError(`the sample interval is a positive number of ms (got ${intervalMs})`);
    this.capacity = Math.ceil(SAMPLE_WINDOW_MS / intervalMs);
  }

  /** Takes one sample of every streamer among `components`; forgets streamers no longer there. */
  sample(components: Iterable<SampledComponent>, now = Date.now()): void {
    const seen = new Set<string>();
    for (const c of components) {
      if (!isStreamer(c)) continue;
      seen.add(c.id);
      let ring = this.rings.get(c.id);
      if (!ring) this.rings.set(c.id, (ring = new SampleRing(this.capacity)));
      const running = c.mood !== 'sleeping' && c.mood !== 'lost';
      const d = running ? c.details : null;
      ring.push({ t: now, clients: d?.clients ?? 0, bitrateOut: this.bitrate(c.id, d, now), mood: c.mood });
    }
    for (const id of [...this.rings.keys()]) {
      if (seen.has(id)) continue;
      this.rings.delete(id);
      this.lastBytes.delete(id);
    }
  }

  private bitrate(id: string, d: SampledComponent['details'], now: number): number {
    if (typeof d?.bitrateOut === 'number') return d.bitrateOut;
    const bytes = d?.bytesServed;
    if (typeof bytes !== 'number') {
      this.lastBytes.delete(id);
      return 0;
    }
    const before = this.lastBytes.get(id);
    this.lastBytes.set(id, { t: now, bytes });
    // A restarted streamer counts from 0 again: no rate until the next sample.
    if (!before || bytes < before.bytes || now <= before.t) return 0;
    return Math.round(((bytes - before.bytes) * 8 * 1000) / (now - before.t));
  }

  /** The samples of streamer `id` after `since` (ms), or null when it is no streamer sampled here. */
  history(id: string, since?: number): StreamerSample[] | null {
    return this.rings.get(id)?.since(since) ?? null;
  }

  /** Samples every interval from `read` until stop(). */
  start(read: () => Iterable<SampledComponent>): void {
    this.stop();
    this.sample(read());
    this.timer = setInterval(() => this.sample(read()), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
