// The WHEP streamer's fan-out: one packetization for every viewer. Each frame of the stream
// becomes RTP payloads once (protocol/rtp), gets its sequence numbers and timestamp once, and is
// handed to every connected viewer, who only encrypts. The video since the latest keyframe is
// kept (the GOP cache, bounded): a viewer who connects gets it at once, its timestamps squeezed
// just behind the live edge so the browser shows the newest picture without waiting a GOP,
// then live packets. Viewers silent (no STUN, no RTCP) for `viewerTimeoutMs` are dropped.
// Memory is bounded by the GOP cache, never by the number of viewers.

import { randomInt } from 'crypto';
import { RtpFrame } from '../../protocol/rtp/gdp-to-rtp';
import { MediaKind, SharedPacket, WhepViewer } from './whep-viewer';

/** The GOP cache holds at most this much; past it, it is emptied until the next keyframe. */
export const GOP_CACHE_MAX_BYTES = 4 * 1024 * 1024;
export const GOP_CACHE_MAX_PACKETS = 4096;

interface Track {
  seq: number;
  offset: number;
  gop: SharedPacket[];
  gopBytes: number;
  /** The cache holds a whole GOP from its keyframe. */
  gopValid: boolean;
}

export interface FanoutOptions {
  viewerTimeoutMs: number;
  /** A viewer left (any reason), for counting. */
  removed(v: WhepViewer, reason: string): void;
  /** A new viewer found no GOP to start from, or a viewer lost the picture. */
  keyframeWanted(): void;
}

export class WhepFanout {
  readonly viewers = new Map<string, WhepViewer>();
  private readonly tracks: Record<MediaKind, Track> = { video: this.track(), audio: this.track() };
  private sweeper: NodeJS.Timeout;
  packetsOut = 0;
  bytesOut = 0;

  constructor(private readonly o: FanoutOptions) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, Math.max(100, o.viewerTimeoutMs / 5)));
    this.sweeper.unref();
  }

  private track(): Track {
    return { seq: randomInt(0, 0xffff), offset: randomInt(0, 0x7fffffff), gop: [], gopBytes: 0, gopValid: false };
  }

  /** Viewers connected now. */
  get connectedCount(): number {
    let n = 0;
    for (const v of this.viewers.values()) if (v.connected) n++;
    return n;
  }

  add(v: WhepViewer): void {
    this.viewers.set(v.id, v);
  }

  /** The viewer's ICE and DTLS are up: the GOP cache at once, squeezed behind the live edge. */
  connected(v: WhepViewer): void {
    const t = this.tracks.video;
    if (!v.has('video')) return;
    if (!t.gopValid || !t.gop.length) {
      this.o.keyframeWanted();
      return;
    }
    const frames: number[] = [];
    for (const p of t.gop) if (frames[frames.length - 1] !== p.timestamp) frames.push(p.timestamp);
    const last = frames[frames.length - 1];
    let frame = 0;
    for (const p of t.gop) {
      while (frames[frame] !== p.timestamp) frame++;
      v.send('video', p, last - (frames.length - 1 - frame));
    }
  }

  /** One frame of the stream to every connected viewer. */
  push(kind: MediaKind, f: RtpFrame): void {
    const t = this.tracks[kind];
    const timestamp = (f.timestamp + t.offset) >>> 0;
    const packets: SharedPacket[] = f.payloads.map((payload, i) => {
      t.seq = (t.seq + 1) & 0xffff;
      return { seq: t.seq, timestamp, marker: i === f.payloads.length - 1, payload };
    });
    if (kind === 'video') this.cache(t, packets, f.keyframe);
    for (const v of this.viewers.values()) {
      if (!v.connected) continue;
      for (const p of packets) v.send(kind, p);
    }
    let bytes = 0;
    for (const p of packets) bytes += p.payload.length;
    const n = this.connectedCount;
    this.packetsOut += packets.length * n;
    this.bytesOut += bytes * n;
  }

  private cache(t: Track, packets: SharedPacket[], keyframe: boolean): void {
    if (keyframe) {
      t.gop = [];
      t.gopBytes = 0;
      t.gopValid = true;
    }
    if (!t.gopValid) return;
    for (const p of packets) {
      t.gop.push(p);
      t.gopBytes += p.payload.length;
    }
    if (t.gopBytes > GOP_CACHE_MAX_BYTES || t.gop.length > GOP_CACHE_MAX_PACKETS) {
      t.gop = [];
      t.gopBytes = 0;
      t.gopValid = false;
    }
  }

  /** A new stream upstream: nothing cached belongs to it. */
  reset(kind: MediaKind): void {
    const t = this.tracks[kind];
    t.gop = [];
    t.gopBytes = 0;
    t.gopValid = false;
  }

  remove(v: WhepViewer, reason: string): void {
    if (this.viewers.get(v.id) !== v) return;
    this.viewers.delete(v.id);
    this.o.removed(v, reason);
  }

  private sweep(): void {
    const now = Date.now();
    for (const v of [...this.viewers.values()]) {
      if (now - v.lastSeen > this.o.viewerTimeoutMs) v.close(`no STUN or RTCP for ${Math.round(this.o.viewerTimeoutMs / 1000)} s`);
    }
  }

  close(reason: string): void {
    clearInterval(this.sweeper);
    for (const v of [...this.viewers.values()]) v.close(reason);
  }
}
