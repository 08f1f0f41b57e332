// The listeners of one stream server and the audience statistics built from them: who is
// connected (a stable string id, address, user agent, since when, bytes sent), the peak and
// when it was reached, listener-seconds (those that left, plus those still connected, up to
// now), and the in/out bitrates sampled once a second. Owns no socket: a kick asks the sender
// that serves the listener to remove it. Lists are bounded (MAX_LISTED, oldest first).

import { randomBytes } from 'crypto';
import { MultiClientSender } from '../sender/multi-client-sender';
import { LISTENER_ID, MAX_LISTED } from '../../protocol/wire';

export { LISTENER_ID, MAX_LISTED };

/** One listener as the API, the CLI and the admin page show it. */
export interface ListenerInfo {
  /** Stable for the listener's whole stay; unique within the streamer (`<instance>-<n>`). */
  id: string;
  address: string;
  userAgent: string;
  /** ms since the epoch */
  connectedSince: number;
  bytes: number;
}

export interface ListenerList {
  /** Oldest first, at most MAX_LISTED. */
  listeners: ListenerInfo[];
  /** Listeners connected, listed or not. */
  total: number;
}

export interface AudienceStats {
  current: number;
  peak: number;
  /** When the peak was first reached (ms since the epoch); null before any listener. */
  peakTime: number | null;
  /** Seconds listened, summed over every listener: those that left, and those here until now. */
  listenerSeconds: number;
}

/** User agents are kept to this many characters. */
export const MAX_USER_AGENT = 256;

interface Entry {
  readonly info: Omit<ListenerInfo, 'bytes'>;
  readonly sender: MultiClientSender;
  readonly senderId: number;
  /** When it began to count here (it may have listened elsewhere before: a move). */
  readonly since: number;
  /** Bytes it was sent before it came here. */
  readonly bytesBefore: number;
}

/** A listener served elsewhere before (a fallback move): its id, connect time and bytes so far. */
export interface ArrivingListener {
  id: string;
  bytesBefore: number;
}

/** A fresh instance tag: listener ids never repeat across restarts of a streamer or its processes. */
export function newInstance(): string {
  return randomBytes(4).toString('hex');
}

/** Keeps the highest audience and when it was reached. */
export class PeakTracker {
  peak = 0;
  peakTime: number | null = null;

  see(current: number, now = Date.now()): void {
    if (current <= this.peak) return;
    this.peak = current;
    this.peakTime = now;
  }
}

export class ListenerRegistry {
  private readonly entries = new Map<string, Entry>();
  private seq = 0;
  private readonly peakTracker = new PeakTracker();
  /** ms listened by listeners that left. */
  private closedMs = 0;
  /** Sum of the connect times of those connected: their ms so far are current × now − this. */
  private startSum = 0;

  constructor(readonly instance: string = newInstance()) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * A listener is being served by `sender` as client `senderId`; returns its id. One that comes
   * from another mount (`moved`) keeps its id, connect time and bytes; it counts here from now.
   */
  add(sender: MultiClientSender, senderId: number, address: string, userAgent: string, since = Date.now(), moved?: ArrivingListener): string {
    const id = moved?.id ?? `${this.instance}-${++this.seq}`;
    const from = moved ? Date.now() : since;
    this.entries.set(id, { info: { id, address, userAgent: userAgent.slice(0, MAX_USER_AGENT), connectedSince: since }, sender, senderId, since: from, bytesBefore: moved?.bytesBefore ?? 0 });
    this.startSum += from;
    this.peakTracker.see(this.entries.size, from);
    return id;
  }

  /** The listener left (whatever the reason), at `end`; returns what was known of it. */
  removed(id: string, end = Date.now()): Omit<ListenerInfo, 'bytes'> | null {
    const e = this.entries.get(id);
    if (!e) return null;
    this.entries.delete(id);
    this.startSum -= e.since;
    this.closedMs += Math.max(0, end - e.since);
    return e.info;
  }

  list(limit = MAX_LISTED): ListenerList {
    const out: ListenerInfo[] = [];
    for (const e of this.entries.values()) out.push({ ...e.info, bytes: e.bytesBefore + (e.sender.stats(e.senderId)?.bytesSent ?? 0) });
    out.sort((a, b) => a.connectedSince - b.connectedSince);
    return { listeners: out.slice(0, limit), total: out.length };
  }

  /** Removes the listener with reason `removed` (its socket is closed); false when there is none. */
  kick(id: string): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    return e.sender.remove(e.senderId, 'removed');
  }

  stats(now = Date.now()): AudienceStats {
    const n = this.entries.size;
    return {
      current: n,
      peak: this.peakTracker.peak,
      peakTime: this.peakTracker.peakTime,
      listenerSeconds: (this.closedMs + Math.max(0, n * now - this.startSum)) / 1000,
    };
  }
}

/** Bytes into the sender and out to listeners, sampled each second; rates over the last 10 s. */
export class RateSampler {
  private samples: Array<{ t: number; inBytes: number; outBytes: number }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly read: () => { inBytes: number; outBytes: number }) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
    this.sample();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Bits per second in and out, averaged over the samples kept (0 before two samples). */
  rates(): { bitrateIn: number; bitrateOut: number } {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const dt = first && last && last.t > first.t ? (last.t - first.t) / 1000 : 0;
    return { bitrateIn: dt ? ((last.inBytes - first.inBytes) * 8) / dt : 0, bitrateOut: dt ? ((last.outBytes - first.outBytes) * 8) / dt : 0 };
  }

  private sample(): void {
    this.samples.push({ t: Date.now(), ...this.read() });
    while (this.samples.length > 11) this.samples.shift();
  }
}
