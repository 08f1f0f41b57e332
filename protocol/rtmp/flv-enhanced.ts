// The Enhanced RTMP header (veovera E-RTMP v1 and v2) of a video or audio tag: after the first
// byte (IsExHeader set: FrameType and PacketType for video, SoundFormat 9 and PacketType for
// audio) come any ModEx blocks (a nanosecond offset), then either one FourCC and the body, or a
// Multitrack header and its tracks (one track; many of one codec; many of many codecs), each with
// its track id and, for many, its size. This file splits a tag into those packets; flv.ts decides
// what each packet means. Pure; a header it cannot follow is reported, never guessed.

export const VIDEO_PACKET = { SEQUENCE_START: 0, CODED_FRAMES: 1, SEQUENCE_END: 2, CODED_FRAMES_X: 3, METADATA: 4, MPEG2TS_SEQUENCE_START: 5, MULTITRACK: 6, MOD_EX: 7 } as const;
export const AUDIO_PACKET = { SEQUENCE_START: 0, CODED_FRAMES: 1, SEQUENCE_END: 2, MULTICHANNEL_CONFIG: 4, MULTITRACK: 5, MOD_EX: 7 } as const;
const MULTITRACK = { ONE_TRACK: 0, MANY_TRACKS: 1, MANY_TRACKS_MANY_CODECS: 2 } as const;
const MOD_EX_TIMESTAMP_OFFSET_NANO = 0;
/** ModEx blocks one tag may carry before we call it hostile. */
const MAX_MOD_EX = 8;

export interface ExPacket {
  packetType: number;
  /** 'hvc1', 'av01', 'mp4a'... */
  fourcc: string;
  trackId: number;
  body: Buffer;
}

export type ExTag =
  | {
      ok: true;
      /** Video only: 1 key frame, 2 inter frame, 5 command (then no packets). */
      frameType: number;
      /** TimestampOffsetNano from a ModEx block (0 to 999999), added to the millisecond timestamp. */
      nanos: number;
      packets: ExPacket[];
    }
  | { ok: false; what: string };

class Truncated extends Error {}

class Cursor {
  pos = 1;
  constructor(readonly b: Buffer) {}
  take(n: number): Buffer {
    if (this.pos + n > this.b.length) throw new Truncated();
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0];
  }
  fourcc(): string {
    return this.take(4).toString('latin1');
  }
  rest(): Buffer {
    return this.take(this.b.length - this.pos);
  }
}

/** Splits an enhanced tag (`media` says which table of packet types applies). */
export function readExTag(b: Buffer, media: 'video' | 'audio'): ExTag {
  const types = media === 'video' ? VIDEO_PACKET : AUDIO_PACKET;
  const frameType = media === 'video' ? (b[0] >> 4) & 0x07 : 0;
  let packetType = b[0] & 0x0f;
  const c = new Cursor(b);
  try {
    let nanos = 0;
    for (let i = 0; packetType === types.MOD_EX; i++) {
      if (i >= MAX_MOD_EX) return { ok: false, what: `more than ${MAX_MOD_EX} ModEx blocks in one ${media} tag` };
      let size = c.u8() + 1;
      if (size === 256) size = ((c.u8() << 8) | c.u8()) + 1;
      const data = c.take(size);
      const next = c.u8();
      packetType = next & 0x0f;
      if (next >> 4 === MOD_EX_TIMESTAMP_OFFSET_NANO && data.length >= 3) nanos = Math.min(999999, data.readUIntBE(0, 3));
    }
    if (media === 'video' && packetType !== VIDEO_PACKET.METADATA && frameType === 5) {
      c.u8(); // the video command (start or end of client-side seeking): nothing to carry
      return { ok: true, frameType, nanos, packets: [] };
    }
    if (packetType !== types.MULTITRACK) return { ok: true, frameType, nanos, packets: [{ packetType, fourcc: c.fourcc(), trackId: 0, body: c.rest() }] };
    const mt = c.u8();
    const multitrackType = mt >> 4;
    packetType = mt & 0x0f;
    if (packetType === types.MULTITRACK) return { ok: false, what: `a ${media} multitrack header inside another` };
    if (multitrackType > MULTITRACK.MANY_TRACKS_MANY_CODECS) return { ok: false, what: `${media} multitrack type ${multitrackType}` };
    let fourcc = multitrackType === MULTITRACK.MANY_TRACKS_MANY_CODECS ? '' : c.fourcc();
    const packets: ExPacket[] = [];
    while (c.pos < b.length) {
      if (multitrackType === MULTITRACK.MANY_TRACKS_MANY_CODECS) fourcc = c.fourcc();
      const trackId = c.u8();
      if (multitrackType === MULTITRACK.ONE_TRACK) {
        packets.push({ packetType, fourcc, trackId, body: c.rest() });
        break;
      }
      const s = c.take(3);
      packets.push({ packetType, fourcc, trackId, body: c.take(s.readUIntBE(0, 3)) });
    }
    return { ok: true, frameType, nanos, packets };
  } catch (e) {
    if (e instanceof Truncated) return { ok: false, what: `a truncated enhanced ${media} header` };
    throw e;
  }
}
