// srt-producer: an SRT listener (GStreamer's srtserversrc, in a gst-launch child) for a studio
// or OBS pushing MPEG-TS over SRT. With `output: elementary` (the default) the TS is demuxed:
// H.264 goes out of the `video` feeder (byte-stream, access units, SPS/PPS before keyframes),
// AAC out of `audio` (ADTS). With `output: ts` the TS goes out of `default` as it is.
// Hungry until a caller sends; happy from its first buffer; when the caller leaves (the child
// reaches EOS) or stalls past `source-timeout`, hungry again, and the listener is set up anew
// for the next caller, whose stream is a new one downstream (fresh stream-starts).

import { z } from 'zod';
import { GdpFrame } from '../../protocol/gdp';
import { EVENT_TYPES } from '../../protocol/gst/event-types';
import { Component, PermanentError } from '../component/component';
import { TaskRun } from '../component/component-tasks';
import { defineComponentType } from './component-type';
import { GstChild } from './pipeline/gst-child';
import { missingElementsText } from './gst-elements';
import { elementsOf, missingElements } from './pipeline/pipeline-component';
import { streamStartFrame } from './raw-audio';

export const srtProducerProperties = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(8890),
    /** SRT encryption passphrase (10 to 79 characters); callers must give the same */
    passphrase: z.string().min(10).max(79).optional(),
    /** SRT latency, milliseconds */
    latency: z.number().int().min(20).max(8000).default(125),
    /** elementary: H.264 on `video`, AAC on `audio`; ts: the MPEG-TS as it is on `default` */
    output: z.enum(['elementary', 'ts']).default('elementary'),
    /** seconds without data from a connected caller before it counts as gone */
    'source-timeout': z.number().positive().default(5),
  })
  .strict();
export type SrtProducerProperties = z.infer<typeof srtProducerProperties>;

/** Characters a passphrase may hold here (it goes into a gst-launch argument). */
const SAFE_PASSPHRASE = /^[A-Za-z0-9_.:+\-/=@%,]+$/;

export function srtPipeline(p: SrtProducerProperties): { description: string; feeders: Map<string, number> } {
  const uri = `srt://${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}?mode=listener`;
  const src = `srtserversrc uri=${uri} latency=${p.latency}${p.passphrase ? ` passphrase=${p.passphrase} pbkeylen=16` : ''}`;
  if (p.output === 'ts') {
    return { description: `${src} ! tsparse set-timestamps=true ! gdppay ! fdsink fd=3 sync=false`, feeders: new Map([['default', 3]]) };
  }
  return {
    description:
      `${src} ! tsdemux name=d latency=0 ` +
      `d. ! video/x-h264 ! queue max-size-time=3000000000 ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au ! gdppay ! fdsink fd=3 sync=false ` +
      `d. ! audio/mpeg ! queue max-size-time=3000000000 ! aacparse ! audio/mpeg,stream-format=adts ! gdppay ! fdsink fd=4 sync=false`,
    feeders: new Map([['video', 3], ['audio', 4]]),
  };
}

/** One run of the SRT listener: its gst-launch child, until its caller leaves or stalls. */
interface ListenerRun {
  child: GstChild;
  run: TaskRun;
  served: boolean;
  stalled: boolean;
}

export class SrtProducer extends Component<SrtProducerProperties> {
  private current: ListenerRun | null = null;
  private flowing = false;
  private lastData = 0;
  private watchdog: NodeJS.Timeout | null = null;
  /** Callers served so far. */
  sessions = 0;

  protected override allFeedsFlowing(): boolean {
    return this.flowing;
  }

  protected async setup(): Promise<void> {
    const p = this.properties;
    if (p.passphrase && !SAFE_PASSPHRASE.test(p.passphrase)) throw new PermanentError('passphrase: use letters, digits and _.:+-/=@%, only');
    const layout = srtPipeline(p);
    const missing = await missingElements(layout.description);
    if (missing.length) throw new PermanentError(missingElementsText(missing));
    // The listener is a supervised task: a caller leaving ends a run (a fresh listener at once,
    // counted nowhere); a listener that dies before any caller is a failure, and the component's
    // supervision decides (backoff, then sad with the reason).
    this.startTask({ id: 'srt listener', flags: { intensity: 0 }, run: (t) => this.listen(t) });
    this.watchdog = setInterval(() => this.checkStall(), 250);
    this.watchdog.unref();
    this.addMessage('info', `waiting for an SRT caller on srt://${p.host}:${p.port}`);
  }

  protected async teardown(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.flowing = false;
  }

  private listen(t: TaskRun): void {
    const layout = srtPipeline(this.properties);
    const cur: ListenerRun = { child: new GstChild(layout.description, new Map(), layout.feeders), run: t, served: false, stalled: false };
    const { child } = cur;
    this.current = cur;
    t.defer(async () => {
      if (this.current === cur) this.current = null;
      // The next listener binds the port once this one is gone (two sockets on one UDP port split
      // its packets); a stalled caller has nothing left to drain.
      await child.stop(cur.stalled ? 0 : 1000);
    });
    const starts = new Map<string, GdpFrame>();
    child.on('frame', (feeder, f) => {
      if (this.current !== cur) return;
      if (f.kind === 'event' && f.eventType === EVENT_TYPES['stream-start']) {
        // srtserversrc names every stream alike: each caller's is made a new one.
        let s = starts.get(feeder);
        if (!s) starts.set(feeder, (s = streamStartFrame()));
        f = s;
      } else if (f.kind === 'event' && f.eventType === EVENT_TYPES.eos) {
        return;
      }
      if (f.kind === 'buffer') {
        this.lastData = Date.now();
        if (!this.flowing) {
          this.flowing = true;
          cur.served = true;
          this.sessions++;
          this.addMessage('info', 'an SRT caller is sending');
          if (this.mood === 'hungry') this.setMood('happy');
        }
      }
      this.output(feeder, f);
    });
    child.on('stderr', (line) => {
      if (/^ERROR/.test(line)) this.addMessage('warning', line);
    });
    child.on('exit', (_code, _signal, errorText, unbuildable) => {
      if (this.current !== cur || !t.alive()) return;
      this.current = null;
      if (errorText && unbuildable) return this.fail(errorText);
      if (!cur.served && errorText) return t.fail(new Error(`the SRT listener stopped before any caller: ${errorText}`));
      this.callerGone(errorText ? `the SRT pipeline stopped: ${errorText}` : 'the SRT caller left');
      t.again();
    });
    child.start();
  }

  private checkStall(): void {
    const cur = this.current;
    if (!cur || !this.flowing || Date.now() - this.lastData <= this.properties['source-timeout'] * 1000) return;
    cur.stalled = true;
    this.current = null;
    this.callerGone(`the SRT caller sent nothing for ${this.properties['source-timeout']} s`);
    cur.run.again();
  }

  /** The caller is gone: hungry until the next one (the task starts a fresh listener). */
  private callerGone(reason: string): void {
    if (this.flowing) this.addMessage('warning', reason);
    this.flowing = false;
    if (this.mood === 'happy') this.setMood('hungry');
  }
}

export const srtProducerType = defineComponentType({
  type: 'srt-producer',
  description: 'an SRT listener for MPEG-TS callers: H.264 on video and AAC on audio, or the TS as it is on default',
  properties: srtProducerProperties,
  eaters: [],
  feeders: ['video', 'audio', 'default'],
  listens: (p) => [{ protocol: 'udp', host: p.host, port: p.port, property: 'port' }],
  gstElements: [...new Set((['elementary', 'ts'] as const).flatMap((output) => elementsOf(srtPipeline({ ...srtProducerProperties.parse({}), output }).description)))],
  create: (name, props) => new SrtProducer(name, props),
});
