// `npm run bench:hls [-- --seconds 20 --clients 1000 --load-seconds 15 --json]`: fluxcast's
// hls-streamer beside GStreamer's hlssink2 (segments written to disk, served by Debian's nginx
// as a static file server), fed by one GStreamer process, so both get the same frames:
//   videotestsrc (live, 320x240, 25 fps) ! x264enc (a keyframe every 2 s) ! tee
//     ├─ mpegtsmux ! gdppay → fluxcast hls-streamers (defaults: HLS, and LL-HLS with 0.333 s parts)
//     └─ hlssink2 (target-duration 2, playlist-length 6) → files → nginx
// 1. Publish latency: pollers read each playlist every 5 ms; a segment's (part's) latency is
//    when it first appears minus when its last frame was captured (the source's clock: the
//    wall time of the first buffer minus its PTS, plus the segment's end PTS from the durations).
// 2. Load: N clients for a while, each polling like a player: plain HLS reloads the playlist
//    every second and fetches new segments; LL-HLS uses blocking reloads and fetches each part.
//    Requests/s and the serving process's CPU (fluxcast's origin; nginx's workers) per 1,000 clients.

import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { freePort } from './free-port';
import { cpuSeconds, processTree } from './procstat';
import { get, load } from './hls-clients';

function arg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? d : Number(process.argv[i + 1]);
}
const JSON_OUT = process.argv.includes('--json');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

interface Seen {
  /** uri → first time seen (ms) */
  appeared: Map<string, number>;
  /** segment index (from the media sequence) → duration s */
  durations: Map<number, number>;
  /** part uri → [segment index, end offset within the segment (s)] */
  parts: Map<string, [number, number]>;
}

/** Reads a playlist; notes new segments and parts with the time they appeared. */
function note(seen: Seen, text: string, now: number, segRe: RegExp): void {
  const lines = text.split('\n');
  let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  let partEnd = 0;
  let dur = 0;
  for (const line of lines) {
    if (line.startsWith('#EXTINF:')) dur = Number(line.slice(8).split(',')[0]);
    else if (line.startsWith('#EXT-X-PART:')) {
      const d = Number(/DURATION=([\d.]+)/.exec(line)?.[1]);
      const uri = /URI="([^"]+)"/.exec(line)?.[1] as string;
      partEnd += d;
      if (!seen.appeared.has(uri)) {
        seen.appeared.set(uri, now);
        seen.parts.set(uri, [msn, partEnd]);
      }
    } else if (segRe.test(line)) {
      if (!seen.appeared.has(line)) seen.appeared.set(line, now);
      seen.durations.set(msn, dur);
      msn++;
      partEnd = 0;
    }
  }
}

/** Latencies (ms) of segments and parts: appearance − capture of their last frame. */
function latencies(seen: Seen, t0: number, segRe: RegExp, first: number): { segments: number[]; parts: number[] } {
  const ends = new Map<number, number>(); // msn → end pts (s)
  let acc = 0;
  for (let m = first; seen.durations.has(m); m++) {
    acc += seen.durations.get(m) as number;
    ends.set(m, acc);
  }
  const segments: number[] = [];
  for (const [uri, at] of seen.appeared) {
    if (!segRe.test(uri)) continue;
    const msn = Number(/(\d+)\.ts$/.exec(uri)?.[1]);
    const end = ends.get(msn);
    if (end !== undefined && msn > first) segments.push(at - (t0 + end * 1000)); // the first one includes the start-up
  }
  const parts: number[] = [];
  for (const [uri, [m, off]] of seen.parts) {
    const start = m === first ? 0 : ends.get(m - 1);
    if (start === undefined || m <= first) continue;
    parts.push((seen.appeared.get(uri) as number) - (t0 + (start + off) * 1000));
  }
  return { segments, parts };
}

async function poll(port: number, p: string, seen: Seen, until: number, segRe: RegExp): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  while (Date.now() < until) {
    const r = await get(agent, port, p);
    if (r.status === 200) note(seen, r.body, Date.now(), segRe);
    await sleep(5);
  }
  agent.destroy();
}

function startNginx(dir: string, port: number): ChildProcess {
  const bin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((f) => fs.existsSync(f));
  if (!bin) throw new Error('nginx is not installed (apt-get install nginx)');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `daemon off; worker_processes 1; ${process.getuid?.() === 0 ? 'user root;' : ''}
error_log ${dir}/nginx-error.log warn; pid ${dir}/nginx.pid; worker_rlimit_nofile 20000;
events { worker_connections 8000; }
http { access_log off; types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  client_body_temp_path ${dir}/t1; proxy_temp_path ${dir}/t2; fastcgi_temp_path ${dir}/t3; uwsgi_temp_path ${dir}/t4; scgi_temp_path ${dir}/t5;
  server { listen 127.0.0.1:${port}; root ${dir}/hls; keepalive_requests 100000;
    location ~ \\.m3u8$ { add_header Cache-Control no-cache; } } }
`);
  return spawn(bin, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 20);
  const clients = arg('clients', 1000);
  const loadSeconds = arg('load-seconds', 15);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-bench-hls-'));
  fs.mkdirSync(path.join(dir, 'hls'));
  const origin = spawn(process.execPath, [path.join(__dirname, 'hls-origin.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Array<Record<string, number>> = [];
  let buf = '';
  origin.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  });
  while (!lines.length) await sleep(20);
  const ports = { hls: Number(lines[0].hls), ll: Number(lines[0].ll), nginx: await freePort() };
  const nginx = startNginx(dir, ports.nginx);
  const gst = spawn('gst-launch-1.0', ['-q', ...(
    'videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=25/1 ! x264enc key-int-max=50 speed-preset=veryfast tune=zerolatency bitrate=500 ! ' +
    `h264parse config-interval=-1 ! tee name=t t. ! queue ! mpegtsmux ! gdppay ! fdsink fd=1 t. ! queue ! hls.video hlssink2 name=hls target-duration=2 playlist-length=6 max-files=12 ` +
    `location=${dir}/hls/seg%05d.ts playlist-location=${dir}/hls/live.m3u8`).split(' ')], { stdio: ['ignore', 'pipe', 'inherit'] });
  gst.stdout.pipe(origin.stdin);
  origin.stdin.on('error', () => undefined);
  try {
    const until = Date.now() + seconds * 1000;
    const seen = { flux: newSeen(), ll: newSeen(), gst: newSeen() };
    const fluxSeg = /^live\/seg-\d+\.ts$/;
    const gstSeg = /^seg\d+\.ts$/;
    await Promise.all([
      poll(ports.hls, '/live.m3u8', seen.flux, until, fluxSeg),
      poll(ports.ll, '/live.m3u8', seen.ll, until, fluxSeg),
      poll(ports.nginx, '/live.m3u8', seen.gst, until, gstSeg),
    ]);
    const t0 = lines.find((l) => l.t0 !== undefined)?.t0 as number;
    const flux = latencies(seen.flux, t0, fluxSeg, 0);
    const ll = latencies(seen.ll, t0, fluxSeg, 0);
    const gstL = latencies(seen.gst, t0, gstSeg, 0);
    const row = (name: string, xs: number[]) => `${name.padEnd(34)} ${String(xs.length).padStart(4)} ${pct(xs, 50).toFixed(0).padStart(7)} ms ${pct(xs, 99).toFixed(0).padStart(7)} ms`;
    console.log(`publish latency (last frame of the segment or part in → listed), ${seconds} s, defaults (2 s segments, 0.333 s parts);`);
    console.log('  0 is when that frame reached fluxcast\'s origin (both sides get it from the same tee); pollers every 5 ms:');
    console.log(`${''.padEnd(34)} ${'n'.padStart(4)} ${'p50'.padStart(10)} ${'p99'.padStart(10)}`);
    console.log(row('fluxcast hls-streamer segments', flux.segments));
    console.log(row('fluxcast LL-HLS parts', ll.parts));
    console.log(row('GStreamer hlssink2 + nginx segments', gstL.segments));
    console.log(`fluxcast lists a segment ${(pct(gstL.segments, 50) - pct(flux.segments, 50)).toFixed(0)} ms sooner than hlssink2 (p50)`);

    const originPid = origin.pid as number;
    const measure = async (name: string, pids: () => number[], port: number, p: string, lowLatency: boolean) => {
      const cpu0 = pids().reduce((n, pid) => n + cpuSeconds(pid), 0);
      const t = Date.now();
      const requests = await load(clients, loadSeconds * 1000, port, p, lowLatency);
      const secs = (Date.now() - t) / 1000;
      const cpu = (pids().reduce((n, pid) => n + cpuSeconds(pid), 0) - cpu0) / secs;
      console.log(`${name.padEnd(34)} ${(requests / secs).toFixed(0).padStart(7)} req/s  ${(cpu * 100).toFixed(1).padStart(5)}% CPU  ${((cpu * 100 * 1000) / clients).toFixed(1).padStart(5)}% per 1,000 clients  ${((cpu * 1e6) / (requests / secs)).toFixed(1)} CPU-µs/request`);
      return { requestsPerSecond: requests / secs, cpu, cpuPerRequestUs: (cpu * 1e6) / (requests / secs) };
    };
    console.log(`\nload: ${clients} clients for ${loadSeconds} s each (server process CPU; encoding not counted):`);
    const fluxHls = await measure('fluxcast HLS (reload every 1 s)', () => [originPid], ports.hls, '/live.m3u8', false);
    const nginxHls = await measure('hlssink2 + nginx (reload every 1 s)', () => processTree(nginx.pid as number), ports.nginx, '/live.m3u8', false);
    const fluxLl = await measure('fluxcast LL-HLS (blocking reloads)', () => [originPid], ports.ll, '/live.m3u8', true);
    console.log(`ratio (CPU per request, fluxcast HLS / nginx static): ${(fluxHls.cpuPerRequestUs / nginxHls.cpuPerRequestUs).toFixed(2)}`);
    if (JSON_OUT) {
      console.log(JSON.stringify({
        latency: { fluxSegmentsP50: pct(flux.segments, 50), fluxSegmentsP99: pct(flux.segments, 99), llPartsP50: pct(ll.parts, 50), llPartsP99: pct(ll.parts, 99), gstSegmentsP50: pct(gstL.segments, 50), gstSegmentsP99: pct(gstL.segments, 99) },
        load: { clients, fluxHls, nginxHls, fluxLl },
      }));
    }
  } finally {
    gst.kill('SIGKILL');
    origin.kill('SIGKILL');
    nginx.kill('SIGQUIT');
    await sleep(300);
    spawnSync('rm', ['-rf', dir]);
  }
}

function newSeen(): Seen {
  return { appeared: new Map(), durations: new Map(), parts: new Map() };
}

void main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
