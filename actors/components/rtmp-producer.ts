// rtmp-producer: RTMP ingest for OBS, FFmpeg and the like (`rtmp://HOST:PORT/APP/STREAM-KEY`).
// Several rtmp-producers of a worker may share a port, each with its own app and key: one server
// per port (transport/rtmp/rtmp-ports.ts) hands each publisher to the producer it named. The
// publisher's FLV tags become GDP: video on `video` (H.264 as avc, HEVC as hvc1, AV1, VP9, VP8,
// legacy or Enhanced RTMP, with codec_data, PTS, DTS and keyframes flagged), audio on `audio`
// (AAC raw frames with codec_data, or Opus). Hungry until a publisher sends media; happy while
// it does; hungry again when it stops, hangs up or stalls past `source-timeout`; the next
// publisher's stream is a new one downstream. A codec it cannot carry refuses the publisher
// and makes it sad (FLUX_RTMP_UNSUPPORTED_CODEC), never a stream with a track silently missing.

import * as fs from 'fs';
import { z } from 'zod';
import { PROTOCOL_ERROR_CODES } from '../../protocol/errors';
import { BUFFER_FLAG, toFrame } from '../../protocol/gdp';
import { MSG, RtmpMessage } from '../../protocol/rtmp/chunks';
import { FlvAudio, FlvVideo, readAudioTag, readVideoTag } from '../../protocol/rtmp/flv';
import { TimestampClock } from '../../protocol/rtmp/timestamps';
import { AttachedRoute, attachRtmpRoute } from '../../transport/rtmp/rtmp-ports';
import { PublishRefusal, RtmpPublisher, streamPath } from '../../transport/rtmp/rtmp-server';
import { Component, ComponentDetails, PermanentError } from '../component/component';
import { defineComponentType, tcpOnHostPort } from './component-type';
import { streamStartFrame, timeSegmentFrame } from './raw-audio';

export const rtmpProducerProperties = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(1935),
    /** the application in rtmp://host:port/APP/KEY */
    app: z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/).default('live'),
    /** the stream key publishers must give (or stream-key-file) */
    'stream-key': z.string().min(8, 'must be at least 8 characters').optional(),
    'stream-key-file': z.string().min(1).optional(),
    /** seconds a publisher may send nothing before it is dropped */
    'source-timeout': z.number().positive().default(5),
    /** seconds a connection may take to start publishing */
    'setup-timeout': z.number().positive().default(10),
  })
  .strict()
  .refine((p) => !!p['stream-key'] !== !!p['stream-key-file'], { message: 'set one of stream-key or stream-key-file' });
export type RtmpProducerProperties = z.infer<typeof rtmpProducerProperties>;

/** What a refusal says it takes. */
const CARRIED = 'H.264, HEVC, AV1, VP9 and VP8 video, AAC and Opus audio';

interface Publish {
  p: RtmpPublisher;
  since: number;
  lastData: number;
  /** One clock for its audio and video: RTMP's 32-bit timestamps without the wrap. */
  clock: TimestampClock;
  videoCodec: string | null;
  audioCodec: string | null;
  /** AAC: samples per frame / rate, for durations; 0 when unknown (Opus). */
  audioFrameNs: number;
  told: Set<string>;
}

export class RtmpProducer extends Component<RtmpProducerProperties> {
  private route: AttachedRoute | null = null;
  private current: Publish | null = null;
  private flowing = false;
  private watchdog: NodeJS.Timeout | null = null;
  private lastRefusal = 0;
  /** Publishers served so far. */
  sessions = 0;

  protected override allFeedsFlowing(): boolean {
    return this.flowing;
  }

  get port(): number {
    return this.route?.port ?? 0;
  }

  protected async setup(): Promise<void> {
    const p = this.properties;
    let key = p['stream-key'] ?? '';
    if (p['stream-key-file']) {
      try {
        key = fs.readFileSync(p['stream-key-file'], 'utf8').trim();
      } catch (e) {
        throw new PermanentError(`cannot read stream-key-file ${p['stream-key-file']}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (key.length < 8) throw new PermanentError(`the stream key in ${p['stream-key-file']} is shorter than 8 characters`);
    }
    try {
      this.route = await attachRtmpRoute(p.host, p.port, {
        app: p.app,
        streamKey: key,
        setupTimeoutMs: p['setup-timeout'] * 1000,
        owner: this.name,
        refusal: () => this.refusal(),
        onPublish: (pub) => this.publish(pub),
        onRefused: (address, reason) => {
          if (Date.now() - this.lastRefusal < 1000) return; // a key guesser does not flood the messages
          this.lastRefusal = Date.now();
          this.addMessage('warning', `refused ${address}: ${reason}`);
        },
      });
    } catch (e) {
      // Another producer of this worker owns the app and key: no restart cures that.
      if ((e as { code?: string }).code === PROTOCOL_ERROR_CODES.RTMP_ROUTE_TAKEN) throw Object.assign(new PermanentError((e as Error).message), { code: PROTOCOL_ERROR_CODES.RTMP_ROUTE_TAKEN });
      throw e;
    }
    this.watchdog = setInterval(() => this.checkStall(), 250);
    this.watchdog.unref();
    this.addMessage('info', `waiting for a publisher at rtmp://${p.host}:${this.port}/${p.app}/<stream key>`);
  }

  protected async teardown(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    const c = this.current;
    this.current = null;
    this.flowing = false;
    c?.p.close('the component stopped');
    await this.route?.detach();
    this.route = null;
  }

  override details(): ComponentDetails {
    const c = this.current;
    const p = this.properties;
    const codecs = c ? [c.videoCodec, c.audioCodec].filter(Boolean).join(' + ') : '';
    return {
      url: `rtmp://${p.host}:${this.port}/${p.app}`,
      source: c ? { connected: true, address: c.p.address, name: c.p.encoder, bytesIn: c.p.bytesIn(), since: c.since, ...(codecs ? { contentType: codecs } : {}) } : { connected: false },
    };
  }

  private refusal(): PublishRefusal | null {
    if (this.mood === 'sad') return { code: 'NetStream.Publish.Rejected', description: `${this.name} is sad (see its messages); restart it once the cause is fixed` };
    if (this.current) return { code: 'NetStream.Publish.BadName', description: 'the stream is already being published' };
    return null;
  }

  private publish(p: RtmpPublisher): void {
    const s: Publish = { p, since: Date.now(), lastData: Date.now(), clock: new TimestampClock(), videoCodec: null, audioCodec: null, audioFrameNs: 0, told: new Set() };
    this.current = s;
    this.output('video', streamStartFrame());
    this.output('audio', streamStartFrame());
    this.addMessage('info', `${p.address} publishes${p.encoder ? ` (${p.encoder})` : ''}`);
    p.onMedia = (m) => this.media(s, m);
    p.onMetadata = (meta) => {
      if (typeof meta.encoder === 'string' && !s.told.has('encoder')) {
        s.told.add('encoder');
        this.addMessage('info', `encoder: ${meta.encoder.slice(0, 200)}`);
      }
    };
    p.onEnd = (reason) => this.ended(s, reason);
  }

  private ended(s: Publish, reason: string): void {
    if (this.current !== s) return;
    this.current = null;
    if (this.flowing) this.addMessage('warning', `publisher ${s.p.address} gone: ${reason}`);
    this.flowing = false;
    if (this.mood === 'happy') this.setMood('hungry');
  }

  /** Something not carried that does not stop the stream (another track, HDR metadata): said once. */
  private tell(s: Publish, what: string): void {
    if (s.told.has(what)) return;
    s.told.add(what);
    this.addMessage('info', `not carried from ${s.p.address}: ${what}`);
  }

  /** A codec we cannot carry: the publisher is told and dropped, the component sad until restarted. */
  private refuseCodec(s: Publish, what: string): void {
    const text = `${PROTOCOL_ERROR_CODES.RTMP_UNSUPPORTED_CODEC}: ${s.p.address} sends ${what}; fluxcast carries ${CARRIED}. Change the encoder's codec, then restart ${this.name}`;
    this.ended(s, `unsupported codec: ${what}`);
    s.p.reject('NetStream.Publish.Rejected', `${PROTOCOL_ERROR_CODES.RTMP_UNSUPPORTED_CODEC}: ${what} is not carried (${CARRIED})`);
    this.fail(text);
  }

  /** One FLV tag of the publisher (the data path). */
  private media(s: Publish, m: RtmpMessage): void {
    if (this.current !== s) return;
    s.lastData = Date.now();
    const ms = s.clock.time(m.timestamp);
    const items = m.type === MSG.VIDEO ? readVideoTag(m.payload, ms) : readAudioTag(m.payload);
    for (const item of items) {
      if (this.current !== s) return;
      if (item.kind === 'unsupported') return this.refuseCodec(s, item.what);
      if (item.kind === 'ignored') this.tell(s, item.what);
      else if (m.type === MSG.VIDEO) this.video(s, item as FlvVideo);
      else this.audio(s, item as FlvAudio, ms);
    }
  }

  private video(s: Publish, v: FlvVideo): void {
    if (v.kind === 'config') {
      this.output('video', toFrame({ kind: 'caps', caps: v.caps }));
      if (!s.videoCodec) this.output('video', timeSegmentFrame());
      s.videoCodec = v.codec;
      return;
    }
    if (v.kind !== 'frame' || !s.videoCodec) return;
    this.output('video', toFrame({
      kind: 'buffer', pts: v.ptsMs * 1e6 + v.nanos, dts: v.dtsMs * 1e6 + v.nanos, duration: null, offset: null, offsetEnd: null,
      flags: v.keyframe ? 0 : BUFFER_FLAG.DELTA_UNIT, data: v.data,
    }));
    this.flowingNow();
  }

  private audio(s: Publish, a: FlvAudio, ms: number): void {
    if (a.kind === 'config') {
      this.output('audio', toFrame({ kind: 'caps', caps: a.caps }));
      if (!s.audioCodec) this.output('audio', timeSegmentFrame());
      s.audioCodec = a.codec;
      s.audioFrameNs = a.codec === 'AAC' && a.rate ? Math.round((1024 / a.rate) * 1e9) : 0;
      return;
    }
    if (a.kind !== 'frame' || !s.audioCodec) return;
    const t = ms * 1e6 + a.nanos;
    this.output('audio', toFrame({ kind: 'buffer', pts: t, dts: t, duration: s.audioFrameNs || null, offset: null, offsetEnd: null, flags: 0, data: a.data }));
    this.flowingNow();
  }

  private flowingNow(): void {
    if (this.flowing) return;
    this.flowing = true;
    this.sessions++;
    if (this.mood === 'hungry') this.setMood('happy');
  }

  private checkStall(): void {
    const c = this.current;
    if (!c || Date.now() - c.lastData <= this.properties['source-timeout'] * 1000) return;
    c.p.close(`sent nothing for ${this.properties['source-timeout']} s`);
  }
}

export const rtmpProducerType = defineComponentType({
  type: 'rtmp-producer',
  description: 'RTMP ingest for OBS and ffmpeg (Enhanced RTMP too): H.264, HEVC, AV1, VP9 or VP8 on video, AAC or Opus on audio; several stream keys may share a port',
  properties: rtmpProducerProperties,
  eaters: [],
  feeders: ['video', 'audio'],
  listens: tcpOnHostPort,
  // rtmp-producers of one worker share a port and tell publishers apart by app and stream key.
  sharesPort: true,
  shareRoute: (p) => ({
    route: p['stream-key'] ? streamPath(p.app, p['stream-key']) : `${p.app} file:${p['stream-key-file']}`,
    what: 'app and stream key',
    property: p['stream-key'] ? 'stream-key' : 'stream-key-file',
  }),
  gstElements: [],
  create: (name, props) => new RtmpProducer(name, props),
});
