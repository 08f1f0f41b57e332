// What test publishers write on the RTMP wire, independent of fluxcast's own writer: chunks cut
// and compressed exactly as FFmpeg's ff_rtmp_packet_write does (type 0 for a new chunk stream or
// a step back, type 1 for a new length or type, type 2 for a new delta, type 3 when the delta
// repeats the last timestamp field, including right after a type 0), AMF3 values (with string
// and traits references, as Flash-era encoders write them), and E-RTMP tags.

export interface WireMessage {
  type: number;
  /** 32 bits */
  timestamp: number;
  streamId: number;
  payload: Buffer;
}

interface Prev {
  type: number;
  size: number;
  timestamp: number;
  tsField: number;
  streamId: number;
}

export class FfmpegChunkWriter {
  private readonly prev = new Map<number, Prev>();
  /** How many chunks of each header type it wrote (0..3), for tests that want all of them. */
  readonly headerTypes = [0, 0, 0, 0];

  constructor(public chunkSize = 128) {}

  write(m: WireMessage, csid: number): Buffer {
    if (csid < 2 || csid > 63) throw new Error('test writer: chunk stream ids 2..63 only');
    const p = this.prev.get(csid);
    const useDelta = !!p && m.streamId === p.streamId && m.timestamp >= p.timestamp;
    const ts = useDelta ? m.timestamp - (p as Prev).timestamp : m.timestamp;
    const tsField = ts >= 0xffffff ? 0xffffff : ts;
    let mode = 0;
    if (p && useDelta) {
      if (m.type === p.type && m.payload.length === p.size) mode = tsField === p.tsField ? 3 : 2;
      else mode = 1;
    }
    this.headerTypes[mode]++;
    const h: number[] = [(mode << 6) | csid];
    const be = (v: number, n: number) => {
      for (let i = n - 1; i >= 0; i--) h.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
    };
    if (mode !== 3) {
      be(tsField, 3);
      if (mode < 2) {
        be(m.payload.length, 3);
        h.push(m.type);
        if (mode === 0) h.push(m.streamId & 0xff, (m.streamId >> 8) & 0xff, (m.streamId >> 16) & 0xff, (m.streamId >>> 24) & 0xff);
      }
    }
    if (tsField === 0xffffff) be(ts, 4);
    this.prev.set(csid, { type: m.type, size: m.payload.length, timestamp: m.timestamp, tsField, streamId: m.streamId });
    const parts: Buffer[] = [Buffer.from(h)];
    for (let off = 0; off < m.payload.length || off === 0; off += this.chunkSize) {
      if (off > 0) {
        const c = [0xc0 | csid];
        if (tsField === 0xffffff) c.push((ts >>> 24) & 0xff, (ts >> 16) & 0xff, (ts >> 8) & 0xff, ts & 0xff);
        parts.push(Buffer.from(c));
      }
      parts.push(m.payload.subarray(off, off + this.chunkSize));
      if (!m.payload.length) break;
    }
    return Buffer.concat(parts);
  }
}

export type Amf3Input = number | boolean | string | null | undefined | Amf3Input[] | { [key: string]: Amf3Input };

function u29(n: number): number[] {
  if (n < 0 || n >= 0x20000000) throw new Error(`U29 out of range: ${n}`);
  if (n < 0x80) return [n];
  if (n < 0x4000) return [0x80 | (n >> 7), n & 0x7f];
  if (n < 0x200000) return [0x80 | (n >> 14), 0x80 | ((n >> 7) & 0x7f), n & 0x7f];
  return [0x80 | (n >> 22), 0x80 | ((n >> 15) & 0x7f), 0x80 | ((n >> 8) & 0x7f), n & 0xff];
}

/** One AMF3 value (marker included), with string references and a traits reference for repeated anonymous objects. */
export function amf3(v: Amf3Input): Buffer {
  const strings: string[] = [];
  let anonymousTraits = false;
  const out: number[] = [];
  const str = (s: string) => {
    if (s === '') return out.push(0x01);
    const i = strings.indexOf(s);
    if (i >= 0) return out.push(...u29(i << 1));
    strings.push(s);
    const b = Buffer.from(s, 'utf8');
    out.push(...u29((b.length << 1) | 1), ...b);
  };
  const value = (x: Amf3Input): void => {
    if (x === undefined) out.push(0x00);
    else if (x === null) out.push(0x01);
    else if (x === false) out.push(0x02);
    else if (x === true) out.push(0x03);
    else if (typeof x === 'number') {
      if (Number.isInteger(x) && x >= 0 && x < 0x10000000 && !Object.is(x, -0)) out.push(0x04, ...u29(x));
      else {
        const b = Buffer.alloc(8);
        b.writeDoubleBE(x);
        out.push(0x05, ...b);
      }
    } else if (typeof x === 'string') {
      out.push(0x06);
      str(x);
    } else if (Array.isArray(x)) {
      out.push(0x09, ...u29((x.length << 1) | 1), 0x01);
      for (const e of x) value(e);
    } else {
      out.push(0x0a);
      if (anonymousTraits) out.push(...u29((0 << 2) | 1)); // traits reference 0
      else {
        out.push(0x0b, 0x01); // inline traits: dynamic, no sealed members; class name ''
        anonymousTraits = true;
      }
      for (const [k, e] of Object.entries(x)) {
        str(k);
        value(e);
      }
      out.push(0x01);
    }
  };
  value(v);
  return Buffer.from(out);
}

/** An E-RTMP video tag: [IsExHeader | FrameType | PacketType] FourCC [SI24 composition time] body. */
export function exVideoTag(o: { keyframe: boolean; packetType: number; fourcc: string; body: Buffer; cts?: number }): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 0x80 | ((o.keyframe ? 1 : 2) << 4) | o.packetType;
  head.write(o.fourcc, 1, 'latin1');
  if (o.cts === undefined) return Buffer.concat([head, o.body]);
  const cts = Buffer.alloc(3);
  cts.writeIntBE(o.cts, 0, 3);
  return Buffer.concat([head, cts, o.body]);
}

/** A legacy AAC audio tag (SoundFormat 10, 44 kHz, 16 bit, stereo): 0 = AudioSpecificConfig, 1 = raw frame. */
export function aacTag(packetType: 0 | 1, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xaf, packetType]), body]);
}

export const fourccNumber = (f: string) => Buffer.from(f, 'latin1').readUInt32BE(0);
