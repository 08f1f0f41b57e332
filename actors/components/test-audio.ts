// test-audio: a producer of a sine tone in real time, S16LE raw audio. It sends
// stream-start, caps and a TIME segment, then buffers paced by the clock (never ahead of it,
// catching up after a stall), with exact PTS, duration and sample offsets.

import { z } from 'zod';
import { BUFFER_FLAG, toFrame } from '../../protocol/gdp';
import { Component } from '../component/component';
import { defineComponentType } from './component-type';
import { rawAudioCaps, streamStartFrame, timeSegmentFrame } from './raw-audio';

export const testAudioProperties = z
  .object({
    rate: z.number().int().min(1000).max(192000).default(8000),
    channels: z.number().int().min(1).max(8).default(1),
    frequency: z.number().positive().max(96000).default(440),
    /** 0..1 */
    volume: z.number().min(0).max(1).default(0.5),
    'samples-per-buffer': z.number().int().min(16).max(65536).default(160),
  })
  .strict();
export type TestAudioProperties = z.infer<typeof testAudioProperties>;

export class TestAudio extends Component<TestAudioProperties> {
  private timer: NodeJS.Timeout | null = null;
  private samples = 0;
  private started = 0;

  protected async setup(): Promise<void> {
    const p = this.properties;
    this.output('default', streamStartFrame());
    this.output('default', toFrame({ kind: 'caps', caps: rawAudioCaps(p.rate, p.channels) }));
    this.output('default', timeSegmentFrame());
    this.samples = 0;
    this.started = performance.now();
    const period = Math.max(5, Math.floor((p['samples-per-buffer'] / p.rate) * 1000 / 2));
    this.timer = setInterval(() => this.produce(), period);
    this.timer.unref(); // the worker's servers keep the process alive, not a tone
    this.produce();
  }

  protected async teardown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Makes every buffer whose end time has come, like a live capture source. */
  private produce(): void {
    const p = this.properties;
    const n = p['samples-per-buffer'];
    const due = ((performance.now() - this.started) / 1000) * p.rate;
    // After a long stall, skip ahead rather than flood (at most one second of catch-up).
    if (due - this.samples > p.rate) this.samples = Math.floor(due / n) * n - n;
    // (samples stays a multiple of n, so offsets and timestamps stay contiguous otherwise)
    while (this.samples + n <= due) {
      const data = Buffer.allocUnsafe(n * p.channels * 2);
      const amp = p.volume * 32767;
      const w = (2 * Math.PI * p.frequency) / p.rate;
      for (let i = 0; i < n; i++) {
        const v = Math.round(amp * Math.sin(w * (this.samples + i)));
        for (let c = 0; c < p.channels; c++) data.writeInt16LE(v, (i * p.channels + c) * 2);
      }
      const pts = Math.round((this.samples * 1e9) / p.rate);
      const end = Math.round(((this.samples + n) * 1e9) / p.rate);
      this.output('default', toFrame({
        kind: 'buffer', pts, dts: null, duration: end - pts, offset: this.samples, offsetEnd: this.samples + n,
        flags: this.samples === 0 ? BUFFER_FLAG.DISCONT : 0, data,
      }));
      this.samples += n;
    }
  }
}

export const testAudioType = defineComponentType({
  type: 'test-audio',
  description: 'a sine tone in real time (S16LE raw audio)',
  properties: testAudioProperties,
  eaters: [],
  feeders: ['default'],
  gstElements: [],
  create: (name, props) => new TestAudio(name, props),
});
