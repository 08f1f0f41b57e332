// wav-muxer: wraps raw audio (S16LE PCM or µ-law) in a streamable WAV: a RIFF header with
// unknown (0xffffffff) sizes, published as the caps' streamheader and sent in-band once with
// the HEADER flag, then the samples as they come. New input caps give a new header.

import { z } from 'zod';
import { BUFFER_FLAG, GdpFrame, toFrame } from '../../protocol/gdp';
import { GstCaps } from '../../protocol/gst/caps';
import { Component } from '../component/component';
import { defineComponentType } from './component-type';
import { audioFormat } from './raw-audio';

export const wavMuxerProperties = z.object({}).strict();

/** The 44/46-byte header of a WAV stream of unknown length. */
export function wavHeader(format: 'pcm16' | 'mulaw', rate: number, channels: number): Buffer {
  const mulaw = format === 'mulaw';
  const bits = mulaw ? 8 : 16;
  const fmtSize = mulaw ? 18 : 16;
  const h = Buffer.alloc(12 + 8 + fmtSize + 8);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(0xffffffff, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(fmtSize, 16);
  h.writeUInt16LE(mulaw ? 7 : 1, 20); // WAVE_FORMAT_MULAW / WAVE_FORMAT_PCM
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE((rate * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  let at = 36;
  if (mulaw) {
    h.writeUInt16LE(0, 36); // cbSize
    at = 38;
  }
  h.write('data', at, 'latin1');
  h.writeUInt32LE(0xffffffff, at + 4);
  return h;
}

export class WavMuxer extends Component<z.infer<typeof wavMuxerProperties>> {
  private ready = false;

  protected async setup(): Promise<void> {}
  protected async teardown(): Promise<void> {}

  protected override onFrame(_eater: string, _feedId: string, f: GdpFrame): void {
    if (f.kind === 'caps') {
      const fmt = audioFormat(GstCaps.parse(f.text ?? ''));
      const kind = fmt?.media === 'audio/x-mulaw' ? 'mulaw' : fmt?.media === 'audio/x-raw' && fmt.format === 'S16LE' ? 'pcm16' : null;
      if (!fmt || !kind) {
        this.ready = false;
        this.fail(`wav-muxer needs S16LE or µ-law audio, got ${f.text}`);
        return;
      }
      const header = wavHeader(kind, fmt.rate, fmt.channels);
      this.output('default', toFrame({ kind: 'caps', caps: `audio/x-wav, streamheader=(buffer)< ${header.toString('hex')} >` }));
      this.output('default', toFrame({ kind: 'buffer', pts: null, dts: null, duration: null, offset: null, offsetEnd: null, flags: BUFFER_FLAG.HEADER, data: header }));
      this.ready = true;
      return;
    }
    if (f.kind === 'event') {
      this.output('default', f);
      return;
    }
    if (!this.ready) return;
    // The samples go out as they are: the payload frame is re-headed, not copied.
    this.output('default', toFrame({ kind: 'buffer', pts: f.pts, dts: f.dts, duration: f.duration, offset: null, offsetEnd: null, flags: f.bufferFlags & ~BUFFER_FLAG.DELTA_UNIT, data: f.payload }));
  }
}

export const wavMuxerType = defineComponentType({
  type: 'wav-muxer',
  description: 'wraps raw or µ-law audio in a streamable WAV',
  properties: wavMuxerProperties,
  eaters: ['default'],
  feeders: ['default'],
  gstElements: [],
  create: (name, props) => new WavMuxer(name, props),
});
