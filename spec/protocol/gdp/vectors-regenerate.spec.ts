// The GDP vectors kept in spec/fixtures/gdp-vectors can be made again from their own
// documentation: regenerate.sh, run into a temporary folder with the real GStreamer, gives the same
// packets and the same gdpdepay reports, up to what GStreamer makes random per run (see mask())
// and, for the error vectors, how many lines gst-launch managed to print before the error.

import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GdpFrame } from '../../../protocol/gdp';
import { describeGst } from '../../helpers/gst';
import { decodeToReport, listVectors } from '../../helpers/vectors';

const REFERENCE = path.resolve(__dirname, '../../fixtures/gdp-vectors');
const SCRIPT = path.join(REFERENCE, 'regenerate.sh');

/** The two vectors made by a Python program need GStreamer's introspection in some python3. */
function pythonGst(): boolean {
  return ['/usr/bin/python3', 'python3'].some(
    (py) => spawnSync(py, ['-c', "import gi; gi.require_version('Gst', '1.0'); from gi.repository import Gst"], { stdio: 'ignore' }).status === 0,
  );
}
const PROGRAM_MADE = ['buffer-fields', 'custom-events'];

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

/**
 * Masks what GStreamer draws at random in each run: stream-ids (plain, or a muxer's name and 8
 * hex digits), concat's group-ids, Ogg serial numbers (and so each page's CRC), WebM's DateUTC and
 * TrackUIDs. Hex runs (streamheaders; in meta.txt, whole GDP packets holding caps that hold
 * streamheaders) are decoded and masked inside too.
 */
function mask(text: string): string {
  return text
    .replace(/stream-id=\(string\)([a-z]+-)?[0-9a-f]{8,32}/g, 'stream-id=(string)$1ID')
    .replace(/group-id=\(uint\)\d+/g, 'group-id=(uint)N')
    .replace(/(?:[0-9a-f]{2}){8,}/g, maskHex);
}

function maskHex(h: string): string {
  const bytes = h
    .replace(/(4f676753[0-9a-f]{20})[0-9a-f]{8}([0-9a-f]{8})[0-9a-f]{8}/g, '$1SERIAL$2CRC') // Ogg page: serial, seqno, CRC
    .replace(/(446188|73c588)[0-9a-f]{16}/g, '$1UID'); // EBML DateUTC, TrackUID (8 bytes each)
  if (bytes !== h) return bytes;
  const inner = Buffer.from(h, 'hex').toString('latin1');
  const masked = mask(inner);
  if (masked === inner) return h;
  // A GDP packet (62-byte header) whose payload held something random: its payload CRC too.
  const packet = /^0100/.test(h) && h.length >= 124 ? `${hex(mask(inner.slice(0, 60)))}PCRC` : '';
  return `<${packet}${hex(packet ? mask(inner.slice(62)) : masked)}>`;
}

function payload(f: GdpFrame): string {
  return f.kind === 'buffer' ? maskHex(f.payload.toString('hex')) : mask(f.text ?? '');
}

function lines(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map(mask);
}

function frames(file: string): GdpFrame[] {
  return decodeToReport(fs.readFileSync(file)).frames;
}

/** What an edit changed: the bytes that differ in place, or what went and came between the common ends. */
function editOf(base: Buffer, edited: Buffer): unknown {
  if (base.length === edited.length) {
    const changed: string[] = [];
    for (let i = 0; i < base.length; i++) if (base[i] !== edited[i]) changed.push(`${i}:${base[i].toString(16)}>${edited[i].toString(16)}`);
    return changed;
  }
  const shortest = Math.min(base.length, edited.length);
  let prefix = 0;
  while (prefix < shortest && base[prefix] === edited[prefix]) prefix++;
  let suffix = 0;
  while (suffix < shortest - prefix && base[base.length - 1 - suffix] === edited[edited.length - 1 - suffix]) suffix++;
  return { prefix, suffix, removed: base.subarray(prefix, base.length - suffix).toString('hex'), added: edited.subarray(prefix, edited.length - suffix).toString('hex') };
}

describeGst('regenerate.sh (the GDP vectors remade from their documentation)', () => {
  let out: string;
  let names: string[];
  const withPython = pythonGst() || !!process.env.CI;

  beforeAll(() => {
    if (!withPython) console.warn('NOTICE: python3 with GStreamer introspection missing; buffer-fields and custom-events not regenerated (apt-get install python3-gst-1.0)');
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-vectors-'));
    names = [...listVectors(), ...listVectors('decode-only')].filter((n) => withPython || !PROGRAM_MADE.includes(n));
    // Three decodes per error vector instead of the documented 15, and a short limit for the
    // runs where gst-launch 1.22 hangs (see the vectors' README).
    execFileSync('bash', [SCRIPT, out, ...names], { env: { ...process.env, RUNS: '3', GST_TIMEOUT: '5' }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 240000 });
  }, 250000);
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('remakes every vector, with its expectation and meta file', () => {
    expect(names.length).toBeGreaterThanOrEqual(withPython ? 28 : 26);
    for (const n of names) for (const ext of ['gdp', 'expect.txt', 'meta.txt']) expect(fs.existsSync(path.join(out, `${n}.${ext}`))).toBe(true);
  });

  it('writes the same packets: sizes, buffer payloads and caps, events up to their random ids', () => {
    for (const n of names) {
      const ref = path.join(REFERENCE, `${n}.gdp`);
      const fresh = path.join(out, `${n}.gdp`);
      expect([n, fs.statSync(fresh).size]).toEqual([n, fs.statSync(ref).size]);
      const a = frames(fresh);
      const b = frames(ref);
      expect([n, a.length]).toEqual([n, b.length]);
      a.forEach((f, i) => {
        const g = b[i];
        expect([n, i, f.kind, payload(f)]).toEqual([n, i, g.kind, payload(g)]);
      });
    }
  });

  it('makes each decode-only vector by the same byte edit of its fresh source vector', () => {
    for (const n of names.filter((x) => x.startsWith('decode-only/'))) {
      const meta = fs.readFileSync(path.join(REFERENCE, `${n}.meta.txt`), 'utf8');
      const base = /^derived_from: \.\.\/(.+)\.gdp$/m.exec(meta)?.[1] as string;
      const read = (dir: string, v: string) => fs.readFileSync(path.join(dir, `${v}.gdp`));
      expect([n, editOf(read(out, base), read(out, n))]).toEqual([n, editOf(read(REFERENCE, base), read(REFERENCE, n))]);
    }
  });

  it("gets gdpdepay's own reports, as recorded", () => {
    for (const n of names) {
      const fresh = lines(path.join(out, `${n}.expect.txt`));
      const ref = lines(path.join(REFERENCE, `${n}.expect.txt`));
      const failed = ref.some((l) => l.startsWith('ERROR'));
      if (!failed) {
        expect([n, fresh]).toEqual([n, ref]);
        continue;
      }
      // gst-launch prints fewer -v lines in some runs of a failing decode: a prefix, then the same error.
      const cut = (l: string[]) => l.filter((x) => !x.startsWith('ERROR'));
      expect([n, fresh.slice(-2)]).toEqual([n, ref.slice(-2)]);
      expect([n, cut(fresh)]).toEqual([n, cut(ref).slice(0, cut(fresh).length)]);
    }
  });

  it('records the run in meta.txt: size, GStreamer version and the caps gdppay put on its pad', () => {
    for (const n of names) {
      const meta = fs.readFileSync(path.join(out, `${n}.meta.txt`), 'utf8');
      expect(meta).toContain(`size_bytes: ${fs.statSync(path.join(out, `${n}.gdp`)).size}\n`);
      expect(meta).toMatch(/^gstreamer: GStreamer \d+\.\d+\.\d+$/m);
      if (!n.startsWith('decode-only/')) {
        expect([n, mask(meta)]).toEqual([n, mask(fs.readFileSync(path.join(REFERENCE, `${n}.meta.txt`), 'utf8'))]);
      } else {
        expect(meta).toMatch(/^gst-launch-1.0 exit statuses over 3 runs: (\d+ ?){3}/m);
      }
    }
  });

  it('refuses a vector it has no documentation for', () => {
    const r = spawnSync('bash', [SCRIPT, out, 'no-such-vector'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no vector no-such-vector/);
  });
});
