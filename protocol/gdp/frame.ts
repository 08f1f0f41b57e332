// One decoded GDP packet kept as its exact wire bytes (header + payload), read lazily.
// A frame can be forwarded to sockets as-is (no re-encoding, no copy: `chunks` for writev).
// Invariants: the chunks are exactly one complete, validated packet; the first chunk holds the
// whole 62-byte header; fields are read from it on demand.

import { GDP_HEADER_LENGTH, GDP_FLAG, GDP_PAYLOAD_TYPE, GdpPacket, H, NONE64 } from './packet';
import { eventTypeName } from '../gst/event-types';

function u64(bytes: Buffer, at: number): bigint | null {
  const hi = bytes.readUInt32BE(at);
  const lo = bytes.readUInt32BE(at + 4);
  if (hi === 0xffffffff && lo === 0xffffffff) return null;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function nsAsMs(bytes: Buffer, at: number): number | null {
  const hi = bytes.readUInt32BE(at);
  const lo = bytes.readUInt32BE(at + 4);
  if (hi === 0xffffffff && lo === 0xffffffff) return null;
  return (hi * 4294967296 + lo) / 1e6;
}

export type GdpFrameKind = 'buffer' | 'caps' | 'event';

export class GdpFrame {
  readonly kind: GdpFrameKind;
  /** Total packet length in bytes (header + payload). */
  readonly length: number;
  private parts: Buffer[];
  private readonly head: Buffer;

  constructor(
    /** The whole packet (62-byte header then payload), in one buffer or in consecutive pieces. */
    bytes: Buffer | Buffer[],
    /** Caps or structure text of caps/event packets (without NUL); null otherwise or when empty. */
    readonly text: string | null = null,
  ) {
    this.parts = Array.isArray(bytes) ? bytes : [bytes];
    this.head = this.parts[0];
    let n = 0;
    for (const p of this.parts) n += p.length;
    this.length = n;
    const t = this.head.readUInt16BE(H.PAYLOAD_TYPE);
    this.kind = t === GDP_PAYLOAD_TYPE.BUFFER ? 'buffer' : t === GDP_PAYLOAD_TYPE.CAPS ? 'caps' : 'event';
  }

  /** The packet as consecutive pieces, for writev; never copied. */
  get chunks(): readonly Buffer[] {
    return this.parts;
  }
  /** The packet in one buffer (joined once, on first use, if it arrived in pieces). */
  get bytes(): Buffer {
    if (this.parts.length > 1) this.parts = [Buffer.concat(this.parts, this.length)];
    return this.parts[0];
  }
  get payloadType(): number {
    return this.head.readUInt16BE(H.PAYLOAD_TYPE);
  }
  get payloadLength(): number {
    return this.length - GDP_HEADER_LENGTH;
  }
  get payload(): Buffer {
    return this.bytes.subarray(GDP_HEADER_LENGTH);
  }
  get crcHeader(): boolean {
    return (this.head[H.FLAGS] & GDP_FLAG.CRC_HEADER) !== 0;
  }
  get crcPayload(): boolean {
    return (this.head[H.FLAGS] & GDP_FLAG.CRC_PAYLOAD) !== 0;
  }
  get pts(): bigint | null {
    return u64(this.head, H.PTS);
  }
  get dts(): bigint | null {
    return u64(this.head, H.DTS);
  }
  get duration(): bigint | null {
    return u64(this.head, H.DURATION);
  }
  get offset(): bigint | null {
    return u64(this.head, H.OFFSET);
  }
  get offsetEnd(): bigint | null {
    return u64(this.head, H.OFFSET_END);
  }
  /** PTS in milliseconds as a float, for scheduling and stats only (never for re-encoding). */
  get ptsMs(): number | null {
    return nsAsMs(this.head, H.PTS);
  }
  /** Duration in milliseconds as a float, for stats only. */
  get durationMs(): number | null {
    return nsAsMs(this.head, H.DURATION);
  }
  get bufferFlags(): number {
    return this.head.readUInt16BE(H.BUFFER_FLAGS);
  }
  /** Event type number (payload type - 64); only meaningful for events. */
  get eventType(): number {
    return this.payloadType - GDP_PAYLOAD_TYPE.EVENT_BASE;
  }
  get eventName(): string {
    return eventTypeName(this.eventType);
  }

  toPacket(): GdpPacket {
    if (this.kind === 'buffer') {
      return {
        kind: 'buffer',
        pts: this.pts,
        dts: this.dts,
        duration: this.duration,
        offset: this.offset,
        offsetEnd: this.offsetEnd,
        flags: this.bufferFlags,
        data: this.payload,
      };
    }
    if (this.kind === 'caps') return { kind: 'caps', caps: this.text ?? '' };
    return { kind: 'event', eventType: this.eventType, structure: this.text };
  }
}

export { NONE64 };
