// RTP packetization both ways (RFC 6184 H.264, RFC 7741 VP8) and the RTP clock: what goes out
// comes back whole, fragments stay under the MTU, a lost fragment drops its frame only.

import * as fc from 'fast-check';
import { AccessUnit, H264Depacketizer, NAL, nalUnitsAnnexB, nalUnitsAvc, packetizeH264, parseAvcConfig, profileLevelId } from '../../../protocol/rtp/h264-rtp';
import { Vp8Depacketizer, Vp8Frame, packetizeVp8, vp8KeyframeSize } from '../../../protocol/rtp/vp8-rtp';
import { RtpClock } from '../../../protocol/rtp/rtp-clock';
import { RtpPacketizer } from '../../../protocol/rtp/gdp-to-rtp';

const annexB = (nals: Buffer[]) => Buffer.concat(nals.flatMap((n) => [Buffer.from([0, 0, 0, 1]), n]));
const nal = (type: number, size: number, fill = 0x11) => Buffer.concat([Buffer.from([0x60 | type]), Buffer.alloc(size - 1, fill)]);

describe('H.264 over RTP', () => {
  it('finds NAL units behind 3- and 4-byte start codes, and in AVC length-prefixed form', () => {
    const a = nal(NAL.SPS, 10), b = nal(NAL.PPS, 4), c = nal(NAL.IDR, 50);
    const data = Buffer.concat([Buffer.from([0, 0, 0, 1]), a, Buffer.from([0, 0, 1]), b, Buffer.from([0, 0, 0, 1]), c]);
    expect(nalUnitsAnnexB(data)).toEqual([a, b, c]);
    const avc = Buffer.concat([a, b, c].flatMap((n) => [Buffer.from([0, 0, 0, n.length]), n]));
    expect(nalUnitsAvc(avc, 4)).toEqual([a, b, c]);
    expect(nalUnitsAvc(avc.subarray(0, avc.length - 1), 4)).toBeNull();
  });

  it('reads an avcC record and a profile-level-id', () => {
    const sps = Buffer.from([0x67, 0x42, 0xe0, 0x1f, 0xaa]);
    const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
    const avcc = Buffer.concat([Buffer.from([1, 0x42, 0xe0, 0x1f, 0xff, 0xe1, 0, sps.length]), sps, Buffer.from([1, 0, pps.length]), pps]);
    expect(parseAvcConfig(avcc)).toEqual({ lengthSize: 4, sps: [sps], pps: [pps] });
    expect(profileLevelId(sps)).toBe('42e01f');
    expect(parseAvcConfig(Buffer.from([1, 2, 3]))).toBeNull();
  });

  it('packetizes any access unit under the MTU and depacketizes it back whole, keyframe flagged', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 2, max: 5000 }), { minLength: 1, maxLength: 6 }), fc.boolean(), (sizes, idr) => {
      const nals = sizes.map((s, i) => nal(i === 0 && idr ? NAL.IDR : 1, s, i + 1));
      const payloads = packetizeH264(nals, 1200);
      for (const p of payloads) expect(p.length).toBeLessThanOrEqual(1200);
      const d = new H264Depacketizer();
      let out: AccessUnit | null = null;
      payloads.forEach((p, i) => (out = d.push(100 + i, 9000, i === payloads.length - 1, p) ?? out));
      expect(out).toEqual({ data: annexB(nals), keyframe: idr, timestamp: 9000 });
    }), { numRuns: 60 });
  });

  it('takes STAP-A aggregates', () => {
    const a = nal(NAL.SPS, 8), b = nal(NAL.PPS, 4), c = nal(NAL.IDR, 20);
    const stap = Buffer.concat([Buffer.from([0x78]), ...[a, b].flatMap((n) => [Buffer.from([0, n.length]), n])]);
    const d = new H264Depacketizer();
    expect(d.push(1, 5, false, stap)).toBeNull();
    expect(d.push(2, 5, true, c)).toEqual({ data: annexB([a, b, c]), keyframe: true, timestamp: 5 });
  });

  it('drops an access unit that lost a fragment, and takes the next one', () => {
    const big = nal(NAL.IDR, 4000);
    const payloads = packetizeH264([big], 1200);
    const d = new H264Depacketizer();
    expect(d.push(1, 10, false, payloads[0])).toBeNull();
    expect(d.push(3, 10, false, payloads[2])).toBeNull(); // 2 is lost
    expect(d.push(4, 10, true, payloads[3])).toBeNull();
    expect(d.dropped).toBe(1);
    const next = nal(1, 30);
    expect(d.push(5, 20, true, next)).toEqual({ data: annexB([next]), keyframe: false, timestamp: 20 });
  });

  it('puts the parameter sets before a keyframe that has none (a viewer can start at any keyframe)', () => {
    const p = new RtpPacketizer('video');
    const sps = Buffer.from([0x67, 0x4d, 0x00, 0x1f, 0x01]);
    const pps = Buffer.from([0x68, 0x01]);
    expect(p.caps('video/x-h264, stream-format=(string)byte-stream, alignment=(string)au, profile=(string)main').profileIdc).toBe('4d');
    const first = p.buffer(annexB([sps, pps, nal(NAL.IDR, 10)]), 0n, 0n, true);
    expect(first?.payloads.length).toBe(3);
    const later = p.buffer(annexB([nal(NAL.IDR, 10)]), 40000000n, 40000000n, true);
    expect(later?.keyframe).toBe(true);
    expect(later?.payloads.slice(0, 2)).toEqual([sps, pps]);
    expect(later?.timestamp).toBe(3600);
  });
});

describe('VP8 over RTP', () => {
  it('packetizes any frame under the MTU with the start bit on the first payload, and back', () => {
    fc.assert(fc.property(fc.integer({ min: 3, max: 9000 }), fc.boolean(), (size, key) => {
      const frame = Buffer.alloc(size, 7);
      frame[0] = key ? 0x10 : 0x11;
      const payloads = packetizeVp8(frame, 1200);
      for (const p of payloads) expect(p.length).toBeLessThanOrEqual(1200);
      expect(payloads[0][0]).toBe(0x10);
      const d = new Vp8Depacketizer();
      let out: Vp8Frame | null = null;
      payloads.forEach((p, i) => (out = d.push(7 + i, 1, i === payloads.length - 1, p) ?? out));
      expect(out).toEqual({ data: frame, keyframe: key, timestamp: 1 });
    }), { numRuns: 60 });
  });

  it('reads extended descriptors (picture id) and a keyframe size', () => {
    const key = Buffer.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 0xff]);
    const d = new Vp8Depacketizer();
    const f = d.push(1, 3, true, Buffer.concat([Buffer.from([0x90, 0x80, 0x81, 0x23]), key]));
    expect(f?.data).toEqual(key);
    expect(vp8KeyframeSize(key)).toEqual({ width: 320, height: 240 });
  });
});

describe('RtpClock', () => {
  it('unwraps 32-bit timestamps and places the track where its first packet arrived', () => {
    const c = new RtpClock(90000);
    expect(c.toNs(0xffffff00, 100)).toBe(100000000n);
    expect(c.toNs(0x00000100 - 0 + 0, 140)).toBe(100000000n + (0x200n * 1000000000n) / 90000n);
  });
});
