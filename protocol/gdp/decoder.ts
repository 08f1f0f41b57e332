// Incremental GDP 1.0 decoder: bytes in, in chunks of any size; validated frames out.
// Owns framing, CRC checks, the payload bound and gdpdepay's acceptance rules; does no I/O.
// Invariants: never buffers more than one packet (62 + maxPayloadSize bytes); the first error
// ends the stream and is returned, never thrown; a complete packet inside one chunk is not copied.

import { GdpError, PROTOCOL_ERROR_CODES as C, ProtocolErrorCode } from '../errors';
import { GstCaps } from '../gst/caps';
import { GstStructure } from '../gst/structure';
import { EVENT_TYPES } from '../gst/event-types';
import { crc16, crc16Update } from './crc';
import { GdpFrame } from './frame';
import { GDP_FLAG, GDP_HEADER_LENGTH, GDP_PAYLOAD_TYPE, H } from './packet';

export const DEFAULT_MAX_PAYLOAD = 32 * 1024 * 1024;
const EOS_PAYLOAD_TYPE = GDP_PAYLOAD_TYPE.EVENT_BASE + EVENT_TYPES.eos;

export interface GdpDecoderOptions {
  /** Largest payload accepted, in bytes (default 32 MiB); a larger one is an error before any allocation. */
  maxPayloadSize?: number;
  /** Refuse a buffer packet before the first caps packet, as gdpdepay does (default true). */
  requireCaps?: boolean;
  /** Called for every frame, in order, synchronously from push(). */
  onFrame: (frame: GdpFrame) => void;
}

/**
 * Reads packets like the ws Receiver reads frames: the fast path walks complete packets inside
 * the incoming chunk and hands out subarrays of it; a packet split across chunks is collected in
 * `pending` (header first, so its length is known and bounded) and joined once when complete.
 *
 * Behaviour copied from gdpdepay 1.22, on purpose:
 * - the version bytes are checked for event packets only (buffer/caps packets of any version pass);
 * - payload type 0 and 3..63 are an error, checked once the payload is complete;
 * - an EOS event packet ends the stream: later bytes are ignored, not an error;
 * - an incomplete packet at the end of the input is dropped; end() reports it as FLUX_GDP_TRUNCATED
 *   so callers can tell (gdpdepay itself says nothing).
 */
export class GdpDecoder {
  private readonly maxPayload: number;
  private readonly requireCaps: boolean;
  private readonly onFrame: (frame: GdpFrame) => void;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private expected = 0; // total length of the pending packet once its header is known
  private capsSeen = false;
  private consumed = 0; // bytes of the stream that belong to delivered packets
  private packets = 0;
  private failure: GdpError | null = null;
  private eos = false;

  constructor(options: GdpDecoderOptions) {
    this.maxPayload = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD;
    this.requireCaps = options.requireCaps ?? true;
    this.onFrame = options.onFrame;
  }

  get error(): GdpError | null {
    return this.failure;
  }
  /** True once an EOS event packet was delivered; the rest of the stream is ignored. */
  get ended(): boolean {
    return this.eos;
  }
  get packetCount(): number {
    return this.packets;
  }
  /** Bytes held for an incomplete packet. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Feeds bytes; returns the error that ended the stream, if any (now or earlier). */
  push(chunk: Buffer): GdpError | null {
    if (this.failure || this.eos || chunk.length === 0) return this.failure;
    let data = chunk;
    if (this.pendingBytes > 0) {
      const rest = this.completePending(data);
      if (rest === null) return this.failure;
      data = rest;
    }
    let pos = 0;
    let total = 0;
    const len = data.length;
    while (len - pos >= GDP_HEADER_LENGTH) {
      total = this.checkHeader(data, pos);
      if (total < 0) return this.failure;
      if (len - pos < total) break;
      const end = pos + total;
      total = 0;
      if (!this.deliver(data.subarray(pos, end), null)) return this.failure;
      pos = end;
      if (this.eos) return null;
    }
    if (pos < len) {
      const rest = pos === 0 ? data : data.subarray(pos);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
      this.expected = total; // 0 while the header itself is incomplete
    }
    return null;
  }

  /** End of input: reports a dropped incomplete packet as FLUX_GDP_TRUNCATED (or the earlier error). */
  end(): GdpError | null {
    if (this.failure || this.eos) return this.failure;
    if (this.pendingBytes > 0) {
      const n = this.pendingBytes;
      this.pending = [];
      this.pendingBytes = 0;
      return new GdpError(C.GDP_TRUNCATED, `stream ended inside a packet (${n} bytes dropped)`, this.packets, this.consumed);
    }
    return null;
  }

  /** Forgets everything: the next byte starts a new stream (a reconnection, a DISCONT). */
  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.expected = 0;
    this.capsSeen = false;
    this.consumed = 0;
    this.packets = 0;
    this.failure = null;
    this.eos = false;
  }

  /**
   * Adds `data` to the pending packet; returns what is left of `data` after it, or null if the
   * packet is still incomplete (or failed). Only a header split across chunks is copied (62 bytes);
   * payload pieces are kept as they came and handed on as the frame's chunks.
   */
  private completePending(data: Buffer): Buffer | null {
    let used = 0;
    if (this.expected === 0) {
      const need = GDP_HEADER_LENGTH - this.pendingBytes;
      if (data.length < need) {
        this.pending.push(data);
        this.pendingBytes += data.length;
        return null;
      }
      const header = Buffer.concat([...this.pending, data.subarray(0, need)], GDP_HEADER_LENGTH);
      this.pending = [header];
      this.pendingBytes = GDP_HEADER_LENGTH;
      used = need;
      this.expected = this.checkHeader(header, 0);
      if (this.expected < 0) return null;
    }
    const need = this.expected - this.pendingBytes;
    if (data.length - used < need) {
      const part = used === 0 ? data : data.subarray(used);
      this.pending.push(part);
      this.pendingBytes += part.length;
      return null;
    }
    if (need > 0) this.pending.push(data.subarray(used, used + need));
    const parts = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const total = this.expected;
    this.expected = 0;
    if (!this.deliver(parts.length === 1 ? parts[0] : parts, total)) return null;
    if (this.eos) return null;
    return data.subarray(used + need);
  }

  /** Validates a header at `pos`; returns the packet's total length, or -1 after failing the stream. */
  private checkHeader(b: Buffer, pos: number): number {
    if (b[pos + H.FLAGS] & GDP_FLAG.CRC_HEADER) {
      if (crc16(b, pos, pos + H.HEADER_CRC) !== b.readUInt16BE(pos + H.HEADER_CRC)) {
        return this.fail(C.GDP_BAD_HEADER_CRC, 'GDP packet header does not validate');
      }
    }
    const length = b.readUInt32BE(pos + H.LENGTH);
    if (length > this.maxPayload) {
      return this.fail(C.GDP_PAYLOAD_TOO_LARGE, `GDP payload of ${length} bytes exceeds the limit of ${this.maxPayload}`);
    }
    return GDP_HEADER_LENGTH + length;
  }

  /** Checks and hands on one complete packet: a buffer, or pieces whose first holds the header. */
  private deliver(packet: Buffer | Buffer[], total: number | null): boolean {
    const head = Array.isArray(packet) ? packet[0] : packet;
    const length = (total ?? head.length) - GDP_HEADER_LENGTH;
    const type = head.readUInt16BE(H.PAYLOAD_TYPE);
    if (type !== GDP_PAYLOAD_TYPE.BUFFER && type !== GDP_PAYLOAD_TYPE.CAPS && type < GDP_PAYLOAD_TYPE.EVENT_BASE) {
      return this.fail(C.GDP_WRONG_PAYLOAD_TYPE, `GDP packet header is of wrong type (${type})`) >= 0;
    }
    if (head[H.FLAGS] & GDP_FLAG.CRC_PAYLOAD && length > 0) {
      if (payloadCrc(packet) !== head.readUInt16BE(H.PAYLOAD_CRC)) {
        return this.fail(C.GDP_BAD_PAYLOAD_CRC, 'GDP packet payload does not validate') >= 0;
      }
    }
    let frame: GdpFrame;
    if (type === GDP_PAYLOAD_TYPE.BUFFER) {
      if (this.requireCaps && !this.capsSeen) {
        return this.fail(C.GDP_BUFFER_BEFORE_CAPS, 'Received a buffer without first receiving caps') >= 0;
      }
      frame = new GdpFrame(packet);
    } else {
      const joined = Array.isArray(packet) ? Buffer.concat(packet) : packet;
      if (type === GDP_PAYLOAD_TYPE.CAPS) {
        const text = cString(joined);
        try {
          GstCaps.parse(text);
        } catch (e) {
          return this.fail(C.GDP_BAD_CAPS, `could not create caps from GDP packet: ${(e as Error).message}`) >= 0;
        }
        this.capsSeen = true;
        frame = new GdpFrame(joined, text);
      } else {
        if (head[H.MAJOR] !== 1 || head[H.MINOR] !== 0) {
          // gdpdepay also decodes a few legacy 0.2 events; no 1.x writer produces them.
          return this.fail(C.GDP_BAD_EVENT, `could not create event from GDP packet (version ${head[0]}.${head[1]})`) >= 0;
        }
        let text: string | null = null;
        if (length > 0) {
          text = cString(joined);
          try {
            GstStructure.parse(text);
          } catch (e) {
            return this.fail(C.GDP_BAD_EVENT, `could not create event from GDP packet: ${(e as Error).message}`) >= 0;
          }
        }
        frame = new GdpFrame(joined, text);
        if (type === EOS_PAYLOAD_TYPE) this.eos = true;
      }
    }
    this.consumed += frame.length;
    this.packets++;
    this.onFrame(frame);
    return true;
  }

  private fail(code: ProtocolErrorCode, message: string): -1 {
    this.failure = new GdpError(code, message, this.packets, this.consumed);
    this.pending = [];
    this.pendingBytes = 0;
    return -1;
  }
}

function payloadCrc(packet: Buffer | Buffer[]): number {
  if (!Array.isArray(packet)) return crc16(packet, GDP_HEADER_LENGTH);
  let crc = crc16Update(0xffff, packet[0], GDP_HEADER_LENGTH);
  for (let i = 1; i < packet.length; i++) crc = crc16Update(crc, packet[i]);
  return crc ^ 0xffff;
}

/** Payload text up to the first NUL, as gst_caps_from_string / gst_structure_from_string read it. */
function cString(packet: Buffer): string {
  let end = packet.indexOf(0, GDP_HEADER_LENGTH);
  if (end < 0) end = packet.length;
  return packet.toString('utf8', GDP_HEADER_LENGTH, end);
}
