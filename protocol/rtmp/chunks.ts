// The RTMP chunk stream: reassembles the messages a peer sends in chunks (basic header, the four
// message header formats, extended timestamps, Set Chunk Size and Abort honoured), and cuts the
// messages we send into chunks. Pure and bounded: a message over `maxMessage` bytes, a chunk
// size out of range, or more than MAX_CHUNK_STREAMS chunk streams at once is an RtmpError.

export class RtmpError extends Error {}

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

const MAX_CHUNK_STREAMS = 64;

interface ChunkStreamState {
  timestamp: number;
  delta: number;
  length: number;
  type: number;
  streamId: number;
  /** the extended timestamp field is present (the 24-bit field was 0xffffff) */
  extended: boolean;
  parts: Buffer[];
  received: number;
}

export class ChunkReader {
  private buf: Buffer = Buffer.alloc(0);
  private chunkSize = 128;
  private readonly streams = new Map<number, ChunkStreamState>();
  /** Bytes taken in so far (for acknowledgements). */
  bytesIn = 0;

  constructor(private readonly maxMessage = 8 * 1024 * 1024) {}

  /** Takes the next bytes; returns the messages they complete. Throws RtmpError on bad input. */
  push(chunk: Buffer): RtmpMessage[] {
    this.bytesIn += chunk.length;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: RtmpMessage[] = [];
    let pos = 0;
    for (;;) {
      const r = this.chunkAt(pos, out);
      if (r < 0) break;
      pos = r;
    }
    this.buf = pos ? Buffer.from(this.buf.subarray(pos)) : this.buf;
    return out;
  }

  /** Reads one chunk at `pos`; returns the position after it, or -1 when incomplete. */
  private chunkAt(pos: number, out: RtmpMessage[]): number {
    const b = this.buf;
    if (pos >= b.length) return -1;
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
    let st = this.streams.get(csid);
    if (!st) {
      if (fmt !== 0) throw new RtmpError(`chunk stream ${csid} begins without a full header`);
      if (this.streams.size >= MAX_CHUNK_STREAMS) throw new RtmpError('too many chunk streams');
      st = { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, parts: [], received: 0 };
    }
    let ts = 0;
    const starting = st.received === 0;
    if (fmt <= 2) ts = b.readUIntBE(p, 3);
    if (fmt <= 1) {
      st.length = b.readUIntBE(p + 3, 3);
      st.type = b[p + 6];
      if (st.length > this.maxMessage) throw new RtmpError(`message of ${st.length} bytes (at most ${this.maxMessage})`);
    }
    if (fmt === 0) st.streamId = b.readUInt32LE(p + 7);
    p += headerLen;
    if (fmt <= 2) st.extended = ts === 0xffffff;
    if (st.extended) {
      if (p + 4 > b.length) return -1;
      if (fmt <= 2) ts = b.readUInt32BE(p);
      p += 4;
    }
    const take = Math.min(this.chunkSize, st.length - st.received);
    if (p + take > b.length) return -1;
    // The whole chunk is here: commit its header.
    this.streams.set(csid, st);
    if (starting) {
      if (fmt === 0) st.timestamp = ts;
      else if (fmt <= 2) {
        st.delta = ts;
        st.timestamp = (st.timestamp + ts) >>> 0;
      } else st.timestamp = (st.timestamp + st.delta) >>> 0;
      if (fmt === 0) st.delta = 0;
    }
    st.parts.push(b.subarray(p, p + take));
    st.received += take;
    p += take;
    if (st.received === st.length) {
      const payload = st.parts.length === 1 ? Buffer.from(st.parts[0]) : Buffer.concat(st.parts);
      st.parts = [];
      st.received = 0;
      this.control({ type: st.type, timestamp: st.timestamp, streamId: st.streamId, payload }, out);
    }
    return p;
  }

  private control(m: RtmpMessage, out: RtmpMessage[]): void {
    if (m.type === MSG.SET_CHUNK_SIZE) {
      if (m.payload.length < 4) throw new RtmpError('short Set Chunk Size');
      const size = m.payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1 || size > 16 * 1024 * 1024) throw new RtmpError(`chunk size ${size} out of range`);
      this.chunkSize = size;
      return;
    }
    if (m.type === MSG.ABORT) {
      if (m.payload.length >= 4) {
        const st = this.streams.get(m.payload.readUInt32BE(0));
        if (st) {
          st.parts = [];
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
