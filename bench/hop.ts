// `npm run bench:hop [-- --frames 600 --latency-frames 250]`: the cost of one GDP feed hop
// between two processes, fluxcast beside GStreamer, in the same run, measured the same way:
//   bench → (pipe) → side A → TCP → side B → (pipe) → bench
// fluxcast: A = Feeder + feed server (decodes GDP, forwards packets), B = EaterConnection (decodes);
// "fluxcast TLS" is the same hop over mutual TLS (a CA and certificate made with openssl).
// GStreamer: A = fdsrc ! gdpdepay ! gdppay ! tcpserversink, B = tcpclientsrc ! gdpdepay ! gdppay ! fdsink.
// Frames are raw 640x480 I420 video (460,800 bytes) stamped with their send time. Throughput:
// frames written as fast as the pipe takes them; latency: 25 frames/s, per-frame receive − send.

import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GdpDecoder, encodePacket, encodeParts } from '../protocol/gdp';
import { streamStartFrame, timeSegmentFrame } from '../actors/components/raw-audio';
import { freePort } from './free-port';

const W = 640;
const H = 480;
const FRAME = (W * H * 3) / 2;

function arg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? d : Number(process.argv[i + 1]);
}


interface Sides {
  a: ChildProcess;
  b: ChildProcess;
}

async function startFluxcast(tlsDir?: string): Promise<Sides> {
  const port = await freePort();
  const side = path.join(__dirname, 'hop-side.js');
  const tls = tlsDir ? ['--tls', tlsDir] : [];
  const a = spawn(process.execPath, [side, 'feeder', '--port', String(port), ...tls], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((r) => a.stdout?.once('data', () => r()));
  const b = spawn(process.execPath, [side, 'eater', '--port', String(port), ...tls], { stdio: ['ignore', 'pipe', 'inherit'] });
  return { a, b };
}

/** A CA and one certificate it signs (openssl), for the TLS hop. */
function makeTlsDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-hop-tls-'));
  const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=hop CA']);
  ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'hop.key', '-out', 'hop.csr', '-subj', '/CN=hop']);
  ssl(['x509', '-req', '-in', 'hop.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'hop.pem', '-days', '2']);
  return dir;
}

async function startGst(): Promise<Sides> {
  const port = await freePort();
  const a = spawn('gst-launch-1.0', ['-q', 'fdsrc', 'fd=0', 'blocksize=1048576', '!', 'gdpdepay', '!', 'gdppay', '!', 'tcpserversink', 'host=127.0.0.1', `port=${port}`, 'sync=false'], { stdio: ['pipe', 'ignore', 'inherit'] });
  await new Promise((r) => setTimeout(r, 700));
  const b = spawn('gst-launch-1.0', ['-q', 'tcpclientsrc', 'host=127.0.0.1', `port=${port}`, 'blocksize=1048576', '!', 'gdpdepay', '!', 'gdppay', '!', 'fdsink', 'fd=1', 'sync=false'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => setTimeout(r, 300));
  return { a, b };
}

/** stream-start, caps, segment: what any real stream starts with (gdppay needs all three). */
function head(): Buffer {
  return Buffer.concat([
    streamStartFrame().bytes,
    encodePacket({ kind: 'caps', caps: `video/x-raw, format=(string)I420, width=(int)${W}, height=(int)${H}, framerate=(fraction)25/1` }),
    timeSegmentFrame().bytes,
  ]);
}

// A ring of frame buffers reused in turn, so the harness does not allocate 460 KB per frame;
// at most a couple are in flight (the writer waits for 'drain').
const RING = Array.from({ length: 16 }, (_, i) => Buffer.alloc(FRAME, i));

function frame(i: number): [Buffer, Buffer] {
  const data = RING[i % RING.length];
  data.writeDoubleLE(performance.now(), 0);
  data.writeUInt32LE(i, 8);
  const [header] = encodeParts({ kind: 'buffer', pts: i * 40_000_000, dts: null, duration: 40_000_000, offset: i, offsetEnd: i + 1, flags: 0, data });
  return [header, data];
}

async function run(sides: Sides, frames: number, paceMs: number): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let got = 0;
  let last = 0;
  const done = new Promise<void>((resolve) => {
    const dec = new GdpDecoder({
      maxPayloadSize: 64 * 1024 * 1024,
      onFrame: (f) => {
        if (f.kind !== 'buffer') return;
        const now = performance.now();
        const p = f.payload;
        latencies.push(now - p.readDoubleLE(0));
        if (++got === frames) {
          last = now;
          resolve();
        }
      },
    });
    sides.b.stdout?.on('data', (c: Buffer) => {
      const e = dec.push(c);
      if (e) throw e;
    });
  });
  const input = sides.a.stdin as NodeJS.WritableStream;
  input.write(head());
  await new Promise((r) => setTimeout(r, 500)); // B connected and primed
  const first = performance.now();
  for (let i = 0; i < frames; i++) {
    const [h, d] = frame(i);
    input.write(h);
    const ok = input.write(d);
    if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
    else if (!ok) await new Promise((r) => input.once('drain', r));
  }
  await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${got}/${frames} frames arrived`)), 120000))]);
  return { seconds: (last - first) / 1000, latencies };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

async function main(): Promise<void> {
  const frames = arg('frames', 600);
  const latencyFrames = arg('latency-frames', 250);
  const rows: string[] = [];
  const figures: Record<string, { mbps: number; p50: number; p99: number }> = {};
  const tlsDir = makeTlsDir();
  const runs: Array<[string, () => Promise<Sides>]> = [['fluxcast', () => startFluxcast()], ['fluxcast TLS', () => startFluxcast(tlsDir)], ['gstreamer', startGst]];
  for (const [name, start] of runs) {
    let sides = await start();
    const t = await run(sides, frames, 0);
    sides.a.kill('SIGKILL');
    sides.b.kill('SIGKILL');
    sides = await start();
    const l = await run(sides, latencyFrames, 40);
    sides.a.kill('SIGKILL');
    sides.b.kill('SIGKILL');
    const mbps = (frames * FRAME) / t.seconds / 1e6;
    const lat = l.latencies.slice(10); // after warm-up
    figures[name] = { mbps, p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
    rows.push(`${name.padEnd(12)} ${mbps.toFixed(0).padStart(8)} MB/s  ${(frames / t.seconds).toFixed(0).padStart(6)} frames/s   latency p50 ${pct(lat, 0.5).toFixed(2)} ms  p99 ${pct(lat, 0.99).toFixed(2)} ms`);
  }
  console.log(`one GDP feed hop between two processes, raw ${W}x${H} I420 video (${FRAME} bytes/frame)`);
  for (const r of rows) console.log(r);
  const f = figures.fluxcast;
  const g = figures.gstreamer;
  const t = figures['fluxcast TLS'];
  console.log(`fluxcast/gstreamer: throughput ${(f.mbps / g.mbps).toFixed(2)}, latency p50 ${(f.p50 / g.p50).toFixed(2)}, p99 ${(f.p99 / g.p99).toFixed(2)}`);
  console.log(`fluxcast TLS/plain: throughput ${(t.mbps / f.mbps).toFixed(2)}, latency p50 ${(t.p50 / f.p50).toFixed(2)}, p99 ${(t.p99 / f.p99).toFixed(2)}`);
  fs.rmSync(tlsDir, { recursive: true, force: true });
  if (process.argv.includes('--json')) console.log(JSON.stringify(figures));
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exit(1);
});
