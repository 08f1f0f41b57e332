// hls-streamer: serves the MPEG-TS it eats (from mpegts-muxer) as live HLS, from memory:
// segments cut at keyframes once `target-duration` passed (audio only: by time), a sliding
// window of `playlist-length` segments, EXT-X-DISCONTINUITY when the upstream restarts (a new
// stream-start), and with `low-latency` the parts, preload hints and blocking reloads of LL-HLS.
// Happy while its feed flows; with no new segment for three target durations the playlist
// simply stops advancing (players wait, then ride the discontinuity when data returns).

import { z } from 'zod';
import { BUFFER_FLAG, GdpFrame } from '../../protocol/gdp';
import { GstCaps } from '../../protocol/gst/caps';
import { EVENT_TYPES } from '../../protocol/gst/event-types';
import { HlsSegmenter } from '../../protocol/hls/segmenter';
import { HlsServer, HlsStats } from '../../transport/hls/hls-server';
import { Component, ComponentDetails, PermanentError } from '../component/component';
import { MountOwner, MountTable, mountTable } from '../../transport/http/porter';
import { defineComponentType, tcpOnHostPort } from './component-type';
import { ServedAt, listenerUrls, publicUrlSchema } from '../../protocol/listener-urls';

export const hlsStreamerProperties = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8803),
    'mount-point': z.string().regex(/^\/[A-Za-z0-9_.\-/]*\.m3u8$/, 'must start with / and end with .m3u8').default('/live.m3u8'),
    /** seconds: segments are cut at the first keyframe after this */
    'target-duration': z.number().min(0.5).max(30).default(2),
    /** segments in the playlist */
    'playlist-length': z.number().int().min(3).max(100).default(6),
    'low-latency': z.boolean().default(false),
    /** seconds, low-latency parts */
    'part-duration': z.number().min(0.1).max(2).default(0.333),
    /** Access-Control-Allow-Origin ('' = none) */
    'cors-origin': z.string().regex(/^(\*|https?:\/\/[^\s,]+|)$/, "must be *, an origin such as https://example.org, or ''").default('*'),
    'token-auth': z.array(z.string().min(1)).nonempty().optional(),
    /** serve through this porter (a porter component of the same flow, on the same worker) instead of an own port */
    porter: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/).optional(),
    /** blocked (low-latency) requests waiting at once, at most */
    'max-waiting': z.number().int().min(1).max(100000).default(10000),
    /**
     * The playlist's URL as listeners reach it (a reverse proxy, a CDN, NAT): shown first wherever
     * URLs are. Segments are listed relative to the playlist, so they follow it.
     */
    'public-url': publicUrlSchema.optional(),
  })
  .strict()
  .refine((p) => p['part-duration'] < p['target-duration'], { message: 'part-duration must be shorter than target-duration' });
export type HlsStreamerProperties = z.infer<typeof hlsStreamerProperties>;

export class HlsStreamer extends Component<HlsStreamerProperties> {
  private segmenter: HlsSegmenter | null = null;
  private server: HlsServer | null = null;
  private streamId: string | null = null;

  private mounts: { table: MountTable; owner: MountOwner; paths: string[] } | null = null;

  /** The port its own server is bound to, once it is (never behind a porter). */
  private boundPort: number | null = null;

  /** Where the playlist is served: its own socket once bound, or its porter's while it listens and the mounts are ours. */
  get servedAt(): ServedAt | null {
    const p = this.properties;
    if (p.porter) return this.mounts ? this.mounts.table.address : null;
    return this.boundPort === null ? null : { scheme: 'http', host: p.host, port: this.boundPort };
  }

  /** Every URL of the playlist a player can use, the primary first (see protocol/listener-urls.ts); none while served nowhere. */
  get urls(): string[] {
    return listenerUrls({ at: this.servedAt, path: this.properties['mount-point'], publicUrl: this.properties['public-url'], advertiseHost: this.advertiseHost });
  }

  /** The primary URL; before it is served, where it will be as configured (status shows `urls` only). */
  get url(): string {
    const p = this.properties;
    if (this.urls.length) return this.urls[0];
    if (p.porter) return `(porter ${p.porter})${p['mount-point']}`;
    return listenerUrls({ at: { scheme: 'http', host: p.host, port: p.port }, path: p['mount-point'], publicUrl: p['public-url'], advertiseHost: this.advertiseHost })[0];
  }

  get hls(): HlsSegmenter | null {
    return this.segmenter;
  }

  /** How often the origin served each recent segment (by msn). */
  segmentHits(): ReadonlyMap<number, number> {
    return this.server?.segmentHits ?? new Map();
  }

  stats(): HlsStats | null {
    return this.server?.stats() ?? null;
  }

  protected async setup(): Promise<void> {
    const p = this.properties;
    const seg = new HlsSegmenter({ targetDuration: p['target-duration'], partDuration: p['low-latency'] ? p['part-duration'] : null, windowSize: p['playlist-length'] });
    const server = new HlsServer(seg, {
      host: p.host, port: p.port, mountPoint: p['mount-point'], lowLatency: p['low-latency'], partDuration: p['part-duration'],
      corsOrigin: p['cors-origin'], tokens: p['token-auth'], maxWaiting: p['max-waiting'], listen: !p.porter,
    });
    const port = await server.listen();
    if (!p.porter) this.boundPort = port;
    this.segmenter = seg;
    this.server = server;
    if (p.porter) {
      // The playlist and everything under its prefix (/tv.m3u8 and /tv/...).
      const table = mountTable(`/${this.flow}/${p.porter}`);
      const owner: MountOwner = { owner: `/${this.flow}/${this.name}`, acceptHanded: (socket, raw) => server.acceptHanded(socket, raw) };
      const paths = [p['mount-point'], `${p['mount-point'].replace(/\.m3u8$/, '')}/`];
      for (const path of paths) {
        if (!table.add(path, owner)) {
          for (const q of paths) table.remove(q, owner);
          throw new PermanentError(`porter ${p.porter} already has a streamer at ${path}`);
        }
      }
      this.mounts = { table, owner, paths };
    }
    this.addMessage('info', `HLS${p['low-latency'] ? ' (low latency)' : ''} at ${this.urls.join(' and ') || this.url}`);
  }

  protected async teardown(): Promise<void> {
    if (this.mounts) for (const path of this.mounts.paths) this.mounts.table.remove(path, this.mounts.owner);
    this.mounts = null;
    this.boundPort = null;
    await this.server?.close();
    this.server = null;
    this.segmenter = null;
    this.streamId = null;
  }

  override details(): ComponentDetails {
    const st = this.server?.stats();
    const urls = this.urls;
    return { urls, url: urls[0], mount: this.properties['mount-point'], clients: st?.clients ?? 0, bytesServed: st?.bytesServed ?? 0, requests: st?.requests ?? 0 };
  }

  protected override onFrame(_eater: string, _feedId: string, f: GdpFrame): void {
    const seg = this.segmenter;
    if (!seg) return;
    const now = Date.now();
    if (f.kind === 'caps') {
      seg.setHeader(GstCaps.parse(f.text ?? '').streamheader());
      return;
    }
    if (f.kind === 'event') {
      if (f.eventType === EVENT_TYPES['stream-start']) {
        if (this.streamId !== null && f.text !== this.streamId) {
          seg.discontinuity(now);
          this.server?.changed();
        }
        this.streamId = f.text;
      }
      return;
    }
    const pts = f.ptsMs;
    if (seg.push(f.payload, pts === null ? null : pts / 1000, (f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0, now)) this.server?.changed();
  }
}

export const hlsStreamerType = defineComponentType({
  type: 'hls-streamer',
  description: 'serves the MPEG-TS it eats as live HLS or LL-HLS, from memory',
  properties: hlsStreamerProperties,
  eaters: ['default'],
  feeders: [],
  listens: (p) => (p.porter ? [] : tcpOnHostPort(p)),
  gstElements: [],
  create: (name, props) => new HlsStreamer(name, props),
});
