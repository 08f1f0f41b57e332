// The WebM splitter alone: header elements become the streamheader, Clusters of known and
// unknown size start sync buffers, however the bytes are split; bad input is refused.

import fc from 'fast-check';
import { WebmSplitError, WebmPiece, WebmSplitter } from '../../../protocol/media/webm-split';

/** An element: ID bytes, a size (8-byte VINT, or unknown), and the body. */
function el(id: number[], body: Buffer, unknownSize = false): Buffer {
  const size = Buffer.alloc(8);
  if (unknownSize) size.fill(0xff, 0, 8);
  else {
    size.writeUInt32BE(0, 0);
    size.writeUInt32BE(body.length, 4);
  }
  size[0] = 0x01; // an 8-byte size; all ones after the marker means unknown
  return Buffer.concat([Buffer.from(id), size, body]);
}

const EBML = el([0x1a, 0x45, 0xdf, 0xa3], Buffer.from([0x42, 0x82, 0x84, 0x77, 0x65, 0x62, 0x6d])); // DocType "webm"
const INFO = el([0x15, 0x49, 0xa9, 0x66], Buffer.alloc(10, 1));
const TRACKS = el([0x16, 0x54, 0xae, 0x6b], Buffer.alloc(20, 2));
const block = (n: number) => el([0xa3], Buffer.alloc(30, n));
const timecode = el([0xe7], Buffer.from([0]));
const SEGMENT_HEAD = Buffer.concat([Buffer.from([0x18, 0x53, 0x80, 0x67]), Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);

function stream(clusterUnknownSize: boolean): { bytes: Buffer; header: Buffer; clusters: Buffer[] } {
  const clusters = [1, 2, 3].map((c) => el([0x1f, 0x43, 0xb6, 0x75], Buffer.concat([timecode, block(c), block(c + 10)]), clusterUnknownSize));
  const header = Buffer.concat([EBML, SEGMENT_HEAD, INFO, TRACKS]);
  return { bytes: Buffer.concat([header, ...clusters]), header, clusters };
}

function run(bytes: Buffer, cut: number): WebmPiece[] {
  const s = new WebmSplitter();
  const out: WebmPiece[] = [];
  for (let off = 0; off < bytes.length; off += cut) out.push(...s.push(bytes.subarray(off, off + cut)));
  return out;
}

describe('WebM splitter', () => {
  it.each([false, true])('puts the header in the streamheader and starts a sync buffer at each Cluster (unknown sizes: %s), however split', (unknown) => {
    const { bytes, header, clusters } = stream(unknown);
    fc.assert(fc.property(fc.integer({ min: 1, max: bytes.length }), (cut) => {
      const out = run(bytes, cut);
      expect(out[0]).toEqual({ kind: 'header', data: header });
      const data = out.slice(1) as Array<Extract<WebmPiece, { kind: 'data' }>>;
      expect(data.every((p) => p.kind === 'data')).toBe(true);
      expect(Buffer.concat(data.map((p) => p.data))).toEqual(Buffer.concat(clusters)); // every byte, in order
      // Every Cluster start begins a sync piece; no sync piece starts elsewhere.
      let off = 0;
      const starts = new Set<number>();
      for (const c of clusters) {
        starts.add(off);
        off += c.length;
      }
      let at = 0;
      for (const p of data) {
        expect(p.sync).toBe(starts.has(at));
        at += p.data.length;
      }
    }));
  });

  it('refuses what is not WebM', () => {
    expect(() => new WebmSplitter().push(Buffer.from('OggS\0\x02 not webm at all'))).toThrow(WebmSplitError);
    expect(() => new WebmSplitter().push(Buffer.concat([EBML, Buffer.from([0x1f, 0x43, 0xb6, 0x75, 0x81, 0])]))).toThrow(/no Segment after the EBML header/);
  });
});
