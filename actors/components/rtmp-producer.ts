// rtmp-producer: RTMP ingest for OBS and ffmpeg (`rtmp://HOST:PORT/APP/STREAM-KEY`). The
// publisher's FLV tags become GDP: H.264 on the `video` feeder (AVC with codec_data, PTS and DTS,
// keyframes flagged), AAC on `audio` (raw frames with codec_data). Hungry until a publisher
// sends media; happy while it does; hungry again when it stops, hangs up or stalls past
// `source-timeout`; the next publisher's stream is a new one downstream.

import * as fs from 'fs';
import { z } from 'zod';
import { BUFFER_FLAG, toFrame } from '../../protocol/gdp';
import { readAudioTag, readVideoTag } from '../../protocol/rtmp/flv';
import { MSG, RtmpMessage } from '../../protocol/rtmp/chunks';
import { RtmpPublisher, RtmpServer } from '../../transport/rtmp/rtmp-server';
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

interface Publish {
  p: RtmpPublisher;
  since: number;
  lastData: number;
  videoCaps: boolean;
  audioCaps: boolean;
  audioRate: number;
  told: Set<string>;
}

export class RtmpProducer extends Component<RtmpProducerProperties> {
  private server: RtmpServer | null = null;
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
    return this.server?.port ?? 0;
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
    const server = new RtmpServer({
      host: p.host,
      port: p.port,
      app: p.app,
      streamKey: key,
      setupTimeoutMs: p['setup-timeout'] * 1000,
      busy: () => this.current !== null,
      onPublish: (pub) => this.publish(pub),
      onRefused: (address, reason) => {
        if (Date.now() - this.lastRefusal < 1000) return; // a key guesser does not flood the messages
        this.lastRefusal = Date.now();
        this.addMessage('warning', `refused ${address}: ${reason}`);
      },
    });
    await server.listen();
    this.server = server;
    this.watchdog = setInterval(() => this.checkStall(), 250);
    this.watchdog.unref();
    this.addMessage('info', `waiting for a publisher at rtmp://${p.host}:${server.port}/${p.app}/<stream key>`);
  }

  protected async teardown(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    const c = this.current;
    this.current = null;
    this.flowing = false;
    c?.p.close('the component stopped');
    await this.server?.close();
    this.server = null;
  }

  override details(): ComponentDetails {
    const c = this.current;
    const p = this.properties;
    return {
      url: `rtmp://${p.host}:${this.port}/${p.app}`,
      source: c ? { connected: true, address: c.p.address, name: c.p.encoder, bytesIn: c.p.bytesIn(), since: c.since } : { connected: false },
    };
  }

  private publish(p: RtmpPublisher): void {
    const s: Publish = { p, since: Date.now(), lastData: Date.now(), videoCaps: false, audioCaps: false, audioRate: 0, told: new Set() };
    this.current = s;
    const starts = { video: streamStartFrame(), audio: streamStartFrame() };
    this.output('video', starts.video);
    this.output('audio', starts.audio);
    this.addMessage('info', `${p.address} publishes${p.encoder ? ` (${p.encoder})` : ''}`);
    p.onMedia = (m) => this.media(s, m);
    p.onMetadata = (meta) => {
      if (typeof meta.encoder === 'string' && !s.told.has('encoder')) {
        s.told.add('encoder');
        this.addMessage('info', `encoder: ${meta.encoder.slice(0, 200)}`);
      }
    };
    p.onEnd = (reason) => {
      if (this.current !== s) return;
      this.current = null;
      if (this.flowing) this.addMessage('warning', `publisher ${p.address} gone: ${reason}`);
      this.flowing = false;
      if (this.mood === 'happy') this.setMood('hungry');
    };
  }

  private tell(s: Publish, what: string): void {
    if (s.told.has(what)) return;
    s.told.add(what);
    this.addMessage('warning', `ignoring ${what} from ${s.p.address}: H.264 video and AAC audio are taken`);
  }

  /** One FLV tag of the publisher (the data path). */
  private media(s: Publish, m: RtmpMessage): void {
    if (this.current !== s) return;
    s.lastData = Date.now();
    if (m.type === MSG.VIDEO) {
      const v = readVideoTag(m.payload, m.timestamp);
      if (!v) return;
      if (v.kind === 'unsupported') return this.tell(s, v.what);
      if (v.kind === 'config') {
        this.output('video', toFrame({ kind: 'caps', caps: v.caps }));
        if (!s.videoCaps) this.output('video', timeSegmentFrame());
        s.videoCaps = true;
        return;
      }
      if (v.kind !== 'frame' || !s.videoCaps) return;
      this.output('video', toFrame({
        kind: 'buffer', pts: v.ptsMs * 1e6, dts: v.dtsMs * 1e6, duration: null, offset: null, offsetEnd: null,
        flags: v.keyframe ? 0 : BUFFER_FLAG.DELTA_UNIT, data: v.data,
      }));
      this.flowingNow();
      return;
    }
    const a = readAudioTag(m.payload);
    if (!a) return;
    if (a.kind === 'unsupported') return this.tell(s, a.what);
    if (a.kind === 'config') {
      this.output('audio', toFrame({ kind: 'caps', caps: a.caps }));
      if (!s.audioCaps) this.output('audio', timeSegmentFrame());
      s.audioCaps = true;
      s.audioRate = a.rate;
      return;
    }
    if (!s.audioCaps) return;
    this.output('audio', toFrame({
      kind: 'buffer', pts: m.timestamp * 1e6, dts: m.timestamp * 1e6, duration: Math.round((1024 / s.audioRate) * 1e9), offset: null, offsetEnd: null, flags: 0, data: a.data,
    }));
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
  description: 'RTMP ingest for OBS and ffmpeg: H.264 on video, AAC on audio',
  properties: rtmpProducerProperties,
  eaters: [],
  feeders: ['video', 'audio'],
  // One publisher per port for now (no `sharesPort`): a second rtmp-producer on it clashes.
  listens: tcpOnHostPort,
  gstElements: [],
  create: (name, props) => new RtmpProducer(name, props),
});
