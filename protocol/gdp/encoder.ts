// GDP 1.0 encoder, byte-identical to GStreamer 1.22 gdppay for buffers, caps and events.
// Pure functions; the payload is never copied by encodeParts (zero-copy writev).
// Defaults follow gdppay: header CRC on, payload CRC off.

import { FluxError, PROTOCOL_ERROR_CODES } from '../errors';
import { crc16 } from './crc';
import {
  BUFFER_FLAGS_CARRIED, GDP_FLAG, GDP_HEADER_LENGTH, GDP_PAYLOAD_TYPE, GdpCrcOptions, GdpPacket, H, NONE64,
} from './packet';

/** A 64-bit time or offset to encode: bigint, an exact (safe) integer number, or null for NONE. */
export type GdpTime = bigint | number | null;

/** A buffer packet to encode; times may be numbers when they are safe integers. */
export interface GdpBufferInput {
  readonly kind?: 'buffer';
  readonly pts: GdpTime;
  readonly dts: GdpTime;
  readonly duration: GdpTime;
  readonly offset: GdpTime;
  readonly offsetEnd: GdpTime;
  readonly flags: number;
  readonly data: Uint8Array;
}

export type GdpPacketInput = GdpPacket | (GdpBufferInput & { readonly kind: 'buffer' });

const DEFAULT_CRC: GdpCrcOptions = { crcHeader: true, crcPayload: false };
const MAX_U64 = NONE64;

const TWO32 = 4294967296;

function writeWords(h: Buffer, at: number, hi: number, lo: number): void {
  h[at] = hi >>> 24;
  h[at + 1] = hi >>> 16;
  h[at + 2] = hi >>> 8;
  h[at + 3] = hi;
  h[at + 4] = lo >>> 24;
  h[at + 5] = lo >>> 16;
  h[at + 6] = lo >>> 8;
  h[at + 7] = lo;
}

/**
 * Writes a 64-bit field. Numbers are accepted when they are safe integers (exact below 2^53, and
 * cheaper than bigint on the hot path); bigints cover the whole range; null is GStreamer's NONE.
 */
function writeU64(h: Buffer, at: number, value: GdpTime, field: string): void {
  if (value === null) {
    writeWords(h, at, 0xffffffff, 0xffffffff);
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new FluxError(PROTOCOL_ERROR_CODES.GDP_BAD_VALUE, `${field} ${value} is not an exact non-negative integer (use a bigint above 2^53)`);
    }
    const hi = Math.floor(value / TWO32);
    writeWords(h, at, hi, value - hi * TWO32);
  } else {
    if (value < 0n || value > MAX_U64) {
      throw new FluxError(PROTOCOL_ERROR_CODES.GDP_BAD_VALUE, `${field} ${value} is outside 0..2^64-1`);
    }
    writeWords(h, at, Number(value >> 32n), Number(value & 0xffffffffn));
  }
}

function textPayload(text: string): Buffer {
  const len = Buffer.byteLength(text, 'utf8');
  const out = Buffer.allocUnsafe(len + 1);
  out.write(text, 0, 'utf8');
  out[len] = 0;
  return out;
}

/** Fills the common fields and both CRCs of a header whose type-specific fields are set. */
function finishHeader(header: Buffer, payload: Uint8Array, crc: GdpCrcOptions): Buffer {
  const crcHeader = crc.crcHeader ?? true;
  const crcPayload = crc.crcPayload ?? false;
  const len = payload.length;
  header[H.MAJOR] = 1;
  header[H.MINOR] = 0;
  header[H.FLAGS] = (crcHeader ? GDP_FLAG.CRC_HEADER : 0) | (crcPayload ? GDP_FLAG.CRC_PAYLOAD : 0);
  header[H.LENGTH] = len >>> 24;
  header[H.LENGTH + 1] = len >>> 16;
  header[H.LENGTH + 2] = len >>> 8;
  header[H.LENGTH + 3] = len;
  const hc = crcHeader ? crc16(header, 0, H.HEADER_CRC) : 0;
  header[H.HEADER_CRC] = hc >>> 8;
  header[H.HEADER_CRC + 1] = hc;
  const pc = crcPayload && len > 0 ? crc16(payload) : 0;
  header[H.PAYLOAD_CRC] = pc >>> 8;
  header[H.PAYLOAD_CRC + 1] = pc;
  return header;
}

export function encodeBufferHeader(p: GdpBufferInput, crc: GdpCrcOptions = DEFAULT_CRC): Buffer {
  // From the shared pool; every byte is written below, so no zero fill is needed.
  const header = Buffer.allocUnsafe(GDP_HEADER_LENGTH);
  header[3] = 0;
  header.writeUInt16BE(GDP_PAYLOAD_TYPE.BUFFER, H.PAYLOAD_TYPE);
  writeU64(header, H.PTS, p.pts, 'pts');
  writeU64(header, H.DURATION, p.duration, 'duration');
  writeU64(header, H.OFFSET, p.offset, 'offset');
  writeU64(header, H.OFFSET_END, p.offsetEnd, 'offsetEnd');
  // gdppay keeps only LIVE, DISCONT, HEADER, GAP and DELTA_UNIT.
  header.writeUInt16BE(p.flags & BUFFER_FLAGS_CARRIED, H.BUFFER_FLAGS);
  writeU64(header, H.DTS, p.dts, 'dts');
  header.writeUInt32BE(0, 52); // reserved
  header.writeUInt16BE(0, 56);
  return finishHeader(header, p.data, crc);
}

/** Header and payload of one packet, for writev; the buffer payload is the caller's bytes. */
export function encodeParts(p: GdpPacketInput, crc: GdpCrcOptions = DEFAULT_CRC): [Buffer, Uint8Array] {
  if (p.kind === 'buffer') return [encodeBufferHeader(p, crc), p.data];
  const header = Buffer.alloc(GDP_HEADER_LENGTH);
  let payload: Buffer;
  if (p.kind === 'caps') {
    header.writeUInt16BE(GDP_PAYLOAD_TYPE.CAPS, H.PAYLOAD_TYPE);
    payload = textPayload(p.caps);
  } else {
    // 64 + type in 16 bits: custom event numbers are truncated exactly as gdppay 1.22 does.
    header.writeUInt16BE((GDP_PAYLOAD_TYPE.EVENT_BASE + p.eventType) & 0xffff, H.PAYLOAD_TYPE);
    // Events carry PTS = NONE and zeros elsewhere (gdppay writes GST_CLOCK_TIME_NONE there).
    writeU64(header, H.PTS, null, 'pts');
    payload = p.structure === null ? Buffer.alloc(0) : textPayload(p.structure);
  }
  return [finishHeader(header, payload, crc), payload];
}

export function encodePacket(p: GdpPacketInput, crc: GdpCrcOptions = DEFAULT_CRC): Buffer {
  const [header, payload] = encodeParts(p, crc);
  return payload.length === 0 ? header : Buffer.concat([header, payload]);
}
