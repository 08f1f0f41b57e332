// AMF3 inside AMF0 (the 0x11 marker): values as the AMF3 specification lays them out (U29
// integers, string/object/traits references), what encoders send in a connect, and the hostile
// inputs the reader refuses with FLUX_RTMP_BAD_AMF.

import fc from 'fast-check';
import { Amf0Error, decodeAmf0, encodeAmf0 } from '../../../protocol/rtmp/amf0';
import { Amf3Input, amf3 } from '../../helpers/rtmp-wire';

const switched = (...bytes: number[]) => decodeAmf0(Buffer.from([0x11, ...bytes]))[0];

describe('AMF3 values after the AMF0 0x11 switch', () => {
  it('reads U29 integers of one to four bytes, 29-bit negatives, doubles, booleans, null and undefined', () => {
    expect(switched(0x04, 0x7f)).toBe(127);
    expect(switched(0x04, 0x81, 0x00)).toBe(128);
    expect(switched(0x04, 0xff, 0x7f)).toBe(0x3fff);
    expect(switched(0x04, 0x80, 0xc0, 0x80, 0x00)).toBe(0x200000);
    expect(switched(0x04, 0xbf, 0xff, 0xff, 0xff)).toBe(0x0fffffff);
    expect(switched(0x04, 0xff, 0xff, 0xff, 0xff)).toBe(-1);
    expect(switched(0x05, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18)).toBe(Math.PI);
    expect([switched(0x02), switched(0x03), switched(0x01), switched(0x00)]).toEqual([false, true, null, undefined]);
  });

  it('resolves string, object and traits references within one value', () => {
    // [ "ab", "ab" (a reference to string 0), {x: 1}, {x: 2} (traits reference), the first object again (object reference 1) ]
    const bytes = [0x09, 0x0b, 0x01, 0x06, 0x05, 0x61, 0x62, 0x06, 0x00, 0x0a, 0x0b, 0x01, 0x03, 0x78, 0x04, 0x01, 0x01, 0x0a, 0x01, 0x02, 0x04, 0x02, 0x01, 0x0a, 0x02];
    expect(switched(...bytes)).toEqual(['ab', 'ab', { x: 1 }, { x: 2 }, { x: 1 }]);
  });

  it('reads sealed members, mixed arrays, dates, XML as text and typed vectors', () => {
    // A sealed class `C` with member `a` = 5, then a dynamic member `b` = true.
    expect(switched(0x0a, 0x1b, 0x03, 0x43, 0x03, 0x61, 0x04, 0x05, 0x03, 0x62, 0x03, 0x01)).toEqual({ a: 5, b: true });
    // An array with a key `k` and one dense value.
    expect(switched(0x09, 0x03, 0x03, 0x6b, 0x04, 0x07, 0x01, 0x04, 0x08)).toEqual({ k: 7, 0: 8 });
    const date = Buffer.alloc(8);
    date.writeDoubleBE(Date.UTC(2024, 0, 2));
    expect(switched(0x08, 0x01, ...date)).toEqual(new Date(Date.UTC(2024, 0, 2)));
    expect(switched(0x0b, 0x07, 0x3c, 0x61, 0x3e)).toBe('<a>');
    expect(switched(0x0d, 0x05, 0x00, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x02)).toEqual([-2, 2]);
  });

  it('decodes a connect command whose object follows the switch, as some encoders send it', () => {
    const obj = { app: 'live', flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)', tcUrl: 'rtmp://127.0.0.1:1935/live', fourCcList: ['av01', 'vp09', 'hvc1'], capabilities: 239, objectEncoding: 3, nested: { app: 'live' } };
    const payload = Buffer.concat([encodeAmf0('connect', 1), Buffer.from([0x11]), amf3(obj), encodeAmf0(null)]);
    expect(decodeAmf0(payload)).toEqual(['connect', 1, obj, null]);
  });

  it('reads back whatever the test writer writes', () => {
    const leaf = fc.oneof(fc.integer({ min: 0, max: 0x0fffffff }), fc.double({ noNaN: true }), fc.boolean(), fc.string(), fc.constant(null));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ minLength: 1 }).filter((k) => k !== '__proto__'), tie('v'), { maxKeys: 4 })),
    })).v;
    fc.assert(fc.property(value, (v) => {
      expect(decodeAmf0(Buffer.concat([Buffer.from([0x11]), amf3(v as Amf3Input)]))[0]).toEqual(v);
    }));
  });

  it('refuses truncated input, references out of range or to an object being read, and what it does not take', () => {
    const refusal = (...bytes: number[]) => {
      try {
        switched(...bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(Amf0Error);
        expect((e as Amf0Error).code).toBe('FLUX_RTMP_BAD_AMF');
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(refusal(0x06, 0x0b, 0x61)).toMatch(/truncated/);
    expect(refusal(0x06, 0x04)).toMatch(/string reference 2 out of range/);
    expect(refusal(0x0a, 0x02)).toMatch(/object reference 1 out of range/);
    expect(refusal(0x0a, 0x05)).toMatch(/traits reference 1 out of range/);
    expect(refusal(0x09, 0x03, 0x01, 0x09, 0x00)).toMatch(/reference to an object that contains it/); // an array holding itself
    expect(refusal(0x0a, 0x07, 0x01)).toMatch(/externalizable/);
    expect(refusal(0x0c, 0x03, 0x00)).toMatch(/ByteArray/);
    expect(refusal(0x09, 0xff, 0xff, 0xff, 0xff)).toMatch(/array of 268435455 items/);
    expect(refusal(...Array.from({ length: 20 }, () => [0x09, 0x03, 0x01]).flat(), 0x01)).toMatch(/nesting too deep/);
  });
});
