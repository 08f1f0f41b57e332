// `npm run bench:gdp`: GDP decode/encode throughput of fluxcast beside GStreamer 1.x's
// gdpdepay/gdppay on the same input, in the same run, with the ratio fluxcast/GStreamer.
//
// Both sides are measured by marginal cost, so neither pays for the other's plumbing:
// - fluxcast: the codec alone, in-process (decode: 64 KiB chunks already in memory → frames;
//   encode: packet objects → header + payload parts, ready for writev).
// - GStreamer: wall time of a gst-launch-1.0 pipeline with the element minus the same pipeline
//   without it (decode: filesrc blocksize=65536 [! gdpdepay] ! fakesink; encode:
//   fakesrc ! capsfilter [! gdppay] ! fakesink), so process start-up and the source/sink cost cancel.
// Each figure is the best of --runs runs.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GdpDecoder, GdpPacketInput, encodePacket, encodeParts } from '../protocol/gdp';

interface Case {
  name: string;
  count: number;
  size: number;
  crcPayload: boolean;
}

interface Figure {
  seconds: number;
  packetsPerSec: number;
  mbPerSec: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`error FLUX_CLI_BAD_ARGUMENT: --${name} needs a positive number\n`);
    process.exit(2);
  }
  return v;
}

const CAPS = 'application/x-fluxcast-bench';

/** A 20 ms buffer; times are exact integers (numbers, as fluxcast's own components produce them). */
function packetAt(i: number, data: Buffer): GdpPacketInput {
  return { kind: 'buffer', pts: i * 20000000, dts: null, duration: 20000000, offset: i, offsetEnd: i + 1, flags: i % 30 ? 0x2000 : 0, data };
}

function writeInput(file: string, c: Case): number {
  const fd = fs.openSync(file, 'w');
  const crc = { crcHeader: true, crcPayload: c.crcPayload };
  const data = Buffer.alloc(c.size, 0x5a);
  const parts: Buffer[] = [encodePacket({ kind: 'caps', caps: CAPS }, crc)];
  let pending = parts[0].length;
  let total = 0;
  for (let i = 0; i < c.count; i++) {
    const p = encodePacket(packetAt(i, data), crc);
    parts.push(p);
    pending += p.length;
    if (pending > 8 << 20) {
      total += pending;
      fs.writeSync(fd, Buffer.concat(parts));
      parts.length = 0;
      pending = 0;
    }
  }
  total += pending;
  fs.writeSync(fd, Buffer.concat(parts));
  fs.closeSync(fd);
  return total;
}

function best(runs: number, fn: () => number): number {
  let min = Infinity;
  for (let r = 0; r < runs; r++) min = Math.min(min, fn());
  return min;
}

function fluxDecode(file: string, runs: number): number {
  const bytes = fs.readFileSync(file);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 65536) chunks.push(bytes.subarray(i, i + 65536));
  return best(runs, () => {
    let n = 0;
    const dec = new GdpDecoder({ onFrame: () => n++, maxPayloadSize: 1 << 20 });
    const t0 = process.hrtime.bigint();
    for (const c of chunks) if (dec.push(c)) throw new Error('decode failed');
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (n !== chunksPackets(file)) throw new Error(`decoded ${n} packets`);
    return t;
  });
}

const packetCounts = new Map<string, number>();
function chunksPackets(file: string): number {
  return packetCounts.get(file) as number;
}

function fluxEncode(c: Case, runs: number): number {
  const data = Buffer.alloc(c.size, 0x5a);
  const packets = Array.from({ length: c.count }, (_, i) => packetAt(i, data));
  const crc = { crcHeader: true, crcPayload: c.crcPayload };
  return best(runs, () => {
    let bytes = 0;
    const t0 = process.hrtime.bigint();
    for (const p of packets) {
      const [h, payload] = encodeParts(p, crc);
      bytes += h.length + payload.length;
    }
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (bytes === 0) throw new Error('nothing encoded');
    return t;
  });
}

function gstSeconds(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('gst-launch-1.0', ['-q', ...args], { encoding: 'utf8', timeout: 600000 });
  const t = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`gst-launch-1.0 ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return t;
}

function gstDecode(file: string, runs: number): number {
  const src = ['filesrc', `location=${file}`, 'blocksize=65536', '!'];
  const sink = ['fakesink', 'sync=false', 'silent=true'];
  const withEl = best(runs, () => gstSeconds([...src, 'gdpdepay', '!', ...sink]));
  const without = best(runs, () => gstSeconds([...src, ...sink]));
  return Math.max(withEl - without, 1e-6);
}

function gstEncode(c: Case, runs: number): number {
  const src = ['fakesrc', `num-buffers=${c.count}`, 'sizetype=fixed', `sizemax=${c.size}`, 'filltype=nothing', '!', 'capsfilter', `caps=${CAPS}`, '!'];
  const sink = ['fakesink', 'sync=false', 'silent=true'];
  const pay = ['gdppay', 'crc-header=true', `crc-payload=${c.crcPayload}`, '!'];
  const withEl = best(runs, () => gstSeconds([...src, ...pay, ...sink]));
  const without = best(runs, () => gstSeconds([...src, ...sink]));
  return Math.max(withEl - without, 1e-6);
}

function figure(seconds: number, packets: number, bytes: number): Figure {
  return { seconds, packetsPerSec: packets / seconds, mbPerSec: bytes / seconds / 1e6 };
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function main(): void {
  const small = arg('small', 1000000);
  const large = arg('large', 4096);
  const runs = arg('runs', 3);
  const json = process.argv.includes('--json');
  const cases: Case[] = [
    { name: `small ${small}x160 B`, count: small, size: 160, crcPayload: false },
    { name: `small ${small}x160 B +crc`, count: small, size: 160, crcPayload: true },
    { name: `large ${large}x64 KiB`, count: large, size: 65536, crcPayload: false },
    { name: `large ${large}x64 KiB +crc`, count: large, size: 65536, crcPayload: true },
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-bench-gdp-'));
  const rows: Record<string, unknown>[] = [];
  try {
    for (const c of cases) {
      const file = path.join(dir, 'input.gdp');
      const bytes = writeInput(file, c);
      packetCounts.set(file, c.count + 1);
      const fd = figure(fluxDecode(file, runs), c.count, bytes);
      const gd = figure(gstDecode(file, runs), c.count, bytes);
      const fe = figure(fluxEncode(c, runs), c.count, bytes);
      const ge = figure(gstEncode(c, runs), c.count, bytes);
      rows.push({ case: c.name, op: 'decode', fluxcast: fd, gstreamer: gd, ratio: fd.packetsPerSec / gd.packetsPerSec });
      rows.push({ case: c.name, op: 'encode', fluxcast: fe, gstreamer: ge, ratio: fe.packetsPerSec / ge.packetsPerSec });
      fs.rmSync(file);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const gstVersion = spawnSync('gst-launch-1.0', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[1] ?? '';
  console.log(`GDP codec throughput, best of ${runs}; fluxcast on Node ${process.version}, ${gstVersion.trim()}`);
  console.log('case                         op      fluxcast pkt/s   MB/s  | GStreamer pkt/s   MB/s  | ratio');
  for (const r of rows) {
    const f = r.fluxcast as Figure;
    const g = r.gstreamer as Figure;
    console.log(
      `${String(r.case).padEnd(28)} ${String(r.op).padEnd(7)} ${fmt(f.packetsPerSec).padStart(14)} ${fmt(f.mbPerSec).padStart(7)}  | ` +
        `${fmt(g.packetsPerSec).padStart(15)} ${fmt(g.mbPerSec).padStart(7)}  | ${(r.ratio as number).toFixed(2)}`,
    );
  }
  if (json) console.log(JSON.stringify(rows));
}

main();
