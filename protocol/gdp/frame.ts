// One decoded GDP packet kept as its exact wire bytes (header + payload), read lazily.
// A frame can be forwarded to sockets as-is (no re-encoding) and read like a packet.
// Invariant: `bytes` is exactly one complete, validated packet; fields are read on demand.

import { GDP_HEADER_LENGTH, GDP_FLAG, GDP_PAYLOAD_TYPE, GdpPacket, H, NONE64 } from './packet';
import { eventTypeName } from '../gst/event-types';

function u64(bytes: Buffer, at: number): bigint | null {
  const hi = bytes.readUInt32BE(at);
  const lo = bytes.readUInt32BE(at + 4);
  if (hi === 0xffffffff && lo === 0xffffffff) return null;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export type GdpFrameKind = 'buffer' | 'caps' | 'event';

export class GdpFrame {
  readonly kind: GdpFrameKind;
  constructor(
    /** The whole packet: 62-byte header then payload. */
    readonly bytes: Buffer,
    /** Caps or structure text of caps/event packets (without NUL); null otherwise or when empty. */
    readonly text: string | null = null,
  ) {
    const t = bytes.readUInt16BE(H.PAYLOAD_TYPE);
    this.kind = t === GDP_PAYLOAD_TYPE.BUFFER ? 'buffer' : t === GDP_PAYLOAD_TYPE.CAPS ? 'caps' : 'event';
  }

  get payloadType(): number {
    return this.bytes.readUInt16BE(H.PAYLOAD_TYPE);
  }
  get payloadLength(): number {
    return this.bytes.length - GDP_HEADER_LENGTH;
  }
  get payload(): Buffer {
    return this.bytes.subarray(GDP_HEADER_LENGTH);
  }
  get crcHeader(): boolean {
    return (this.bytes[H.FLAGS] & GDP_FLAG.CRC_HEADER) !== 0;
  }
  get crcPayload(): boolean {
    return (this.bytes[H.FLAGS] & GDP_FLAG.CRC_PAYLOAD) !== 0;
  }
  get pts(): bigint | null {
    return u64(this.bytes, H.PTS);
  }
  get dts(): bigint | null {
    return u64(this.bytes, H.DTS);
  }
  get duration(): bigint | null {
    return u64(this.bytes, H.DURATION);
  }
  get offset(): bigint | null {
    return u64(this.bytes, H.OFFSET);
  }
  get offsetEnd(): bigint | null {
    return u64(this.bytes, H.OFFSET_END);
  }
  /** PTS in nanoseconds as a float, for scheduling and stats only (never for re-encoding). */
  get ptsMs(): number | null {
    const hi = this.bytes.readUInt32BE(H.PTS);
    const lo = this.bytes.readUInt32BE(H.PTS + 4);
    if (hi === 0xffffffff && lo === 0xffffffff) return null;
    return (hi * 4294967296 + lo) / 1e6;
  }
  get bufferFlags(): number {
    return this.bytes.readUInt16BE(H.BUFFER_FLAGS);
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
