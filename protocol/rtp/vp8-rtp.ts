// VP8 over RTP (RFC 7741), both ways, pure: a frame cut into payloads of at most `mtu` bytes,
// each with the one-byte payload descriptor (S set on the first, partition 0), and back from
// payloads to frames with their keyframe flag (the P bit of the VP8 payload header). A packet
// lost inside a frame drops the frame; the receiver's decoder asks for a keyframe.

/** RTP payloads of one VP8 frame (marker on the last one). */
export function packetizeVp8(frame: Buffer, mtu: number): Buffer[] {
  const room = mtu - 1;
  const out: Buffer[] = [];
  for (let at = 0; at < frame.length; at += room) {
    out.push(Buffer.concat([Buffer.from([at === 0 ? 0x10 : 0x00]), frame.subarray(at, Math.min(frame.length, at + room))]));
  }
  return out;
}

/** Bytes of the payload descriptor at the start of `p`, or -1 when it is malformed. */
export function vp8DescriptorLength(p: Buffer): number {
  if (p.length < 1) return -1;
  let i = 1;
  if (p[0] & 0x80) {
    if (p.length < 2) return -1;
    const x = p[1];
    i = 2;
    if (x & 0x80) {
      if (p.length < i + 1) return -1;
      i += p[i] & 0x80 ? 2 : 1; // PictureID, 7 or 15 bits
    }
    if (x & 0x40) i += 1; // TL0PICIDX
    if (x & 0x30) i += 1; // TID/Y/KEYIDX
  }
  return i <= p.length ? i : -1;
}

export interface Vp8Frame {
  data: Buffer;
  keyframe: boolean;
  timestamp: number;
}

/** Reassembles VP8 frames from RTP payloads in arrival order; bounded by `maxBytes` per frame. */
export class Vp8Depacketizer {
  private parts: Buffer[] = [];
  private bytes = 0;
  private ts: number | null = null;
  private lastSeq: number | null = null;
  private broken = false;
  private started = false;
  dropped = 0;

  constructor(private readonly maxBytes = 4 * 1024 * 1024) {}

  push(seq: number, timestamp: number, marker: boolean, payload: Buffer): Vp8Frame | null {
    let done: Vp8Frame | null = null;
    if (this.ts !== null && timestamp !== this.ts) done = this.flush();
    if (this.lastSeq !== null && ((this.lastSeq + 1) & 0xffff) !== seq && this.ts === timestamp) this.broken = true;
    this.lastSeq = seq;
    this.ts = timestamp;
    const d = vp8DescriptorLength(payload);
    if (d < 0) this.broken = true;
    else {
      const startOfFrame = (payload[0] & 0x10) !== 0 && (payload[0] & 0x0f) === 0;
      if (startOfFrame) {
        this.parts = [];
        this.bytes = 0;
        this.started = true;
      } else if (!this.started) this.broken = true;
      const data = payload.subarray(d);
      this.bytes += data.length;
      if (this.bytes > this.maxBytes) this.broken = true;
      else this.parts.push(data);
    }
    if (marker) return this.flush() ?? done;
    return done;
  }

  private flush(): Vp8Frame | null {
    const parts = this.parts;
    const ts = this.ts ?? 0;
    const ok = !this.broken && this.started && parts.length > 0;
    this.parts = [];
    this.bytes = 0;
    this.broken = false;
    this.started = false;
    this.ts = null;
    if (!parts.length) return null;
    if (!ok) {
      this.dropped++;
      return null;
    }
    const data = Buffer.concat(parts);
    if (data.length < 3) {
      this.dropped++;
      return null;
    }
    return { data, keyframe: (data[0] & 0x01) === 0, timestamp: ts };
  }
}

/** VP8 frame size from a keyframe's header (width and height, 14 bits each), or null. */
export function vp8KeyframeSize(frame: Buffer): { width: number; height: number } | null {
  if (frame.length < 10 || (frame[0] & 1) !== 0) return null;
  if (frame[3] !== 0x9d || frame[4] !== 0x01 || frame[5] !== 0x2a) return null;
  return { width: frame.readUInt16LE(6) & 0x3fff, height: frame.readUInt16LE(8) & 0x3fff };
}
