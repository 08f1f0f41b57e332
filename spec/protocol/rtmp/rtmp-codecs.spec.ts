// The RTMP codecs alone: AMF0 values round-trip and hostile input is refused; the chunk reader
// reassembles what writeMessage cut, however the bytes are split, with chunk size changes and
// extended timestamps. (AMF3: amf3.spec.ts; timestamps and bounds: chunk-stream.spec.ts; FLV
// tags: flv.spec.ts.)

import fc from 'fast-check';
import { Amf0Error, Amf0Value, decodeAmf0, encodeAmf0 } from '../../../protocol/rtmp/amf0';
import { ChunkReader, MSG, PUBLISH_LIMITS, RtmpError, controlMessage, writeMessage } from '../../../protocol/rtmp/chunks';

describe('AMF0', () => {
  it('round-trips commands as encoders send them', () => {
    const values = ['connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live', fpad: false, nested: { a: [1, 'b', null] } }, null, undefined];
    expect(decodeAmf0(encodeAmf0(...values))).toEqual(values);
  });

  it('round-trips any value made of what AMF0 holds', () => {
    const leaf = fc.oneof(fc.double({ noNaN: true }), fc.boolean(), fc.string(), fc.constant(null));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ minLength: 1 }).filter((k) => k !== '__proto__'), tie('v'), { maxKeys: 4 })),
    })).v;
    fc.assert(fc.property(fc.array(value, { maxLength: 5 }), (vs) => {
      expect(decodeAmf0(encodeAmf0(...(vs as Amf0Value[])))).toEqual(vs);
    }));
  });

  it('refuses truncated, unknown and too deeply nested input with an Amf0Error', () => {
    const ok = encodeAmf0('publish', 5, null, 'key');
    expect(() => decodeAmf0(ok.subarray(0, ok.length - 2))).toThrow(Amf0Error);
    expect(() => decodeAmf0(Buffer.from([0x0d]))).toThrow(/AMF0 type 13 is not supported/);
    expect(() => decodeAmf0(Buffer.concat([Buffer.from([0x03]), ...Array.from({ length: 40 }, () => Buffer.from([0, 1, 0x61, 0x03]))]))).toThrow(/nesting too deep/); // objects within objects
    const arr = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decodeAmf0(arr)).toThrow(/array of 4294967295 items/);
  });
});

describe('RTMP chunk stream', () => {
  it('reassembles messages however the bytes are split, across chunk size changes and extended timestamps', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ size: fc.integer({ min: 0, max: 5000 }), ts: fc.oneof(fc.integer({ min: 0, max: 100000 }), fc.integer({ min: 0xffffff, max: 0xffffffff })), type: fc.constantFrom(MSG.AUDIO, MSG.VIDEO, MSG.COMMAND_AMF0) }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 700 }),
      (msgs, cut) => {
        const bytes: Buffer[] = [];
        let chunk = 128;
        msgs.forEach((m, i) => {
          if (i === 1) {
            bytes.push(writeMessage(controlMessage(MSG.SET_CHUNK_SIZE, 1000), 2, chunk));
            chunk = 1000;
          }
          bytes.push(writeMessage({ type: m.type, timestamp: m.ts, streamId: 1, payload: Buffer.alloc(m.size, i + 1) }, 4 + (i % 3), chunk));
        });
        const all = Buffer.concat(bytes);
        const r = new ChunkReader();
        const got = [];
        for (let off = 0; off < all.length; off += cut) got.push(...r.push(all.subarray(off, off + cut)));
        expect(got.map((g) => [g.type, g.timestamp, g.payload.length, g.payload[0] ?? 0])).toEqual(msgs.map((m, i) => [m.type, m.ts, m.size, m.size ? i + 1 : 0]));
      },
    ));
  });

  it('refuses oversized messages, a chunk stream without a first header, and absurd chunk sizes, each with its code', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(RtmpError);
        return (e as RtmpError).code;
      }
      return 'no error';
    };
    expect(codeOf(() => new ChunkReader({ ...PUBLISH_LIMITS, maxMessage: 1000 }).push(writeMessage({ type: MSG.VIDEO, timestamp: 0, streamId: 1, payload: Buffer.alloc(2000) }, 4, 4096)))).toBe('FLUX_RTMP_MESSAGE_TOO_LARGE');
    expect(codeOf(() => new ChunkReader().push(Buffer.from([0xc4, 1, 2, 3])))).toBe('FLUX_RTMP_BAD_CHUNK');
    expect(codeOf(() => new ChunkReader().push(writeMessage(controlMessage(MSG.SET_CHUNK_SIZE, 0), 2, 128)))).toBe('FLUX_RTMP_CHUNK_SIZE');
    expect(() => new ChunkReader().push(writeMessage(controlMessage(MSG.SET_CHUNK_SIZE, 0), 2, 128))).toThrow(/chunk size 0 out of range/);
  });
});
