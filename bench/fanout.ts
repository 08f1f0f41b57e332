// `npm run bench:fanout -- --clients N --seconds S --bitrate KBITS [--json] [--only a,b]
//   [--ramp CONNECTIONS_PER_S] [--property key=value ... (a tuned http-streamer; default: its default properties)]
// One live Ogg stream at a fixed bitrate, served to N loopback listeners by three servers in
// turn, in the same run: fluxcast's http-streamer, GStreamer's tcpserversink and Icecast2.
// The source is always a separate gst-launch-1.0 process (Vorbis up to 320 kbit/s, Theora
// above), so each server's CPU and memory are its own. The load generator is a separate Node
// process (bench/fanout-clients.ts). Prints a table, the ratios fluxcast/peer, and with --json
// a last line with the figures as JSON.

import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { treeCpuSeconds, treeRssMB } from './procstat';
import { freePort } from './free-port';

interface Options {
  clients: number;
  seconds: number;
  kbits: number;
  json: boolean;
  only: string[];
  ramp: number;
  /** http-streamer properties for a tuned run (key=value); none = the defaults a user gets. */
  properties: string[];
  /** Sender processes of the http-streamer (a deployment choice, not a tuning knob). */
  processes: number;
  /** Serve through a porter. */
  porter: boolean;
}

interface Result {
  clients: number;
  seconds: number;
  served: number;
  neverServed: number;
  deliveredRatio: number;
  stalled: number;
  dropped: number;
  connectP50Ms: number;
  connectP99Ms: number;
  burstP50Ms: number;
  burstP99Ms: number;
  cpuPct: number;
  cpuSecPerGB: number;
  rssMB: number;
  streamKbits: number;
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}

function positive(name: string, fallback: number): number {
  const v = Number(option(name, String(fallback)));
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`error FLUX_CLI_BAD_ARGUMENT: --${name} needs a positive number\n`);
    process.exit(2);
  }
  return v;
}

function sourcePipeline(kbits: number): string[] {
  const p =
    kbits <= 320
      ? `audiotestsrc is-live=true wave=white-noise ! audio/x-raw,rate=44100,channels=2 ! vorbisenc bitrate=${kbits * 1000} ! oggmux`
      : `videotestsrc is-live=true pattern=snow ! video/x-raw,width=640,height=360,framerate=25/1 ! theoraenc bitrate=${kbits} ! oggmux`;
  return p.split(' ');
}


/** Resolves when a client at `port` receives stream bytes (after the HTTP head, in http mode). */
async function waitForStream(port: number, http: boolean, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let got = Buffer.alloc(0);
      const done = (v: boolean) => {
        s.destroy();
        resolve(v);
      };
      s.on('connect', () => http && s.write('GET /live.ogg HTTP/1.0\r\n\r\n'));
      s.on('data', (d) => {
        got = Buffer.concat([got, d]);
        if (!http || (got.indexOf('\r\n\r\n') > 0 && got.length > got.indexOf('\r\n\r\n') + 100)) done(!http || got.toString('latin1', 0, 12).includes('200'));
      });
      s.on('error', () => done(false));
      setTimeout(() => done(false), 2000);
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`no stream on port ${port}`);
}

function kill(...procs: Array<ChildProcess | null>): void {
  for (const p of procs) if (p && p.exitCode === null) p.kill('SIGKILL');
}

interface Served {
  server: ChildProcess;
  source: ChildProcess;
  port: number;
  http: boolean;
  cleanup?: () => void;
}

async function startFluxcast(o: Options): Promise<Served> {
  const port = await freePort();
  const args = [path.join(__dirname, 'fanout-server.js'), '--port', String(port), '--processes', String(o.processes), ...(o.porter ? ['--porter'] : []), ...o.properties.flatMap((p) => ['--property', p])];
  // Many listeners need more descriptors than the default soft limit: raise it to the hard one.
  const server = spawn('sh', ['-c', `ulimit -n $(ulimit -Hn); exec "${process.execPath}" ${args.map((a) => `'${a}'`).join(' ')}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const source = spawn('gst-launch-1.0', ['-q', ...sourcePipeline(o.kbits), '!', 'gdppay', '!', 'fdsink', 'fd=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  source.stdout?.pipe(server.stdin as NodeJS.WritableStream);
  return { server, source, port, http: true };
}

async function startGst(o: Options): Promise<Served> {
  const port = await freePort();
  const srcPort = await freePort();
  const server = spawn('gst-launch-1.0', ['-q', 'tcpserversrc', 'host=127.0.0.1', `port=${srcPort}`, '!', 'gdpdepay', '!',
    'tcpserversink', 'host=127.0.0.1', `port=${port}`, 'sync=false', 'sync-method=burst', 'burst-format=bytes', 'burst-value=65536'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const source = spawn('gst-launch-1.0', ['-q', ...sourcePipeline(o.kbits), '!', 'gdppay', '!', 'tcpclientsink', 'host=127.0.0.1', `port=${srcPort}`], { stdio: 'ignore' });
  return { server, source, port, http: false };
}

async function startIcecast(o: Options): Promise<Served> {
  const bin = ['/usr/bin/icecast2', '/usr/bin/icecast'].find((b) => fs.existsSync(b));
  if (!bin) throw new Error('Icecast2 is not installed (apt-get install icecast2)');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-icecast-'));
  fs.chmodSync(dir, 0o777);
  const asRoot = process.getuid?.() === 0;
  fs.writeFileSync(
    path.join(dir, 'icecast.xml'),
    `<icecast>
  <location>loopback</location><admin>bench@localhost</admin><hostname>127.0.0.1</hostname>
  <limits><clients>${o.clients + 100}</clients><sources>2</sources><queue-size>8388608</queue-size>
    <client-timeout>30</client-timeout><header-timeout>15</header-timeout><source-timeout>10</source-timeout>
    <burst-on-connect>1</burst-on-connect><burst-size>65536</burst-size></limits>
  <authentication><source-password>fluxbench</source-password><admin-user>admin</admin-user><admin-password>fluxbench</admin-password></authentication>
  <listen-socket><port>${port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>0</fileserve>
  <paths><basedir>${dir}</basedir><logdir>${dir}</logdir><webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>1</loglevel></logging>
  <security><chroot>0</chroot>${asRoot ? '<changeowner><user>nobody</user><group>nogroup</group></changeowner>' : ''}</security>
</icecast>
`,
  );
  const server = spawn('sh', ['-c', `ulimit -n 20000; exec ${bin} -c ${dir}/icecast.xml`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 700));
  const source = spawn('gst-launch-1.0', ['-q', ...sourcePipeline(o.kbits), '!', 'shout2send', 'ip=127.0.0.1', `port=${port}`, 'password=fluxbench', 'mount=/live.ogg'], { stdio: 'ignore' });
  return { server, source, port, http: true, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function measure(name: string, start: (o: Options) => Promise<Served>, o: Options): Promise<Result> {
  const s = await start(o);
  try {
    await waitForStream(s.port, s.http);
    // Let every server gather a whole burst of history (64 KiB is 4 s at 128 kbit/s) first.
    await new Promise((r) => setTimeout(r, Math.max(1000, ((65536 * 8) / (o.kbits * 1000)) * 1000 + 1500)));
    const pid = s.server.pid as number;
    // One load generator holds at most ~10,000 sockets (the descriptor limit): more clients, more generators.
    const gens = Math.ceil(o.clients / 10000);
    let measuringSeen = 0;
    let cpu0 = NaN;
    let maxRss = 0;
    let sampler: NodeJS.Timeout | null = null;
    const outputs = await Promise.all(
      Array.from({ length: gens }, (_, g) => {
        const n = Math.floor(o.clients / gens) + (g < o.clients % gens ? 1 : 0);
        const gen = [path.join(__dirname, 'fanout-clients.js'), '--port', String(s.port), '--clients', String(n), '--seconds', String(o.seconds), '--mode', s.http ? 'http' : 'tcp', '--ramp', String(o.ramp / gens)];
        const loadgen = spawn('sh', ['-c', `ulimit -n $(ulimit -Hn); exec "${process.execPath}" ${gen.map((a) => `'${a}'`).join(' ')}`], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        loadgen.stdout?.on('data', (d: Buffer) => {
          const before = out.includes('measuring\n');
          out += d.toString();
          if (!before && out.includes('measuring\n') && ++measuringSeen === 1) {
            cpu0 = treeCpuSeconds(pid);
            sampler = setInterval(() => (maxRss = Math.max(maxRss, treeRssMB(pid))), 500);
          }
        });
        return new Promise<string>((resolve, reject) => loadgen.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${name}: load generator failed`)))));
      }),
    );
    const cpu1 = treeCpuSeconds(pid);
    if (sampler) clearInterval(sampler);
    maxRss = Math.max(maxRss, treeRssMB(pid));
    type Part = { served: number; windowSeconds: number; raw: { connect: number[]; burst: number[]; window: number[]; stalled: number; dropped: number; neverServed: number } };
    const parts = outputs.map((out) => JSON.parse(out.trim().split('\n').pop() as string) as Part);
    const all = <T>(f: (p: Part) => T[]) => parts.flatMap(f);
    const windows = all((p) => p.raw.window).sort((a, b) => a - b);
    const expected = windows.length ? windows[Math.floor(windows.length * 0.9)] : 0;
    const windowSeconds = Math.max(...parts.map((p) => p.windowSeconds));
    const pctOf = (xs: number[], q: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(xs.length * q))] : NaN);
    const connect = all((p) => p.raw.connect).sort((a, b) => a - b);
    const bursts = all((p) => p.raw.burst).map((b) => (b < 0 ? Infinity : b)).sort((a, b) => a - b);
    const r = {
      served: parts.reduce((n, p) => n + p.served, 0),
      neverServed: parts.reduce((n, p) => n + p.raw.neverServed, 0),
      deliveredRatio: expected ? windows.reduce((n, w) => n + Math.min(w, expected), 0) / (expected * windows.length) : 0,
      stalled: parts.reduce((n, p) => n + p.raw.stalled, 0),
      dropped: parts.reduce((n, p) => n + p.raw.dropped, 0),
      connectP50Ms: pctOf(connect, 0.5),
      connectP99Ms: pctOf(connect, 0.99),
      burstP50Ms: pctOf(bursts, 0.5),
      burstP99Ms: pctOf(bursts, 0.99),
      windowSeconds,
      bytesInWindow: windows.reduce((n, w) => n + w, 0),
      streamBitrate: (expected * 8) / windowSeconds,
    };
    const cpu = cpu1 - cpu0;
    return {
      clients: o.clients,
      seconds: o.seconds,
      served: r.served,
      neverServed: r.neverServed,
      deliveredRatio: r.deliveredRatio,
      stalled: r.stalled,
      dropped: r.dropped,
      connectP50Ms: r.connectP50Ms,
      connectP99Ms: r.connectP99Ms,
      burstP50Ms: r.burstP50Ms,
      burstP99Ms: r.burstP99Ms,
      cpuPct: (cpu / r.windowSeconds) * 100,
      cpuSecPerGB: r.bytesInWindow ? cpu / (r.bytesInWindow / 1e9) : NaN,
      rssMB: maxRss,
      streamKbits: r.streamBitrate / 1000,
    };
  } finally {
    kill(s.source, s.server);
    s.cleanup?.();
    await new Promise((r) => setTimeout(r, 500));
  }
}

function row(name: string, r: Result | undefined): string {
  if (!r) return `${name.padEnd(10)} (not run)`;
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  return (
    `${name.padEnd(10)} ${String(r.served).padStart(6)}/${r.clients} ${f(r.deliveredRatio, 4).padStart(8)} ${String(r.neverServed).padStart(6)} ` +
    `${String(r.stalled).padStart(7)} ${String(r.dropped).padStart(7)} ${f(r.connectP50Ms).padStart(8)} ${f(r.connectP99Ms).padStart(8)} ` +
    `${f(r.burstP50Ms, 0).padStart(8)} ${f(r.burstP99Ms, 0).padStart(8)} ` +
    `${f(r.cpuPct).padStart(6)} ${f(r.cpuSecPerGB, 2).padStart(9)} ${f(r.rssMB).padStart(7)} ${f(r.streamKbits, 0).padStart(7)}`
  );
}

async function main(): Promise<void> {
  const o: Options = {
    clients: positive('clients', 1000),
    seconds: positive('seconds', 30),
    kbits: positive('bitrate', 128),
    json: process.argv.includes('--json'),
    only: option('only', 'fluxcast,gst,icecast').split(','),
    ramp: positive('ramp', 2000),
    properties: process.argv.flatMap((a, i) => (a === '--property' ? [process.argv[i + 1]] : [])),
    processes: positive('processes', 1),
    porter: process.argv.includes('--porter'),
  };
  if (spawnSync('gst-launch-1.0', ['--version']).status !== 0) throw new Error('gst-launch-1.0 is needed (apt-get install gstreamer1.0-tools)');
  const results: Record<string, Result> = {};
  const runs: Array<[string, (o: Options) => Promise<Served>]> = [['fluxcast', startFluxcast], ['gst', startGst], ['icecast', startIcecast]];
  for (const [name, start] of runs) {
    if (!o.only.includes(name)) continue;
    try {
      results[name] = await measure(name, start, o);
    } catch (e) {
      process.stderr.write(`${name}: ${(e as Error).message}\n`);
    }
  }
  console.log(`fan-out: ${o.clients} clients, ${o.seconds} s measured, ${o.kbits} kbit/s Ogg, ${os.cpus().length} cores; fluxcast http-streamer ${o.properties.length ? `TUNED: ${o.properties.join(' ')}` : 'at its default properties'}${o.processes > 1 ? `, processes=${o.processes}` : ''}${o.porter ? ', through a porter' : ''}; burst = connect to 64 KiB received`);
  console.log('server      served  deliv.  never  stalled dropped  conn50ms conn99ms burst50ms burst99ms  cpu%  cpuS/GB   rssMB  kbit/s');
  for (const name of ['fluxcast', 'gst', 'icecast']) console.log(row(name, results[name]));
  const flux = results.fluxcast;
  for (const peer of ['gst', 'icecast']) {
    const p = results[peer];
    if (!flux || !p) continue;
    console.log(
      `fluxcast/${peer}: cpu% ${(flux.cpuPct / p.cpuPct).toFixed(2)}, cpuS/GB ${(flux.cpuSecPerGB / p.cpuSecPerGB).toFixed(2)}, ` +
        `rss ${(flux.rssMB / p.rssMB).toFixed(2)}, delivered ${(flux.deliveredRatio / p.deliveredRatio).toFixed(3)}, connect p99 ${(flux.connectP99Ms / p.connectP99Ms).toFixed(2)}`,
    );
  }
  if (o.json) {
    const pick = (r?: Result) => r && { clients: r.clients, seconds: r.seconds, deliveredRatio: r.deliveredRatio, stalled: r.stalled, dropped: r.dropped, neverServed: r.neverServed, cpuSecPerGB: r.cpuSecPerGB, cpuPct: r.cpuPct, rssMB: r.rssMB, connectP50Ms: r.connectP50Ms, connectP99Ms: r.connectP99Ms, burstP50Ms: r.burstP50Ms, burstP99Ms: r.burstP99Ms };
    console.log(JSON.stringify({ ...pick(flux), gst: pick(results.gst) ?? null, icecast: pick(results.icecast) ?? null }));
  }
}

main().catch((e) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exit(1);
});
