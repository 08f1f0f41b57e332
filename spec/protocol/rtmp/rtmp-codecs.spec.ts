// The RTMP codecs alone: AMF0 values round-trip and hostile input is refused; the chunk reader
// reassembles what writeMessage cut, however the bytes are split, with chunk size changes and
// extended timestamps; FLV tags read into caps and frames.

import fc from 'fast-check';
import { Amf0Error, Amf0Value, decodeAmf0, encodeAmf0 } from '../../../protocol/rtmp/amf0';
import { ChunkReader, MSG, RtmpError, controlMessage, writeMessage } from '../../../protocol/rtmp/chunks';
import { readAudioTag, readVideoTag } from '../../../protocol/rtmp/flv';

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

  it('refuses oversized messages, a chunk stream without a first header, and absurd chunk sizes', () => {
    expect(() => new ChunkReader(1000).push(writeMessage({ type: MSG.VIDEO, timestamp: 0, streamId: 1, payload: Buffer.alloc(2000) }, 4, 4096))).toThrow(/message of 2000 bytes/);
    expect(() => new ChunkReader().push(Buffer.from([0xc4, 1, 2, 3]))).toThrow(RtmpError);
    expect(() => new ChunkReader().push(writeMessage(controlMessage(MSG.SET_CHUNK_SIZE, 0), 2, 128))).toThrow(/chunk size 0 out of range/);
  });
});

describe('FLV tags', () => {
  it('reads AVC configuration and frames, AAC configuration and frames, and names what it does not take', () => {
    const cfg = readVideoTag(Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), Buffer.from('01640028ffe1000467640028', 'hex')]), 0);
    expect(cfg).toEqual({ kind: 'config', caps: 'video/x-h264, stream-format=(string)avc, alignment=(string)au, codec_data=(buffer)01640028ffe1000467640028' });
    const frame = readVideoTag(Buffer.from([0x27, 1, 0, 0, 80, 0, 0, 0, 1, 0x41]), 1000);
    expect(frame).toMatchObject({ kind: 'frame', keyframe: false, dtsMs: 1000, ptsMs: 1080 });
    expect(readVideoTag(Buffer.from([0x12, 0]), 0)).toEqual({ kind: 'unsupported', what: 'Sorenson H.263 video' });
    expect(readAudioTag(Buffer.from([0xaf, 0, 0x12, 0x10]))).toMatchObject({ kind: 'config', rate: 44100, caps: expect.stringMatching(/rate=\(int\)44100, channels=\(int\)2, codec_data=\(buffer\)1210$/) });
    expect(readAudioTag(Buffer.from([0xaf, 1, 0xde, 0xad]))).toEqual({ kind: 'frame', data: Buffer.from([0xde, 0xad]) });
    expect(readAudioTag(Buffer.from([0x2f, 0xff]))).toEqual({ kind: 'unsupported', what: 'MP3 audio' });
  });
});
