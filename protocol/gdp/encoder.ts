// GDP 1.0 encoder, byte-identical to GStreamer 1.22 gdppay for buffers, caps and events.
// Pure functions; the payload is never copied by encodeParts (zero-copy writev).
// Defaults follow gdppay: header CRC on, payload CRC off.

import { FluxError, PROTOCOL_ERROR_CODES } from '../errors';
import { crc16 } from './crc';
import {
  BUFFER_FLAGS_CARRIED, GDP_FLAG, GDP_HEADER_LENGTH, GDP_PAYLOAD_TYPE, GdpBufferPacket, GdpCrcOptions,
  GdpPacket, H, NONE64,
} from './packet';

const DEFAULT_CRC: GdpCrcOptions = { crcHeader: true, crcPayload: false };
const MAX_U64 = NONE64;

function writeU64(header: Buffer, at: number, value: bigint | null, field: string): void {
  if (value === null) {
    header.writeUInt32BE(0xffffffff, at);
    header.writeUInt32BE(0xffffffff, at + 4);
    return;
  }
  if (value < 0n || value > MAX_U64) {
    throw new FluxError(PROTOCOL_ERROR_CODES.GDP_BAD_VALUE, `${field} ${value} is outside 0..2^64-1`);
  }
  header.writeUInt32BE(Number(value >> 32n), at);
  header.writeUInt32BE(Number(value & 0xffffffffn), at + 4);
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
  header[H.MAJOR] = 1;
  header[H.MINOR] = 0;
  header[H.FLAGS] = (crcHeader ? GDP_FLAG.CRC_HEADER : 0) | (crcPayload ? GDP_FLAG.CRC_PAYLOAD : 0);
  header.writeUInt32BE(payload.length, H.LENGTH);
  header.writeUInt16BE(crcHeader ? crc16(header, 0, H.HEADER_CRC) : 0, H.HEADER_CRC);
  header.writeUInt16BE(crcPayload && payload.length > 0 ? crc16(payload) : 0, H.PAYLOAD_CRC);
  return header;
}

export function encodeBufferHeader(p: Omit<GdpBufferPacket, 'kind'>, crc: GdpCrcOptions = DEFAULT_CRC): Buffer {
  const header = Buffer.alloc(GDP_HEADER_LENGTH);
  header.writeUInt16BE(GDP_PAYLOAD_TYPE.BUFFER, H.PAYLOAD_TYPE);
  writeU64(header, H.PTS, p.pts, 'pts');
  writeU64(header, H.DURATION, p.duration, 'duration');
  writeU64(header, H.OFFSET, p.offset, 'offset');
  writeU64(header, H.OFFSET_END, p.offsetEnd, 'offsetEnd');
  // gdppay keeps only LIVE, DISCONT, HEADER, GAP and DELTA_UNIT.
  header.writeUInt16BE(p.flags & BUFFER_FLAGS_CARRIED, H.BUFFER_FLAGS);
  writeU64(header, H.DTS, p.dts, 'dts');
  return finishHeader(header, p.data, crc);
}

/** Header and payload of one packet, for writev; the buffer payload is the caller's bytes. */
export function encodeParts(p: GdpPacket, crc: GdpCrcOptions = DEFAULT_CRC): [Buffer, Uint8Array] {
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

export function encodePacket(p: GdpPacket, crc: GdpCrcOptions = DEFAULT_CRC): Buffer {
  const [header, payload] = encodeParts(p, crc);
  return payload.length === 0 ? header : Buffer.concat([header, payload]);
}
