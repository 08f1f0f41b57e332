// whip-producer: WebRTC ingest by WHIP (RFC 9725) for OBS 30+ and browsers. The publisher's
// H.264 (preferred, so that HLS can carry it as is) or VP8 leaves on the `video` feeder as Annex B
// access units or VP8 frames, its Opus on `audio`, each a GDP stream with caps, a segment,
// timestamps from the RTP clock and keyframes flagged (video starts at a keyframe). Each
// publisher is a new stream downstream (a new stream-start). Hungry without a publisher, happy
// while media flows; a publisher that vanishes without DELETE is found by media silence within
// `source-timeout`. A second publisher is refused (409) while one is on. Keyframe requests from
// downstream (a WHEP viewer's PLI) go to the publisher as RTCP PLI.

import { randomBytes } from 'crypto';
import { z } from 'zod';
import type { RtpPacket } from 'werift';
import { BUFFER_FLAG, toFrame } from '../../../protocol/gdp';
import { FluxError } from '../../../protocol/errors';
import { H264Depacketizer } from '../../../protocol/rtp/h264-rtp';
import { Vp8Depacketizer, vp8KeyframeSize } from '../../../protocol/rtp/vp8-rtp';
import { RtpClock } from '../../../protocol/rtp/rtp-clock';
import { WEBRTC_ERROR_CODES as E } from '../../../protocol/webrtc/errors';
import { CodecWish, chooseFormats, parseOffer } from '../../../protocol/webrtc/sdp-offer';
import { answerOffer, createPeer } from '../../../transport/webrtc/peer';
import { WhipPublisher } from '../../../transport/webrtc/whip-publisher';
import { MediaKind } from '../../../transport/webrtc/whep-viewer';
import { Component, ComponentDetails } from '../../component/component';
import { defineComponentType, tcpOnHostPort } from '../component-type';
import { streamStartFrame, timeSegmentFrame } from '../raw-audio';
import { EndpointHttp, peerNetwork, tlsPairRule, tlsPorterRule, webrtcProperties } from './webrtc-endpoint';

const { 'client-limit': _clientLimit, ...endpointProps } = webrtcProperties({ port: 8807, path: '/whip', clientLimit: 1 });

export const whipProducerProperties = z
  .object({
    ...endpointProps,
    /** the video codec taken from publishers: h264 first (HLS carries it as is), or vp8 first, or only one */
    'video-codecs': z.array(z.enum(['h264', 'vp8'])).nonempty().default(['h264', 'vp8']),
    /** seconds without media before a publisher is taken as gone */
    'source-timeout': z.number().min(0.5).max(60).default(3),
    /**
     * seconds between keyframes asked of the publisher (RTCP PLI): a browser's encoder sends one
     * only when asked, and HLS segments and recordings are cut at keyframes (0 = only on request)
     */
    'keyframe-interval': z.number().min(0).max(60).default(2),
  })
  .strict()
  .refine(tlsPairRule, { message: 'tls-cert-file and tls-key-file go together' })
  .refine(tlsPorterRule, { message: 'behind a porter, TLS is the porter’s (tls-cert-file belongs on the porter)' });
export type WhipProducerProperties = z.infer<typeof whipProducerProperties>;

interface Track {
  codec: string;
  clock: RtpClock;
  h264: H264Depacketizer | null;
  vp8: Vp8Depacketizer | null;
  caps: string | null;
  started: boolean;
}

interface Session {
  pub: WhipPublisher;
  tracks: Map<MediaKind, Track>;
  flowing: boolean;
}

export class WhipProducer extends Component<WhipProducerProperties> {
  private http: EndpointHttp | null = null;
  private current: Session | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private lastAsked = 0;
  /** Publishers served so far. */
  sessions = 0;
  keyframeRequests = 0;

  protected override allFeedsFlowing(): boolean {
    return !!this.current?.flowing;
  }

  get urls(): string[] {
    return this.http?.urls(this.advertiseHost) ?? [];
  }

  protected async setup(): Promise<void> {
    const p = this.properties;
    this.http = new EndpointHttp(`/${this.flow}/${this.name}`, this.flow, { ...p, 'client-limit': 0 }, (line) => this.addMessage('info', line));
    await this.http.start({
      sessions: () => (this.current ? 1 : 0),
      offer: (sdp, peer) => this.offer(sdp, peer),
      end: (id) => {
        const c = this.current;
        if (!c || c.pub.id !== id) return false;
        c.pub.close('DELETE');
        return true;
      },
    });
    const every = Math.max(100, Math.min(250, (p['source-timeout'] * 1000) / 4));
    this.watchdog = setInterval(() => this.checkSilence(), every);
    this.watchdog.unref();
    this.addMessage('info', `waiting for a WHIP publisher at ${this.urls.join(' and ') || `(porter ${p.porter})${p.path}`}`);
  }

  protected async teardown(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.current?.pub.close('the component stopped');
    this.current = null;
    await this.http?.stop();
    this.http = null;
  }

  override details(): ComponentDetails {
    const c = this.current;
    const urls = this.urls;
    const codecs = c ? (['video', 'audio'] as const).filter((k) => c.tracks.has(k)).map((k) => `${k}/${c.tracks.get(k)?.codec}`).join(' + ') : undefined;
    return {
      urls, url: urls[0], mount: this.properties.path,
      source: c ? { connected: c.flowing, address: c.pub.address, contentType: codecs, bytesIn: c.pub.bytesIn, since: c.pub.since } : { connected: false },
    };
  }

  private async offer(sdp: string, peer: string): Promise<{ id: string; sdp: string }> {
    if (!this.http) throw new FluxError(E.NO_STREAM, 'the producer is not running');
    if (this.current) throw new FluxError(E.BUSY, `a publisher is on already (${this.current.pub.address})`);
    const offer = parseOffer(sdp);
    const wishes: CodecWish[] = [...this.properties['video-codecs'].map((codec) => ({ kind: 'video' as const, codec })), { kind: 'audio', codec: 'opus' }];
    const choices = chooseFormats(offer, wishes, true);
    if (!choices.length) throw new FluxError(E.NO_CODEC, `the offer sends none of: video ${this.properties['video-codecs'].join(' or ')} (H.264 with packetization-mode=1), audio Opus`);
    const id = randomBytes(9).toString('base64url');
    const net = peerNetwork({ ...this.properties, 'client-limit': 0 });
    const pc = createPeer(net, choices, { onStun: () => undefined });
    const tracks = new Map<MediaKind, Track>();
    for (const c of choices) {
      tracks.set(c.kind, { codec: c.codec, clock: new RtpClock(c.format.clockRate), h264: c.codec === 'h264' ? new H264Depacketizer() : null, vp8: c.codec === 'vp8' ? new Vp8Depacketizer() : null, caps: null, started: false });
    }
    const pub = new WhipPublisher(id, peer.replace(/:\d+$/, ''), pc, {
      rtp: (p, kind, packet) => this.rtp(p, kind, packet),
      ended: (p, reason) => this.ended(p, reason),
    });
    const session: Session = { pub, tracks, flowing: false };
    this.current = session;
    try {
      const answer = await answerOffer(pc, sdp, offer, choices, net, () => pub.prepare(new Map(choices.map((c) => [c.section, c.kind]))));
      if (this.current !== session) throw new FluxError(E.SESSION_FAILED, 'the session ended before its answer');
      this.addMessage('info', `${pub.address} publishes ${choices.map((c) => `${c.kind} ${c.codec}`).join(' + ')}`);
      // Each publisher is a new stream downstream.
      for (const kind of tracks.keys()) {
        this.output(kind, streamStartFrame());
        this.output(kind, timeSegmentFrame());
      }
      return { id, sdp: answer };
    } catch (e) {
      if (this.current === session) this.current = null;
      pc.close().catch(() => undefined);
      throw e;
    }
  }

  private ended(p: WhipPublisher, reason: string): void {
    const c = this.current;
    if (!c || c.pub !== p) return;
    this.current = null;
    this.addMessage(reason === 'DELETE' ? 'info' : 'warning', `publisher ${p.address} gone: ${reason}`);
    if (this.mood === 'happy') this.setMood('hungry');
  }

  private checkSilence(): void {
    const c = this.current;
    if (!c) return;
    const every = this.properties['keyframe-interval'] * 1000;
    if (every > 0 && c.flowing && Date.now() - this.lastAsked >= every && c.pub.askKeyframe()) this.lastAsked = Date.now();
    const t = this.properties['source-timeout'];
    if (Date.now() - c.pub.lastMedia > t * 1000) c.pub.close(`no media for ${t} s`);
  }

  protected override onKeyUnitRequest(_feeder: string): void {
    if (this.current?.pub.askKeyframe()) this.keyframeRequests++;
  }

  /** One RTP packet of the publisher (the data path): depacketized, then out as GDP. */
  private rtp(p: WhipPublisher, kind: MediaKind, packet: RtpPacket): void {
    const s = this.current;
    if (!s || s.pub !== p) return;
    const t = s.tracks.get(kind);
    if (!t) return;
    const h = packet.header;
    const since = Date.now() - p.since;
    if (kind === 'audio') {
      if (!packet.payload.length) return;
      this.caps(kind, t, 'audio/x-opus, channel-mapping-family=(int)0, channels=(int)2, rate=(int)48000');
      this.buffer(kind, packet.payload, t.clock.toNs(h.timestamp, since), false);
      return;
    }
    if (t.h264) {
      const au = t.h264.push(h.sequenceNumber, h.timestamp, h.marker, packet.payload);
      if (!au) return;
      if (!t.started && !au.keyframe) {
        p.askKeyframe();
        return;
      }
      this.caps(kind, t, 'video/x-h264, stream-format=(string)byte-stream, alignment=(string)au');
      this.buffer(kind, au.data, t.clock.toNs(au.timestamp, since), au.keyframe);
      return;
    }
    if (t.vp8) {
      const f = t.vp8.push(h.sequenceNumber, h.timestamp, h.marker, packet.payload);
      if (!f) return;
      if (!t.started && !f.keyframe) {
        p.askKeyframe();
        return;
      }
      const size = f.keyframe ? vp8KeyframeSize(f.data) : null;
      if (size) this.caps(kind, t, `video/x-vp8, width=(int)${size.width}, height=(int)${size.height}, framerate=(fraction)0/1`);
      this.buffer(kind, f.data, t.clock.toNs(f.timestamp, since), f.keyframe);
    }
  }

  private caps(kind: MediaKind, t: Track, caps: string): void {
    if (t.caps === caps) return;
    t.caps = caps;
    this.output(kind, toFrame({ kind: 'caps', caps }));
  }

  private buffer(kind: MediaKind, data: Buffer, pts: bigint, keyframe: boolean): void {
    const s = this.current;
    const t = s?.tracks.get(kind);
    if (!s || !t || !t.caps) return;
    t.started = true;
    this.output(kind, toFrame({ kind: 'buffer', pts, dts: kind === 'video' ? pts : null, duration: null, offset: null, offsetEnd: null, flags: kind === 'video' && !keyframe ? BUFFER_FLAG.DELTA_UNIT : 0, data }));
    if (!s.flowing) {
      s.flowing = true;
      this.sessions++;
      if (this.mood === 'hungry') this.setMood('happy');
    }
  }
}

export const whipProducerType = defineComponentType({
  type: 'whip-producer',
  description: 'WebRTC ingest by WHIP for OBS and browsers: H.264 or VP8 on video, Opus on audio',
  properties: whipProducerProperties,
  eaters: [],
  feeders: ['video', 'audio'],
  listens: (p) => (p.porter ? [] : tcpOnHostPort(p)),
  porterMounts: (p) => ({ property: 'path', paths: [p.path, `${p.path}/`] }),
  gstElements: [],
  create: (name, props) => new WhipProducer(name, props),
});
