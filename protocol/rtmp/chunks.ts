// The RTMP chunk stream: reassembles the messages a peer sends in chunks (basic header, the four
// message header formats, extended timestamps, Set Chunk Size and Abort honoured), and cuts the
// messages we send into chunks. Pure and bounded by limits the caller sets (tighter before a
// publish is accepted): message length, chunk size, chunk streams, and the bytes of messages in
// progress; past one, a coded RtmpError. Chunk data is copied into each message's own buffer as
// it arrives, so what is held is at most the messages in progress and one partial header.
//
// Timestamps follow the RTMP specification (5.3.1.2) as FFmpeg (libavformat/rtmppkt.c) and
// librtmp read and write them:
//   - type 0 carries the absolute timestamp; a type 3 chunk that starts the next message on the
//     chunk stream repeats it as the delta ("the delta is the timestamp of the type 0 chunk");
//   - types 1 and 2 carry a delta, which a following type 3 chunk repeats;
//   - a field of 0xffffff means a 32-bit extended field follows, in every chunk of the stream
//     (type 3 included) until a type 0, 1 or 2 header says otherwise; in a type 3 chunk that
//     starts a message it is that message's delta, in a continuation chunk it is ignored.
// Timestamps are 32-bit and wrap (every 49.7 days); see timestamps.ts for the 64-bit clock.

import { FluxError, PROTOCOL_ERROR_CODES } from '../errors';

type RtmpErrorCode = 'RTMP_BAD_CHUNK' | 'RTMP_MESSAGE_TOO_LARGE' | 'RTMP_CHUNK_SIZE' | 'RTMP_TOO_MANY_CHUNK_STREAMS';

/** A chunk stream we refuse; `code` says which bound or rule. */
export class RtmpError extends FluxError {
  constructor(code: RtmpErrorCode, message: string) {
    super(PROTOCOL_ERROR_CODES[code], message);
    this.name = 'RtmpError';
  }
}

export const MSG = {
  SET_CHUNK_SIZE: 1,
  ABORT: 2,
  ACK: 3,
  USER_CONTROL: 4,
  WINDOW_ACK_SIZE: 5,
  SET_PEER_BANDWIDTH: 6,
  AUDIO: 8,
  VIDEO: 9,
  DATA_AMF3: 15,
  COMMAND_AMF3: 17,
  DATA_AMF0: 18,
  COMMAND_AMF0: 20,
} as const;

export interface RtmpMessage {
  type: number;
  /** ms, 32 bits, as the peer counts it (absolute, deltas applied) */
  timestamp: number;
  streamId: number;
  payload: Buffer;
}

export interface ChunkLimits {
  /** Bytes of one message at most. */
  maxMessage: number;
  /** The largest Set Chunk Size taken. */
  maxChunkSize: number;
  /** Chunk streams at most (each keeps its last header). */
  maxChunkStreams: number;
  /** Bytes of all messages in progress at once at most. */
  maxInProgress: number;
}

/**
 * Before a publish is accepted: commands only (a connect with its object is a few hundred bytes).
 * With these, a connection holds at most 8 x 64 KiB of messages in progress plus a partial
 * header: well under 1 MiB whatever it sends.
 */
export const PRE_PUBLISH_LIMITS: ChunkLimits = { maxMessage: 64 * 1024, maxChunkSize: 64 * 1024, maxChunkStreams: 8, maxInProgress: 512 * 1024 };
/** A publisher's media: a 4K keyframe fits; the chunk size may be anything RTMP allows up to 16 MiB. */
export const PUBLISH_LIMITS: ChunkLimits = { maxMessage: 8 * 1024 * 1024, maxChunkSize: 16 * 1024 * 1024, maxChunkStreams: 64, maxInProgress: 32 * 1024 * 1024 };

interface ChunkStreamState {
  timestamp: number;
  /** the delta a type 3 chunk starting a message repeats (a type 0's timestamp, or a type 1/2 delta) */
  delta: number;
  length: number;
  type: number;
  streamId: number;
  /** the last type 0/1/2 header's timestamp field was 0xffffff: every chunk carries the 32-bit field */
  extended: boolean;
  /** the message in progress (allocated at its first chunk), and how much of it arrived */
  payload: Buffer | null;
  received: number;
}

/** The chunk whose data is being read (its header done). */
interface InBody {
  st: ChunkStreamState;
  remaining: number;
}

export class ChunkReader {
  /** An incomplete chunk header (at most 18 bytes). */
  private partial: Buffer = Buffer.alloc(0);
  private body: InBody | null = null;
  private chunkSize = 128;
  private inProgress = 0;
  private readonly streams = new Map<number, ChunkStreamState>();
  /** Bytes taken in so far (for acknowledgements). */
  bytesIn = 0;

  constructor(private limits: ChunkLimits = PUBLISH_LIMITS) {}

  /** New bounds for what comes next (a publish accepted raises them). */
  setLimits(limits: ChunkLimits): void {
    this.limits = limits;
  }

  /** Bytes this reader holds now: messages in progress and a partial header. */
  bufferedBytes(): number {
    return this.inProgress + this.partial.length;
  }

  /** Takes the next bytes; returns the messages they complete. Throws RtmpError on bad input. */
  push(chunk: Buffer): RtmpMessage[] {
    this.bytesIn += chunk.length;
    const b = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    this.partial = Buffer.alloc(0);
    const out: RtmpMessage[] = [];
    let pos = 0;
    while (pos < b.length) {
      if (this.body) {
        pos = this.takeBody(b, pos, out);
        continue;
      }
      const next = this.header(b, pos);
      if (next < 0) {
        this.partial = Buffer.from(b.subarray(pos));
        break;
      }
      pos = next;
      if (this.body && (this.body as InBody).remaining === 0) this.takeBody(b, pos, out); // an empty message
    }
    return out;
  }

  /** Copies what is here of the current chunk's data; completes its message when all came. */
  private takeBody(b: Buffer, pos: number, out: RtmpMessage[]): number {
    const body = this.body as InBody;
    const { st } = body;
    const n = Math.min(body.remaining, b.length - pos);
    if (n > 0) (st.payload as Buffer).set(b.subarray(pos, pos + n), st.received);
    st.received += n;
    body.remaining -= n;
    if (body.remaining > 0) return pos + n;
    this.body = null;
    if (st.received === st.length) {
      const payload = st.payload ?? Buffer.alloc(0);
      this.inProgress -= st.length;
      st.payload = null;
      st.received = 0;
      this.control({ type: st.type, timestamp: st.timestamp, streamId: st.streamId, payload }, out);
    }
    return pos + n;
  }

  /** Reads one chunk header at `pos`; returns the position after it, or -1 when incomplete. */
  private header(b: Buffer, pos: number): number {
    const fmt = b[pos] >> 6;
    let csid = b[pos] & 0x3f;
    let p = pos + 1;
    if (csid === 0) {
      if (p + 1 > b.length) return -1;
      csid = 64 + b[p];
      p += 1;
    } else if (csid === 1) {
      if (p + 2 > b.length) return -1;
      csid = 64 + b[p] + b[p + 1] * 256;
      p += 2;
    }
    const headerLen = [11, 7, 3, 0][fmt];
    if (p + headerLen > b.length) return -1;
    const known = this.streams.get(csid);
    if (!known) {
      if (fmt !== 0) throw new RtmpError('RTMP_BAD_CHUNK', `chunk stream ${csid} begins without a full header`);
      if (this.streams.size >= this.limits.maxChunkStreams) throw new RtmpError('RTMP_TOO_MANY_CHUNK_STREAMS', `more than ${this.limits.maxChunkStreams} chunk streams`);
    }
    const field = fmt <= 2 ? b.readUIntBE(p, 3) : 0;
    const extended = fmt <= 2 ? field === 0xffffff : (known as ChunkStreamState).extended;
    const at = p + headerLen;
    if (extended && at + 4 > b.length) return -1;
    const ext = extended ? b.readUInt32BE(at) : 0;
    const st: ChunkStreamState = known ?? { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, payload: null, received: 0 };
    // The whole header is here: commit it.
    this.streams.set(csid, st);
    const starting = st.received === 0;
    if (!starting && fmt <= 1 && b.readUIntBE(p + 3, 3) !== st.length) {
      throw new RtmpError('RTMP_BAD_CHUNK', `chunk stream ${csid}: a new message header in the middle of a message`);
    }
    if (starting) {
      if (fmt <= 1) {
        st.length = b.readUIntBE(p + 3, 3);
        st.type = b[p + 6];
      }
      if (fmt === 0) st.streamId = b.readUInt32LE(p + 7);
      const value = extended ? ext : field;
      if (fmt === 0) {
        st.timestamp = value;
        st.delta = value;
      } else if (fmt <= 2) {
        st.delta = value;
        st.timestamp = (st.timestamp + value) >>> 0;
      } else {
        if (extended) st.delta = ext;
        st.timestamp = (st.timestamp + st.delta) >>> 0;
      }
      if (st.length > this.limits.maxMessage) throw new RtmpError('RTMP_MESSAGE_TOO_LARGE', `message of ${st.length} bytes (at most ${this.limits.maxMessage})`);
      if (this.inProgress + st.length > this.limits.maxInProgress) throw new RtmpError('RTMP_MESSAGE_TOO_LARGE', `${this.inProgress + st.length} bytes of messages in progress (at most ${this.limits.maxInProgress})`);
      st.payload = st.length ? Buffer.allocUnsafe(st.length) : null;
      this.inProgress += st.length;
    }
    if (fmt <= 2) st.extended = extended;
    this.body = { st, remaining: Math.min(this.chunkSize, st.length - st.received) };
    return at + (extended ? 4 : 0);
  }

  private control(m: RtmpMessage, out: RtmpMessage[]): void {
    if (m.type === MSG.SET_CHUNK_SIZE) {
      if (m.payload.length < 4) throw new RtmpError('RTMP_BAD_CHUNK', 'short Set Chunk Size');
      const size = m.payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1 || size > this.limits.maxChunkSize) throw new RtmpError('RTMP_CHUNK_SIZE', `chunk size ${size} out of range (1 to ${this.limits.maxChunkSize})`);
      this.chunkSize = size;
      return;
    }
    if (m.type === MSG.ABORT) {
      if (m.payload.length >= 4) {
        const st = this.streams.get(m.payload.readUInt32BE(0));
        if (st && st.received > 0 && st !== this.body?.st) {
          this.inProgress -= st.length;
          st.payload = null;
          st.received = 0;
        }
      }
      return;
    }
    out.push(m);
  }
}

/** One message cut into chunks of `chunkSize` on chunk stream `csid` (2..63), fmt 0 then fmt 3. */
export function writeMessage(m: RtmpMessage, csid: number, chunkSize: number): Buffer {
  const ext = m.timestamp >= 0xffffff;
  const parts: Buffer[] = [];
  const h = Buffer.alloc(12 + (ext ? 4 : 0));
  h[0] = csid & 0x3f;
  h.writeUIntBE(ext ? 0xffffff : m.timestamp, 1, 3);
  h.writeUIntBE(m.payload.length, 4, 3);
  h[7] = m.type;
  h.writeUInt32LE(m.streamId, 8);
  if (ext) h.writeUInt32BE(m.timestamp, 12);
  parts.push(h);
  for (let off = 0; off < m.payload.length; off += chunkSize) {
    if (off > 0) {
      const c = Buffer.alloc(1 + (ext ? 4 : 0));
      c[0] = 0xc0 | (csid & 0x3f);
      if (ext) c.writeUInt32BE(m.timestamp, 1);
      parts.push(c);
    }
    parts.push(m.payload.subarray(off, off + chunkSize));
  }
  return Buffer.concat(parts);
}

/** A protocol control message (chunk stream 2, message stream 0) carrying one 32-bit value. */
export function controlMessage(type: number, value: number, extra?: number): RtmpMessage {
  const payload = Buffer.alloc(extra === undefined ? 4 : 5);
  payload.writeUInt32BE(value >>> 0, 0);
  if (extra !== undefined) payload[4] = extra;
  return { type, timestamp: 0, streamId: 0, payload };
}

/** A User Control event (Stream Begin = 0, Ping Response = 7...) with its 32-bit argument. */
export function userControl(event: number, value: number): RtmpMessage {
  const payload = Buffer.alloc(6);
  payload.writeUInt16BE(event, 0);
  payload.writeUInt32BE(value >>> 0, 2);
  return { type: MSG.USER_CONTROL, timestamp: 0, streamId: 0, payload };
}
