// The chunk reader against chunks written the way FFmpeg writes them (type 3 after type 0 repeats
// the timestamp; extended timestamps in type 3 chunks), the 64-bit clock over RTMP's 32-bit wrap,
// and the bounds that keep a connection that has not published under 1 MiB.

import fc from 'fast-check';
import { ChunkReader, MSG, PRE_PUBLISH_LIMITS, PUBLISH_LIMITS, RtmpError, controlMessage, writeMessage } from '../../../protocol/rtmp/chunks';
import { TimestampClock } from '../../../protocol/rtmp/timestamps';
import { FfmpegChunkWriter } from '../../helpers/rtmp-wire';

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RtmpError);
    return (e as RtmpError).code;
  }
  return 'no error';
};

describe('RTMP chunk timestamps', () => {
  it('takes a type 3 chunk that starts a message after a type 0 as repeating its timestamp as the delta', () => {
    const bytes = Buffer.from([
      0x04, 0, 0, 40, 0, 0, 2, MSG.AUDIO, 1, 0, 0, 0, 0xa1, 0xa2, // type 0: t = 40
      0xc4, 0xb1, 0xb2, // type 3: delta 40 again, t = 80
      0x84, 0, 0, 20, 0xc1, 0xc2, // type 2: delta 20, t = 100
      0xc4, 0xd1, 0xd2, // type 3: delta 20 again, t = 120
    ]);
    expect(new ChunkReader().push(bytes).map((m) => [m.timestamp, m.payload.toString('hex')])).toEqual([[40, 'a1a2'], [80, 'b1b2'], [100, 'c1c2'], [120, 'd1d2']]);
  });

  it('reads a type 3 chunk that starts a message with an extended timestamp as that delta', () => {
    const w = new FfmpegChunkWriter(128);
    const m = (t: number) => w.write({ type: MSG.VIDEO, timestamp: t, streamId: 1, payload: Buffer.alloc(300, t & 0xff) }, 6);
    const bytes = Buffer.concat([m(0x1000000), m(0x2000000), m(0x3000000)]);
    // Type 0, then type 3 twice: the 24-bit field stays 0xffffff, the extended field carries the delta.
    expect(w.headerTypes).toEqual([1, 0, 0, 2]);
    expect(new ChunkReader().push(bytes).map((x) => x.timestamp)).toEqual([0x1000000, 0x2000000, 0x3000000]);
  });

  it('reads every message FFmpeg\'s writer makes, however the bytes are split: all four header types, extended fields, steps back', () => {
    const seen = [0, 0, 0, 0];
    fc.assert(fc.property(
      fc.array(fc.record({
        step: fc.oneof(fc.constant(0), fc.constant(40), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0xfffff0, max: 0x1000100 }), fc.integer({ min: -50, max: -1 })),
        size: fc.oneof(fc.constant(10), fc.integer({ min: 0, max: 600 })),
        type: fc.constantFrom(MSG.AUDIO, MSG.VIDEO),
        csid: fc.constantFrom(4, 6),
      }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 0xfffffff0 }),
      fc.integer({ min: 1, max: 500 }),
      (msgs, start, cut) => {
        const w = new FfmpegChunkWriter(128);
        let t = start;
        const sent = msgs.map((m, i) => {
          t = Math.max(0, t + m.step) >>> 0;
          return { type: m.type, timestamp: t, streamId: 1, payload: Buffer.alloc(m.size, i), csid: m.csid };
        });
        const all = Buffer.concat(sent.map((m) => w.write(m, m.csid)));
        w.headerTypes.forEach((n, i) => (seen[i] += n));
        const r = new ChunkReader();
        const got = [];
        for (let off = 0; off < all.length; off += cut) got.push(...r.push(all.subarray(off, off + cut)));
        expect(got.map((g) => [g.type, g.timestamp, g.payload.length])).toEqual(sent.map((m) => [m.type, m.timestamp, m.payload.length]));
        expect(r.bufferedBytes()).toBe(0);
      },
    ), { numRuns: 300 });
    expect(seen.every((n) => n > 0)).toBe(true);
  });

  it('makes a 64-bit clock of 32-bit timestamps across the wrap, steps back included', () => {
    const c = new TimestampClock();
    expect([0xfffffc18, 0xfffffc00, 0xffffffff, 0x10, 0x3e8, 0x3d0].map((t) => c.time(t))).toEqual([0xfffffc18, 0xfffffc00, 0xffffffff, 2 ** 32 + 0x10, 2 ** 32 + 0x3e8, 2 ** 32 + 0x3d0]);
    const d = new TimestampClock();
    let t = 0;
    for (let i = 0; i < 5000; i++) t = d.time(((i + 1) * 1000003) >>> 0);
    expect(t).toBe(5000 * 1000003); // 5e9 ms: past 2^32 once
  });
});

describe('RTMP chunk stream bounds', () => {
  it('refuses, before a publish, a ninth chunk stream, a chunk size over 64 KiB and a message over 64 KiB, each with its code', () => {
    const pre = () => new ChunkReader(PRE_PUBLISH_LIMITS);
    const streams = Buffer.concat(Array.from({ length: 9 }, (_, i) => writeMessage({ type: MSG.COMMAND_AMF0, timestamp: 0, streamId: 0, payload: Buffer.alloc(4) }, 3 + i, 128)));
    expect(codeOf(() => pre().push(streams))).toBe('FLUX_RTMP_TOO_MANY_CHUNK_STREAMS');
    expect(() => pre().push(streams.subarray(0, streams.length / 9 * 8))).not.toThrow();
    expect(codeOf(() => pre().push(writeMessage(controlMessage(MSG.SET_CHUNK_SIZE, 65537), 2, 128)))).toBe('FLUX_RTMP_CHUNK_SIZE');
    expect(codeOf(() => pre().push(writeMessage({ type: MSG.COMMAND_AMF0, timestamp: 0, streamId: 0, payload: Buffer.alloc(65537) }, 3, 4096)))).toBe('FLUX_RTMP_MESSAGE_TOO_LARGE');
    // Once publishing, a publisher's sizes are taken.
    const r = pre();
    r.setLimits(PUBLISH_LIMITS);
    expect(() => r.push(Buffer.concat([writeMessage(controlMessage(MSG.SET_CHUNK_SIZE, 1 << 20), 2, 128), writeMessage({ type: MSG.VIDEO, timestamp: 0, streamId: 1, payload: Buffer.alloc(3 << 20) }, 6, 1 << 20)]))).not.toThrow();
  });

  it('holds no more than its messages in progress and a partial header, whatever a hostile peer sends', () => {
    // Eight chunk streams each declare a 64 KiB message and send all of it but its last chunk, in pieces of 1 to 977 bytes.
    const r = new ChunkReader(PRE_PUBLISH_LIMITS);
    const size = PRE_PUBLISH_LIMITS.maxMessage;
    const parts = Array.from({ length: 8 }, (_, i) => writeMessage({ type: MSG.COMMAND_AMF0, timestamp: 0, streamId: 0, payload: Buffer.alloc(size, i) }, 3 + i, 128));
    let most = 0;
    for (const p of parts) {
      const unfinished = p.subarray(0, p.length - 129);
      for (let off = 0; off < unfinished.length; off += 1 + (off % 977)) {
        r.push(unfinished.subarray(off, Math.min(unfinished.length, off + 1 + (off % 977))));
        most = Math.max(most, r.bufferedBytes());
      }
    }
    expect(most).toBeLessThanOrEqual(8 * size + 18);
    expect(most).toBeGreaterThan(7 * size); // it does hold them: the bound is real, not a counter that never moves
    // A ninth message in progress would pass the in-progress bound only with smaller limits; with these, its stream is refused.
    expect(codeOf(() => r.push(writeMessage({ type: MSG.COMMAND_AMF0, timestamp: 0, streamId: 0, payload: Buffer.alloc(10) }, 20, 128)))).toBe('FLUX_RTMP_TOO_MANY_CHUNK_STREAMS');
    // Their last chunks complete them and free them.
    const done = parts.flatMap((p) => r.push(p.subarray(p.length - 129)));
    expect(done).toHaveLength(8);
    expect(r.bufferedBytes()).toBe(0);
  });

  it('bounds the bytes of messages in progress across chunk streams, and frees an aborted one', () => {
    const r = new ChunkReader({ ...PUBLISH_LIMITS, maxInProgress: 1000 });
    // The header and first chunk of a message (the rest never comes).
    const head = (csid: number, len: number) => writeMessage({ type: MSG.VIDEO, timestamp: 0, streamId: 1, payload: Buffer.alloc(len) }, csid, 128).subarray(0, 12 + 128);
    r.push(head(4, 600));
    expect(r.bufferedBytes()).toBe(600);
    expect(codeOf(() => r.push(head(5, 600)))).toBe('FLUX_RTMP_MESSAGE_TOO_LARGE');
    const r2 = new ChunkReader({ ...PUBLISH_LIMITS, maxInProgress: 1000 });
    r2.push(Buffer.concat([head(4, 600), writeMessage(controlMessage(MSG.ABORT, 4), 2, 128)]));
    expect(r2.bufferedBytes()).toBe(0);
    expect(() => r2.push(head(5, 600))).not.toThrow();
  });
});
