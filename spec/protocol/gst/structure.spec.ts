import * as fs from 'fs';
import * as path from 'path';
import { GstCaps } from '../../../protocol/gst/caps';
import { GstStructure } from '../../../protocol/gst/structure';
import { formatDouble } from '../../../protocol/gst/value';
import { unwrapString, wrapString } from '../../../protocol/gst/string-escape';
import { decodeToReport, listVectors, readVector, VECTOR_DIR } from '../../helpers/vectors';

/** Every caps and structure text found in the vectors: payloads, nested values, and gdppay's src caps. */
function vectorStrings(): { caps: string[]; structures: string[] } {
  const caps = new Set<string>();
  const structures = new Set<string>();
  for (const name of [...listVectors(), ...listVectors('decode-only')]) {
    const { bytes } = readVector(name);
    for (const f of decodeToReport(bytes).frames) {
      if (f.kind === 'caps' && f.text) caps.add(f.text);
      if (f.kind === 'event' && f.text) structures.add(f.text);
    }
    const meta = fs.readFileSync(path.join(VECTOR_DIR, `${name}.meta.txt`), 'utf8');
    for (const m of meta.matchAll(/caps = (application\/x-gdp[^\n]*)/g)) caps.add(m[1]);
  }
  return { caps: [...caps], structures: [...structures] };
}

describe('GstStructure and GstCaps text', () => {
  const { caps, structures } = vectorStrings();

  it('finds caps and structures in the vectors', () => {
    expect(caps.length).toBeGreaterThan(15);
    expect(structures.length).toBeGreaterThan(20);
  });

  it.each(caps.map((c) => [c.slice(0, 60), c]))('reproduces caps %s', (_label, text) => {
    expect(GstCaps.parse(text).toString()).toBe(text);
  });

  it.each(structures.map((s) => [s.slice(0, 60), s]))('reproduces structure %s', (_label, text) => {
    const s = GstStructure.parse(text);
    expect(s.toString()).toBe(text);
    for (const field of s.fields) {
      if (['GstSegment', 'taglist'].includes(field.value.type)) {
        const inner = s.getString(field.name) as string;
        expect(GstStructure.parse(inner).toString()).toBe(inner);
      }
    }
  });

  it('reads typed values out of a segment and a streamheader', () => {
    const seg = GstStructure.parse(structures.find((s) => s.startsWith('GstEventSegment')) as string).getStructure('segment');
    expect(seg?.getString('format')).toBe('time');
    expect(seg?.getBigInt('stop')).toBe(18446744073709551615n);
    expect(seg?.getNumber('rate')).toBe(1);
    const gdpCaps = GstCaps.parse(caps.find((c) => c.startsWith('application/x-gdp')) as string);
    const headers = gdpCaps.streamheader();
    expect(headers.length).toBeGreaterThan(0);
    expect(headers[0][0]).toBe(1); // each entry is a GDP packet, version 1.0
  });

  it('writes what GStreamer writes for untyped and aliased values', () => {
    const text = 'application/x-test,s=(string)"héllo wörld",t=(string)"a\\"b",e=(string)"",n=(string)NULL,' +
      'f=(fraction)30/1,d=(double)0.5,u=(uint)3,b=true,g=(guint64)18446744073709551615,i64=(gint64)-5,fl=(float)1.5,' +
      'x=abc,y=1.0,z=1e10,w=2/3,v=-7,q=yes,a=<(string)x,(string)y>';
    // Output of gst-launch-1.0 1.22 -v for this capsfilter.
    expect(GstCaps.parse(text).toString()).toBe(
      'application/x-test, s=(string)"h\\303\\251llo\\ w\\303\\266rld", t=(string)"a\\"b", e=(string)"", n=(string)NULL, ' +
        'f=(fraction)30/1, d=(double)0.5, u=(uint)3, b=(boolean)true, g=(guint64)18446744073709551615, i64=(gint64)-5, ' +
        'fl=(float)1.5, x=(string)abc, y=(double)1, z=(double)10000000000, w=(fraction)2/3, v=(int)-7, q=(boolean)true, a=(string)< x, y >',
    );
    expect(GstCaps.parse('application/x-test,e=(int)0x10,f=(fraction)60/2,g=(fraction)3,h=(boolean)yes,i=(float)0.1').toString()).toBe(
      'application/x-test, e=(int)16, f=(fraction)30/1, g=(fraction)3/1, h=(boolean)true, i=(float)0.10000000149011612',
    );
  });

  it('formats doubles like %.17g', () => {
    expect([0.1, 1e-7, 123456789012345680, 1e300, -0, 1.5e20, 123456789.125, 1e16, 1e17].map(formatDouble)).toEqual([
      '0.10000000000000001', '9.9999999999999995e-08', '1.2345678901234568e+17', '1.0000000000000001e+300', '-0',
      '1.5e+20', '123456789.125', '10000000000000000', '1e+17',
    ]);
  });

  it('escapes and unescapes strings symmetrically', () => {
    for (const s of ['', 'NULL', 'plain', 'two words', 'quote"back\\slash', 'tab\tnew\nline', 'ünïcødé ✓']) {
      const w = wrapString(s);
      expect(unwrapString(w.startsWith('"') ? w.slice(1, -1) : w)).toBe(s);
    }
  });

  it.each([
    ['this is , not = a structure'],
    [''],
    ['1name, a=(int)1'],
    ['name, a'],
    ['name, a=(int)x'],
    ['name, a=(int)99999999999'],
    ['name, a="unterminated'],
    ['name, a=(buffer)abc'],
    ['name, a=(int)1 junk'],
  ])('refuses %j with a FLUX_GST_PARSE error', (text) => {
    expect(() => GstStructure.parse(text)).toThrow(expect.objectContaining({ code: 'FLUX_GST_PARSE' }));
  });

  it('parses caps with several structures and features', () => {
    const c = GstCaps.parse('video/x-raw(memory:SystemMemory), width=(int)320; audio/x-raw, rate=(int)8000');
    expect(c.entries.length).toBe(2);
    expect(c.toString()).toBe('video/x-raw(memory:SystemMemory), width=(int)320; audio/x-raw, rate=(int)8000');
    expect(GstCaps.parse('ANY').toString()).toBe('ANY');
  });
});
