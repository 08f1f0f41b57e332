// Property tests of the GDP codec: round trips, chunking independence, robustness on garbage.
import fc from 'fast-check';
import { BUFFER_FLAGS_CARRIED, GdpDecoder, GdpFrame, GdpPacket, encodePacket } from '../../../protocol/gdp';
import { GdpError } from '../../../protocol/errors';
import { EVENT_TYPES } from '../../../protocol/gst/event-types';
import { stringValue } from '../../../protocol/gst/value';
import { GstStructure } from '../../../protocol/gst/structure';

const u64 = fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 2n }), { nil: null });
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
const structureText = fc
  .tuple(name, fc.array(fc.tuple(name, fc.oneof(fc.string(), fc.integer().map(String))), { maxLength: 4 }))
  .map(([n, fields]) => new GstStructure(n, fields.map(([k, v]) => ({ name: k, value: stringValue(v) }))).toString());

const bufferPacket: fc.Arbitrary<GdpPacket> = fc.record({
  kind: fc.constant('buffer' as const),
  pts: u64, dts: u64, duration: u64, offset: u64, offsetEnd: u64,
  flags: fc.integer({ min: 0, max: 0xffff }).map((f) => f & BUFFER_FLAGS_CARRIED),
  data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
});
const capsPacket: fc.Arbitrary<GdpPacket> = structureText.map((s) => ({ kind: 'caps' as const, caps: s.slice(0, -1) }));
const eventPacket: fc.Arbitrary<GdpPacket> = fc.record({
  kind: fc.constant('event' as const),
  eventType: fc.integer({ min: 0, max: 0xffff - 64 }).filter((t) => t !== EVENT_TYPES.eos),
  structure: fc.option(structureText, { nil: null }),
});
const crc = fc.record({ crcHeader: fc.boolean(), crcPayload: fc.boolean() });
const stream = fc.tuple(capsPacket, fc.array(fc.tuple(fc.oneof(bufferPacket, bufferPacket, capsPacket, eventPacket), crc), { maxLength: 25 }));

function decodeAll(bytes: Buffer, cuts: number[], max?: number): { frames: GdpFrame[]; error: GdpError | null; maxHeld: number } {
  const frames: GdpFrame[] = [];
  const dec = new GdpDecoder({ onFrame: (f) => frames.push(f), maxPayloadSize: max });
  let error: GdpError | null = null;
  let maxHeld = 0;
  let at = 0;
  for (const cut of [...cuts.filter((c) => c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    error = dec.push(bytes.subarray(at, cut)) ?? error;
    maxHeld = Math.max(maxHeld, dec.bufferedBytes);
    at = cut;
  }
  error = error ?? dec.end();
  return { frames, error, maxHeld };
}

function toPlain(p: GdpPacket): unknown {
  return p.kind === 'buffer' ? { ...p, data: Buffer.from(p.data).toString('hex') } : p;
}

describe('GDP codec properties', () => {
  it('decodes what it encodes, for any packets and CRC settings', () => {
    fc.assert(
      fc.property(stream, ([first, rest]) => {
        const packets = [first, ...rest.map(([p]) => p)];
        const bytes = Buffer.concat([encodePacket(first), ...rest.map(([p, c]) => encodePacket(p, c))]);
        const { frames, error } = decodeAll(bytes, []);
        expect(error).toBeNull();
        expect(frames.map((f) => toPlain(f.toPacket()))).toEqual(packets.map(toPlain));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes the same whatever the chunking', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(20000), { maxLength: 40 }), ([first, rest], cuts) => {
        const bytes = Buffer.concat([encodePacket(first), ...rest.map(([p, c]) => encodePacket(p, c))]);
        const whole = decodeAll(bytes, []).frames.map((f) => f.bytes.toString('hex'));
        const chunked = decodeAll(bytes, cuts).frames.map((f) => f.bytes.toString('hex'));
        expect(chunked).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on random bytes and ends in frames or a typed error, within the bound', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(2000), { maxLength: 10 }), (raw, cuts) => {
        const { error, maxHeld } = decodeAll(Buffer.from(raw), cuts, 1024);
        expect(maxHeld).toBeLessThanOrEqual(62 + 1024);
        if (error) expect(error.code).toMatch(/^FLUX_GDP_/);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on mutated valid streams', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(5000), { maxLength: 10 }), ([first, rest], edits, cuts) => {
        const bytes = Buffer.concat([encodePacket(first), ...rest.map(([p, c]) => encodePacket(p, c))]);
        for (const [at, v] of edits) bytes[at % bytes.length] = v;
        const { error, maxHeld } = decodeAll(bytes, cuts, 4096);
        expect(maxHeld).toBeLessThanOrEqual(62 + 4096);
        if (error) expect(error).toBeInstanceOf(GdpError);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a payload above the bound before buffering it', () => {
    const big = encodePacket({ kind: 'buffer', pts: 0n, dts: null, duration: null, offset: null, offsetEnd: null, flags: 0, data: Buffer.alloc(5000) });
    const caps = encodePacket({ kind: 'caps', caps: 'audio/x-raw' });
    const { error, maxHeld } = decodeAll(Buffer.concat([caps, big]), [100, 200], 4096);
    expect(error?.code).toBe('FLUX_GDP_PAYLOAD_TOO_LARGE');
    expect(maxHeld).toBeLessThan(200);
  });

  it('keeps 64-bit values above 2^53 exact', () => {
    const v = 2n ** 53n + 1n;
    const bytes = Buffer.concat([
      encodePacket({ kind: 'caps', caps: 'x/y' }),
      encodePacket({ kind: 'buffer', pts: v, dts: 2n ** 64n - 2n, duration: 0n, offset: v * 3n, offsetEnd: null, flags: 0, data: Buffer.alloc(1) }),
    ]);
    const f = decodeAll(bytes, []).frames[1];
    expect([f.pts, f.dts, f.duration, f.offset, f.offsetEnd]).toEqual([v, 2n ** 64n - 2n, 0n, v * 3n, null]);
  });
});
