// whep-streamer: serves the H.264 (without B-frames) or VP8 of its `video` eater and the Opus of
// its `audio` eater (either may be absent) to browsers over WebRTC, by WHEP. One packetization
// for every viewer (transport/webrtc/whep-fanout.ts), one encrypted session per viewer; a new
// viewer starts from the GOP cache; a viewer's PLI or FIR becomes one keyframe request upstream
// per `keyframe-request-interval` (to the encoder, through the feeds); viewers silent for
// `viewer-timeout` are dropped. Happy while its feeds flow, hungry when one stops (viewers stay
// connected and get media again when it returns). A stream WebRTC cannot carry (B-frames,
// another codec) makes it sad with a FLUX_WEBRTC_ code that says what to change.

import { randomBytes } from 'crypto';
import { z } from 'zod';
import { BUFFER_FLAG, GdpFrame } from '../../../protocol/gdp';
import { FluxError } from '../../../protocol/errors';
import { EVENT_TYPES } from '../../../protocol/gst/event-types';
import { RtpPacketizer } from '../../../protocol/rtp/gdp-to-rtp';
import { WEBRTC_ERROR_CODES as E } from '../../../protocol/webrtc/errors';
import { CodecWish, chooseFormats, parseOffer } from '../../../protocol/webrtc/sdp-offer';
import { answerOffer, createPeer } from '../../../transport/webrtc/peer';
import { WhepFanout } from '../../../transport/webrtc/whep-fanout';
import { MediaKind, WhepViewer } from '../../../transport/webrtc/whep-viewer';
import { Component, ComponentDetails, ListenerControl } from '../../component/component';
import { defineComponentType, tcpOnHostPort } from '../component-type';
import { EndpointHttp, peerNetwork, tlsPairRule, tlsPorterRule, webrtcProperties } from './webrtc-endpoint';

export const whepStreamerProperties = z
  .object({
    ...webrtcProperties({ port: 8806, path: '/whep', clientLimit: 500 }),
    /** seconds without STUN or RTCP from a viewer before it is dropped (RFC 7675's 30 s is the upper bound) */
    'viewer-timeout': z.number().min(2).max(30).default(10),
    /** seconds: keyframe requests sent upstream at most this often, whatever the viewers ask */
    'keyframe-request-interval': z.number().min(0.1).max(60).default(1),
  })
  .strict()
  .refine(tlsPairRule, { message: 'tls-cert-file and tls-key-file go together' })
  .refine(tlsPorterRule, { message: 'behind a porter, TLS is the porter’s (tls-cert-file belongs on the porter)' });
export type WhepStreamerProperties = z.infer<typeof whepStreamerProperties>;

export class WhepStreamer extends Component<WhepStreamerProperties> {
  private http: EndpointHttp | null = null;
  private fanout: WhepFanout | null = null;
  private readonly packetizers: Record<MediaKind, RtpPacketizer> = { video: new RtpPacketizer('video'), audio: new RtpPacketizer('audio') };
  private refused = false;
  private lastKeyRequest = 0;
  private keyframeRequests = 0;
  private keyframeRequestsUpstream = 0;
  private readonly removed: Record<string, number> = {};
  private peak = 0;
  private peakTime = 0;
  private viewerSecondsGone = 0;

  get viewers(): ReadonlyMap<string, WhepViewer> {
    return this.fanout?.viewers ?? new Map();
  }

  get urls(): string[] {
    return this.http?.urls(this.advertiseHost) ?? [];
  }

  protected async setup(): Promise<void> {
    const p = this.properties;
    this.fanout = new WhepFanout({
      viewerTimeoutMs: p['viewer-timeout'] * 1000,
      removed: (v, reason) => {
        const why = reason.startsWith('no STUN') ? 'timeout' : reason === 'DELETE' ? 'closed' : reason === 'kicked' ? 'removed' : reason === 'the streamer stopped' ? 'removed' : 'error';
        this.removed[why] = (this.removed[why] ?? 0) + 1;
        this.viewerSecondsGone += (Date.now() - v.since) / 1000;
      },
      keyframeWanted: () => this.askUpstream(),
    });
    this.http = new EndpointHttp(`/${this.flow}/${this.name}`, this.flow, p, (line) => this.addMessage('info', line));
    await this.http.start({
      sessions: () => this.fanout?.viewers.size ?? 0,
      offer: (sdp, peer) => this.offer(sdp, peer),
      end: (id) => {
        const v = this.fanout?.viewers.get(id);
        if (!v) return false;
        v.close('DELETE');
        return true;
      },
    });
    this.addMessage('info', `WHEP at ${this.urls.join(' and ') || `(porter ${p.porter})${p.path}`}`);
  }

  protected async teardown(): Promise<void> {
    this.fanout?.close('the streamer stopped');
    this.fanout = null;
    await this.http?.stop();
    this.http = null;
  }

  /** One keyframe request upstream per interval, whatever the viewers ask. */
  private askUpstream(): void {
    const now = Date.now();
    if (now - this.lastKeyRequest < this.properties['keyframe-request-interval'] * 1000) return;
    this.lastKeyRequest = now;
    if (this.requestKeyUnit('video') > 0) this.keyframeRequestsUpstream++;
  }

  private wishes(): CodecWish[] {
    const out: CodecWish[] = [];
    for (const kind of ['video', 'audio'] as const) {
      if (!this.eaters.has(kind)) continue;
      const info = this.packetizers[kind].info;
      if (!info) throw new FluxError(E.NO_STREAM, `the ${kind} stream has not started yet`);
      out.push({ kind, codec: info.codec, profileIdc: info.profileIdc });
    }
    return out;
  }

  private async offer(sdp: string, peer: string): Promise<{ id: string; sdp: string }> {
    const fanout = this.fanout;
    if (!fanout || this.refused) throw new FluxError(E.NO_STREAM, 'the streamer is not serving');
    const offer = parseOffer(sdp);
    const wishes = this.wishes();
    const choices = chooseFormats(offer, wishes, false);
    const video = wishes.find((w) => w.kind === 'video');
    const offersVideo = offer.sections.some((s) => s.kind === 'video' && s.port !== 0 && (s.direction === 'recvonly' || s.direction === 'sendrecv'));
    if (!choices.length || (video && offersVideo && !choices.some((c) => c.kind === 'video'))) {
      const what = wishes.map((w) => `${w.kind} ${w.codec}${w.profileIdc ? ` (profile_idc 0x${w.profileIdc})` : ''}`).join(', ');
      throw new FluxError(E.NO_CODEC, `the offer cannot receive what this stream sends: ${what}`);
    }
    const id = randomBytes(9).toString('base64url');
    const net = peerNetwork(this.properties);
    let viewer: WhepViewer | null = null;
    const pc = createPeer(net, choices, { onStun: () => viewer?.alive() });
    viewer = new WhepViewer(id, peer.replace(/:\d+$/, ''), '', pc, {
      connected: (v) => {
        this.fanout?.connected(v);
        const n = this.fanout?.connectedCount ?? 0;
        if (n > this.peak) {
          this.peak = n;
          this.peakTime = Date.now();
        }
      },
      ended: (v, reason) => this.fanout?.remove(v, reason),
      keyframeWanted: () => {
        this.keyframeRequests++;
        this.askUpstream();
      },
    });
    const v = viewer;
    const kinds = new Map(choices.map((c) => [c.section, c.kind]));
    try {
      const answer = await answerOffer(pc, sdp, offer, choices, net, () => v.prepare(kinds));
      if (this.fanout !== fanout) throw new FluxError(E.NO_STREAM, 'the streamer stopped');
      fanout.add(v);
      return { id, sdp: answer };
    } catch (e) {
      pc.close().catch(() => undefined);
      throw e;
    }
  }

  override details(): ComponentDetails {
    const urls = this.urls;
    const fanout = this.fanout;
    const now = Date.now();
    let seconds = this.viewerSecondsGone;
    for (const v of fanout?.viewers.values() ?? []) seconds += (now - v.since) / 1000;
    return {
      urls, url: urls[0], mount: this.properties.path,
      clients: fanout?.connectedCount ?? 0,
      bytesServed: fanout?.bytesOut ?? 0,
      peakClients: this.peak, peakTime: this.peakTime || undefined,
      listenerSeconds: Math.round(seconds),
      removed: { ...this.removed },
      keyframeRequests: this.keyframeRequests, keyframeRequestsUpstream: this.keyframeRequestsUpstream,
    };
  }

  override listenerControl(): ListenerControl {
    return {
      list: async () => {
        const all = [...this.viewers.values()].sort((a, b) => a.since - b.since);
        return { listeners: all.map((v) => ({ id: v.id, address: v.address, userAgent: v.connected ? 'WebRTC (connected)' : 'WebRTC (connecting)', connectedSince: v.since, bytes: v.bytesSent })), total: all.length };
      },
      kick: async (id) => {
        const v = this.viewers.get(id);
        if (!v) return false;
        v.close('kicked');
        return true;
      },
    };
  }

  protected override onFrame(eater: string, _feedId: string, f: GdpFrame): void {
    const fanout = this.fanout;
    if (!fanout || this.refused || (eater !== 'video' && eater !== 'audio')) return;
    const kind: MediaKind = eater;
    const pk = this.packetizers[kind];
    try {
      if (f.kind === 'caps') {
        pk.caps(f.text ?? '');
        return;
      }
      if (f.kind === 'event') {
        if (f.eventType === EVENT_TYPES['stream-start']) fanout.reset(kind);
        return;
      }
      const frame = pk.buffer(f.payload, f.pts, f.dts, (f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0);
      if (frame) fanout.push(kind, frame);
    } catch (e) {
      if (!(e instanceof FluxError)) throw e;
      // A stream WebRTC cannot carry: nothing a restart would change.
      this.refused = true;
      this.failedPermanently = true;
      this.fail(`${e.code}: ${e.message}`);
      fanout.close('the stream cannot be served');
    }
  }
}

export const whepStreamerType = defineComponentType({
  type: 'whep-streamer',
  description: 'serves H.264 or VP8 and Opus to browsers over WebRTC (WHEP), sub-second',
  properties: whepStreamerProperties,
  eaters: ['video', 'audio'],
  optionalEaters: true,
  feeders: [],
  listens: (p) => (p.porter ? [] : tcpOnHostPort(p)),
  porterMounts: (p) => ({ property: 'path', paths: [p.path, `${p.path}/`] }),
  listeners: true,
  gstElements: [],
  create: (name, props) => new WhepStreamer(name, props),
});
