// H.264 over RTP (RFC 6184, packetization-mode 1), both ways, pure: NAL units out of an access
// unit (Annex B byte-stream or AVC length-prefixed with its codec_data), payloads of at most
// `mtu` bytes (a NAL unit alone, or cut into FU-A fragments), and back from payloads (single NAL
// units, STAP-A, FU-A) to Annex B access units with their keyframe flag. A fragment lost in the
// middle of an access unit drops that unit; the receiver's decoder asks for a keyframe.

const START = Buffer.from([0, 0, 0, 1]);

export const NAL = { IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9, STAP_A: 24, FU_A: 28 } as const;

export const nalType = (nal: Buffer): number => nal[0] & 0x1f;

/** The NAL units of an Annex B buffer (start codes 00 00 01 or 00 00 00 01), without their start codes. */
export function nalUnitsAnnexB(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  let start = -1;
  const n = data.length;
  while (i + 2 < n) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        while (end > start && data[end - 1] === 0) end--; // trailing zeros belong to the next start code
        if (end > start) out.push(data.subarray(start, end));
      }
      i += 3;
      start = i;
      continue;
    }
    i++;
  }
  if (start >= 0 && start < n) out.push(data.subarray(start));
  else if (start < 0 && n) out.push(data); // no start code: one NAL unit
  return out;
}

/** The NAL units of an AVC (length-prefixed) buffer; null when the lengths do not add up. */
export function nalUnitsAvc(data: Buffer, lengthSize: number): Buffer[] | null {
  const out: Buffer[] = [];
  let i = 0;
  while (i < data.length) {
    if (i + lengthSize > data.length) return null;
    const len = data.readUIntBE(i, lengthSize);
    i += lengthSize;
    if (len === 0 || i + len > data.length) return null;
    out.push(data.subarray(i, i + len));
    i += len;
  }
  return out;
}

export interface AvcConfig {
  lengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
}

/** An avcC record (the caps' codec_data of stream-format=avc); null when it is malformed. */
export function parseAvcConfig(c: Buffer): AvcConfig | null {
  if (c.length < 7 || c[0] !== 1) return null;
  const lengthSize = (c[4] & 3) + 1;
  let i = 5;
  const take = (count: number): Buffer[] | null => {
    const list: Buffer[] = [];
    for (let k = 0; k < count; k++) {
      if (i + 2 > c.length) return null;
      const len = c.readUInt16BE(i);
      i += 2;
      if (i + len > c.length) return null;
      list.push(c.subarray(i, i + len));
      i += len;
    }
    return list;
  };
  const sps = take(c[i++] & 0x1f);
  if (!sps || i >= c.length) return null;
  const pps = take(c[i++]);
  if (!pps) return null;
  return { lengthSize, sps, pps };
}

/** profile-level-id (6 hex digits) of an SPS NAL unit: profile_idc, constraint flags, level_idc. */
export function profileLevelId(sps: Buffer): string | null {
  return sps.length >= 4 ? sps.subarray(1, 4).toString('hex') : null;
}

/**
 * RTP payloads of one access unit: each NAL unit alone when it fits in `mtu`, else FU-A
 * fragments. Access unit delimiters are left out (RFC 6184 allows them; nobody needs them).
 */
export function packetizeH264(nals: readonly Buffer[], mtu: number): Buffer[] {
  const out: Buffer[] = [];
  for (const nal of nals) {
    if (nal.length === 0 || nalType(nal) === NAL.AUD) continue;
    if (nal.length <= mtu) {
      out.push(nal);
      continue;
    }
    const indicator = (nal[0] & 0xe0) | NAL.FU_A;
    const type = nal[0] & 0x1f;
    const room = mtu - 2;
    for (let at = 1; at < nal.length; at += room) {
      const end = Math.min(nal.length, at + room);
      const header = (at === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
      out.push(Buffer.concat([Buffer.from([indicator, header]), nal.subarray(at, end)]));
    }
  }
  return out;
}

export interface AccessUnit {
  /** Annex B (4-byte start codes). */
  data: Buffer;
  keyframe: boolean;
  /** RTP timestamp. */
  timestamp: number;
}

/**
 * Reassembles access units from RTP payloads in arrival order (RFC 6184: single NAL, STAP-A,
 * FU-A). An access unit ends at the marker bit or when the timestamp changes; a gap in the
 * sequence numbers inside one drops it. Bounded: a unit past `maxBytes` is dropped.
 */
export class H264Depacketizer {
  private nals: Buffer[] = [];
  private bytes = 0;
  private fu: Buffer[] | null = null;
  private ts: number | null = null;
  private lastSeq: number | null = null;
  private broken = false;
  /** Access units dropped (a lost fragment, a malformed payload, too large). */
  dropped = 0;

  constructor(private readonly maxBytes = 4 * 1024 * 1024) {}

  /** One RTP packet; returns the access unit it completes, if any (the previous one when the timestamp moved on). */
  push(seq: number, timestamp: number, marker: boolean, payload: Buffer): AccessUnit | null {
    let done: AccessUnit | null = null;
    if (this.ts !== null && timestamp !== this.ts) done = this.flush();
    if (this.lastSeq !== null && ((this.lastSeq + 1) & 0xffff) !== seq && this.ts === timestamp) this.broken = true;
    this.lastSeq = seq;
    this.ts = timestamp;
    this.take(payload);
    if (marker) {
      const unit = this.flush();
      return unit ?? done;
    }
    return done;
  }

  private add(nal: Buffer): void {
    this.bytes += nal.length + 4;
    if (this.bytes > this.maxBytes) this.broken = true;
    else this.nals.push(nal);
  }

  private take(p: Buffer): void {
    if (p.length < 1) {
      this.broken = true;
      return;
    }
    const type = nalType(p);
    if (type >= 1 && type <= 23) {
      this.add(p);
      return;
    }
    if (type === NAL.STAP_A) {
      let i = 1;
      while (i + 2 <= p.length) {
        const len = p.readUInt16BE(i);
        i += 2;
        if (len === 0 || i + len > p.length) {
          this.broken = true;
          return;
        }
        this.add(p.subarray(i, i + len));
        i += len;
      }
      return;
    }
    if (type === NAL.FU_A) {
      if (p.length < 3) {
        this.broken = true;
        return;
      }
      const start = (p[1] & 0x80) !== 0;
      const end = (p[1] & 0x40) !== 0;
      if (start) this.fu = [Buffer.from([(p[0] & 0xe0) | (p[1] & 0x1f)])];
      else if (!this.fu) {
        this.broken = true; // the start was lost
        return;
      }
      this.fu.push(p.subarray(2));
      if (end) {
        this.add(Buffer.concat(this.fu));
        this.fu = null;
      }
      return;
    }
    this.broken = true; // STAP-B, MTAP, FU-B: packetization-mode 2 only, never negotiated
  }

  private flush(): AccessUnit | null {
    const nals = this.nals;
    const ts = this.ts ?? 0;
    const broken = this.broken || this.fu !== null;
    this.nals = [];
    this.bytes = 0;
    this.fu = null;
    this.broken = false;
    this.ts = null;
    if (!nals.length) return null;
    if (broken) {
      this.dropped++;
      return null;
    }
    const parts: Buffer[] = [];
    let keyframe = false;
    for (const n of nals) {
      if (nalType(n) === NAL.IDR) keyframe = true;
      parts.push(START, n);
    }
    return { data: Buffer.concat(parts), keyframe, timestamp: ts };
  }
}
