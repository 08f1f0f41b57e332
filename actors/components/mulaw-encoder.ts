// mulaw-encoder: a converter from S16LE raw audio to G.711 µ-law (audio/x-mulaw), one byte per
// sample. Sticky events pass through; caps are rewritten; a wrong input format makes it sad.

import { z } from 'zod';
import { GdpFrame, toFrame } from '../../protocol/gdp';
import { GstCaps } from '../../protocol/gst/caps';
import { Component } from '../component/component';
import { defineComponentType } from './component-type';
import { audioFormat } from './raw-audio';

export const mulawEncoderProperties = z.object({}).strict();

const BIAS = 0x84;
const CLIP = 32635;

/** G.711 µ-law of one signed 16-bit sample (the classic Sun/CCITT reference algorithm). */
export function linearToMulaw(sample: number): number {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** The inverse, for tests and for anyone decoding what we send. */
export function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? BIAS - t : t - BIAS;
}

const TABLE = new Uint8Array(65536);
for (let i = 0; i < 65536; i++) TABLE[i] = linearToMulaw(i < 32768 ? i : i - 65536);

export class MulawEncoder extends Component<z.infer<typeof mulawEncoderProperties>> {
  private ok = false;

  protected async setup(): Promise<void> {}
  protected async teardown(): Promise<void> {}

  protected override onFrame(_eater: string, _feedId: string, f: GdpFrame): void {
    if (f.kind === 'caps') {
      const fmt = audioFormat(GstCaps.parse(f.text ?? ''));
      this.ok = !!fmt && fmt.media === 'audio/x-raw' && fmt.format === 'S16LE';
      if (!fmt || !this.ok) {
        this.fail(`mulaw-encoder needs S16LE raw audio, got ${f.text}`);
        return;
      }
      this.output('default', toFrame({ kind: 'caps', caps: `audio/x-mulaw, rate=(int)${fmt.rate}, channels=(int)${fmt.channels}` }));
      return;
    }
    if (f.kind === 'event') {
      this.output('default', f);
      return;
    }
    if (!this.ok) return;
    const pcm = f.payload;
    const out = Buffer.allocUnsafe(pcm.length >> 1);
    for (let i = 0, j = 0; j < out.length; i += 2, j++) out[j] = TABLE[pcm[i] | (pcm[i + 1] << 8)];
    this.output('default', toFrame({ kind: 'buffer', pts: f.pts, dts: f.dts, duration: f.duration, offset: f.offset, offsetEnd: f.offsetEnd, flags: f.bufferFlags, data: out }));
  }
}

export const mulawEncoderType = defineComponentType({
  type: 'mulaw-encoder',
  description: 'encodes S16LE raw audio to G.711 µ-law',
  properties: mulawEncoderProperties,
  eaters: ['default'],
  feeders: ['default'],
  gstElements: [],
  create: (name, props) => new MulawEncoder(name, props),
});
