// Splits a live WebM/Matroska byte stream (what a source client sends) into what a streamer
// needs: the header (EBML header, Segment start and every level-1 element before the first
// Cluster: Info, Tracks, Tags...) as the streamheader, then the stream as buffers that start at
// a Cluster boundary (sync points, where a late joiner may begin) or continue one (delta).
// Pure and bounded: elements are forwarded whole, none may exceed MAX_ELEMENT bytes, and
// sizes may be unknown (live muxers write Segment and Cluster with unknown size).

export const WEBM_IDS = {
  EBML: 0x1a45dfa3,
  SEGMENT: 0x18538067,
  CLUSTER: 0x1f43b675,
  CUES: 0x1c53bb6b,
  TAGS: 0x1254c367,
  INFO: 0x1549a966,
  TRACKS: 0x1654ae6b,
  SEEKHEAD: 0x114d9b74,
  CHAPTERS: 0x1043a770,
  ATTACHMENTS: 0x1941a469,
  VOID: 0xec,
} as const;

const LEVEL1 = new Set<number>([WEBM_IDS.CLUSTER, WEBM_IDS.CUES, WEBM_IDS.TAGS, WEBM_IDS.INFO, WEBM_IDS.TRACKS, WEBM_IDS.SEEKHEAD, WEBM_IDS.CHAPTERS, WEBM_IDS.ATTACHMENTS]);
export const MAX_WEBM_ELEMENT = 16 * 1024 * 1024;
const MAX_HEADER = 1024 * 1024;

export class WebmSplitError extends Error {}

export type WebmPiece =
  /** A new stream begins: its header bytes (for the streamheader). */
  | { kind: 'header'; data: Buffer }
  /** Stream bytes; `sync` when they begin at a Cluster. */
  | { kind: 'data'; data: Buffer; sync: boolean };

interface ElementHead {
  id: number;
  /** null: unknown size */
  size: number | null;
  headLength: number;
}

/** Reads an element ID and size at `pos`, or null when more bytes are needed. */
export function readElementHead(b: Buffer, pos: number): ElementHead | null {
  if (pos >= b.length) return null;
  const first = b[pos];
  const idLen = first >= 0x80 ? 1 : first >= 0x40 ? 2 : first >= 0x20 ? 3 : first >= 0x10 ? 4 : 0;
  if (!idLen) throw new WebmSplitError(`invalid element ID byte 0x${first.toString(16)}`);
  if (pos + idLen >= b.length) return null;
  let id = 0;
  for (let i = 0; i < idLen; i++) id = id * 256 + b[pos + i];
  const s0 = b[pos + idLen];
  let sizeLen = 1;
  while (sizeLen <= 8 && !(s0 & (0x80 >> (sizeLen - 1)))) sizeLen++;
  if (sizeLen > 8) throw new WebmSplitError('invalid element size');
  if (pos + idLen + sizeLen > b.length) return null;
  let size = s0 & (0xff >> sizeLen);
  let allOnes = size === 0xff >> sizeLen;
  for (let i = 1; i < sizeLen; i++) {
    const v = b[pos + idLen + i];
    if (v !== 0xff) allOnes = false;
    size = size * 256 + v;
  }
  return { id, size: allOnes ? null : size, headLength: idLen + sizeLen };
}

type State = 'ebml' | 'segment' | 'level1' | 'cluster';

export class WebmSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private state: State = 'ebml';
  private header: Buffer[] = [];
  private headerBytes = 0;
  /** Bytes left in a Cluster of known size (null: unknown size, ends at the next level-1 element). */
  private clusterLeft: number | null = null;

  /** Takes the next bytes; returns the pieces they complete, in order. Throws WebmSplitError on bad input. */
  push(chunk: Buffer): WebmPiece[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: WebmPiece[] = [];
    let pos = 0;
    let dataStart = -1;
    let dataSync = false;
    const flushData = (end: number) => {
      if (dataStart >= 0 && end > dataStart) out.push({ kind: 'data', data: this.buf.subarray(dataStart, end), sync: dataSync });
      dataStart = -1;
    };
    for (;;) {
      const h = readElementHead(this.buf, pos);
      if (!h) break;
      if (this.state === 'ebml') {
        if (h.id !== WEBM_IDS.EBML) throw new WebmSplitError('not WebM: the stream does not begin with an EBML header');
        if (h.size === null) throw new WebmSplitError('EBML header of unknown size');
        const end = pos + h.headLength + h.size;
        if (end > this.buf.length) break;
        this.addHeader(this.buf.subarray(pos, end));
        pos = end;
        this.state = 'segment';
        continue;
      }
      if (this.state === 'segment') {
        if (h.id !== WEBM_IDS.SEGMENT) throw new WebmSplitError('no Segment after the EBML header');
        this.addHeader(this.buf.subarray(pos, pos + h.headLength));
        pos += h.headLength;
        this.state = 'level1';
        continue;
      }
      if (this.state === 'cluster') {
        if (this.clusterLeft === 0 || (this.clusterLeft === null && (LEVEL1.has(h.id) || h.id === WEBM_IDS.EBML))) {
          this.state = 'level1';
          continue;
        }
        if (h.size === null) throw new WebmSplitError('element of unknown size inside a Cluster');
        const len = h.headLength + h.size;
        if (len > MAX_WEBM_ELEMENT) throw new WebmSplitError(`element of ${len} bytes (at most ${MAX_WEBM_ELEMENT})`);
        if (this.clusterLeft !== null && len > this.clusterLeft) throw new WebmSplitError('element overruns its Cluster');
        if (pos + len > this.buf.length) break;
        if (dataStart < 0) {
          dataStart = pos;
          dataSync = false;
        }
        pos += len;
        if (this.clusterLeft !== null) this.clusterLeft -= len;
        continue;
      }
      // level1
      if (h.id === WEBM_IDS.EBML) {
        // A new stream (the encoder restarted): a new header follows.
        flushData(pos);
        this.state = 'ebml';
        this.header = [];
        this.headerBytes = 0;
        continue;
      }
      if (h.id === WEBM_IDS.CLUSTER) {
        flushData(pos);
        if (this.header.length) this.emitHeader(out);
        dataStart = pos;
        dataSync = true;
        pos += h.headLength;
        this.clusterLeft = h.size;
        this.state = 'cluster';
        continue;
      }
      if (h.size === null) throw new WebmSplitError(`level-1 element 0x${h.id.toString(16)} of unknown size`);
      const len = h.headLength + h.size;
      if (len > MAX_WEBM_ELEMENT) throw new WebmSplitError(`element of ${len} bytes (at most ${MAX_WEBM_ELEMENT})`);
      if (pos + len > this.buf.length) break;
      if (this.header.length) this.addHeader(this.buf.subarray(pos, pos + len));
      else if (dataStart < 0) {
        dataStart = pos; // Cues or Tags between Clusters go along with the data
        dataSync = false;
      }
      pos += len;
    }
    flushData(pos);
    // Keep what is left (an incomplete element) as a copy, so the pieces handed out stay intact.
    this.buf = Buffer.from(this.buf.subarray(pos));
    if (this.buf.length > MAX_WEBM_ELEMENT + 16) throw new WebmSplitError('element too large');
    return out;
  }

  private addHeader(b: Buffer): void {
    this.headerBytes += b.length;
    if (this.headerBytes > MAX_HEADER) throw new WebmSplitError(`header over ${MAX_HEADER} bytes`);
    this.header.push(Buffer.from(b));
  }

  private emitHeader(out: WebmPiece[]): void {
    out.push({ kind: 'header', data: Buffer.concat(this.header) });
    this.header = [];
    this.headerBytes = 0;
  }
}
