// Real encoded bitstreams for RTMP tests, made at test time by GStreamer (x265enc, av1enc,
// vp9enc, x264enc, voaacenc from Debian's plugins), with what a publisher's sequence header
// needs: hvcC and avcC from the parsers' codec_data, an av1C built from the stream's sequence
// header OBU, a vpcC from the caps (VP9 has no configuration in its stream).

import { GdpFrame, BUFFER_FLAG } from '../../protocol/gdp';
import { spawnGdpProducer } from './gst';

export interface EncodedFrame {
  ptsMs: number;
  dtsMs: number;
  keyframe: boolean;
  data: Buffer;
}

export interface EncodedStream {
  caps: string;
  /** The configuration record a publisher sends first (hvcC, avcC, av1C, vpcC, AudioSpecificConfig). */
  config: Buffer;
  frames: EncodedFrame[];
}

export type VideoCodec = 'hevc' | 'av1' | 'vp9' | 'h264';

const RAW = (frames: number) => `videotestsrc num-buffers=${frames} pattern=ball ! video/x-raw,format=I420,width=320,height=240,framerate=25/1`;
const ENCODERS: Record<VideoCodec, string> = {
  hevc: 'x265enc speed-preset=ultrafast key-int-max=25 option-string=bframes=2 ! h265parse ! video/x-h265,stream-format=hvc1,alignment=au',
  av1: 'av1enc cpu-used=8 usage-profile=realtime keyframe-max-dist=25 ! av1parse ! video/x-av1,stream-format=obu-stream,alignment=tu',
  vp9: 'vp9enc deadline=1 keyframe-max-dist=25 ! video/x-vp9',
  h264: 'x264enc speed-preset=ultrafast key-int-max=25 bframes=2 ! h264parse ! video/x-h264,stream-format=avc,alignment=au',
};

function collect(pipeline: string): Promise<{ caps: string; buffers: GdpFrame[] }> {
  return new Promise((resolve, reject) => {
    let caps = '';
    const buffers: GdpFrame[] = [];
    const child = spawnGdpProducer(pipeline, (f) => {
      if (f.kind === 'caps') caps = f.text ?? '';
      else if (f.kind === 'buffer') buffers.push(f);
    });
    const t = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('exit', (code) => {
      clearTimeout(t);
      if (code !== 0 || !buffers.length) reject(new Error(`gst-launch-1.0 ${pipeline} exited with ${code} after ${buffers.length} buffers`));
      else resolve({ caps, buffers });
    });
  });
}

const ms = (t: bigint | null, fallback: number) => (t === null ? fallback : Number(t / 1000000n));

function frames(buffers: GdpFrame[]): EncodedFrame[] {
  return buffers.map((b) => {
    const pts = ms(b.pts, 0);
    return { ptsMs: pts, dtsMs: ms(b.dts, pts), keyframe: (b.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0, data: Buffer.from(b.payload) };
  });
}

function codecData(caps: string): Buffer {
  const m = /codec_data=\(buffer\)([0-9a-f]+)/.exec(caps);
  if (!m) throw new Error(`no codec_data in ${caps}`);
  return Buffer.from(m[1], 'hex');
}

/** Reads bits MSB first (AV1 syntax f(n)). */
class Bits {
  private bit = 0;
  constructor(private readonly b: Buffer) {}
  f(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++, this.bit++) v = v * 2 + ((this.b[this.bit >> 3] >> (7 - (this.bit & 7))) & 1);
    return v;
  }
}

/** leb128 (AV1 OBU sizes). */
function leb128(b: Buffer, at: number): { value: number; length: number } {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const byte = b[at + i];
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (!(byte & 0x80)) return { value, length: i + 1 };
  }
  throw new Error('bad leb128');
}

/**
 * AV1-ISOBMFF 2.3 av1C from a temporal unit holding the sequence header OBU: profile, level and
 * tier from the header; the color fields are those of the 8-bit 4:2:0 input these tests encode.
 */
export function av1cFromTemporalUnit(tu: Buffer): Buffer {
  for (let at = 0; at < tu.length;) {
    const header = tu[at];
    const type = (header >> 3) & 0x0f;
    const ext = (header >> 2) & 1;
    if (!((header >> 1) & 1)) throw new Error('AV1 OBU without a size field');
    const size = leb128(tu, at + 1 + ext);
    const start = at + 1 + ext + size.length;
    if (type === 1) {
      const r = new Bits(tu.subarray(start, start + size.value));
      const profile = r.f(3);
      r.f(1); // still_picture
      const reduced = r.f(1);
      let level: number;
      let tier = 0;
      if (reduced) level = r.f(5);
      else {
        if (r.f(1)) throw new Error('test helper: AV1 timing info not expected from av1enc realtime');
        r.f(1); // initial_display_delay_present_flag (0 from libaom by default; its fields follow per point)
        r.f(5); // operating_points_cnt_minus_1
        r.f(12); // operating_point_idc[0]
        level = r.f(5);
        tier = level > 7 ? r.f(1) : 0;
      }
      const obu = tu.subarray(at, start + size.value);
      return Buffer.concat([Buffer.from([0x81, (profile << 5) | level, (tier << 7) | (1 << 3) | (1 << 2), 0]), obu]);
    }
    at = start + size.value;
  }
  throw new Error('no sequence header OBU in the first temporal unit');
}

/** VP Codec ISO Media File Format 2.2 vpcC without its box header (as FFmpeg's flvenc writes it). */
export function vpccBare(profile: number): Buffer {
  return Buffer.from([profile, 0, (8 << 4) | (1 << 1) | 0, 1, 1, 1, 0, 0]);
}

/** `frames` frames of 320x240 at 25 fps, encoded. */
export async function encodeVideo(codec: VideoCodec, count = 50): Promise<EncodedStream> {
  const { caps, buffers } = await collect(`${RAW(count)} ! ${ENCODERS[codec]}`);
  const fs = frames(buffers);
  let config: Buffer;
  if (codec === 'av1') config = av1cFromTemporalUnit(fs[0].data);
  else if (codec === 'vp9') config = vpccBare(Number(/profile=\(string\)(\d)/.exec(caps)?.[1] ?? 0));
  else config = codecData(caps);
  return { caps, config, frames: fs };
}

/** `seconds` of a 440 Hz tone as AAC-LC raw frames, 44.1 kHz stereo. */
export async function encodeAac(seconds = 2): Promise<EncodedStream> {
  const n = Math.ceil((seconds * 44100) / 1024);
  const { caps, buffers } = await collect(`audiotestsrc num-buffers=${n} samplesperbuffer=1024 ! audio/x-raw,rate=44100,channels=2 ! voaacenc ! aacparse ! audio/mpeg,stream-format=raw`);
  return { caps, config: codecData(caps), frames: frames(buffers) };
}
