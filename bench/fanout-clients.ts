// Load generator of bench:fanout: opens N loopback connections (ramped), reads and discards
// everything with one shared read buffer, and reports per-client delivery, stalls (no data for
// more than 2 s) and connect latency (connect to first byte) as one JSON line on stdout.
import * as net from 'net';

interface Args {
  port: number;
  clients: number;
  seconds: number;
  rampPerSec: number;
  http: boolean;
  path: string;
  burstBytes: number;
}

function parse(): Args {
  const get = (k: string, d: string) => {
    const i = process.argv.indexOf(`--${k}`);
    return i < 0 ? d : process.argv[i + 1];
  };
  return {
    port: Number(get('port', '0')),
    clients: Number(get('clients', '100')),
    seconds: Number(get('seconds', '10')),
    rampPerSec: Number(get('ramp', '2000')),
    http: get('mode', 'http') === 'http',
    path: get('path', '/live.ogg'),
    burstBytes: Number(get('burst-bytes', '65536')),
  };
}

interface Client {
  start: number;
  firstByte: number;
  /** When the body reached the burst size (connect → burst received). */
  burstDone: number;
  lastData: number;
  bytes: number;
  windowBytes: number;
  stalled: boolean;
  closed: boolean;
  headerDone: boolean;
}

const args = parse();
const shared = Buffer.allocUnsafe(256 * 1024);
const clients: Client[] = [];
let measuring = false;

function open(): void {
  const c: Client = { start: performance.now(), firstByte: 0, burstDone: 0, lastData: 0, bytes: 0, windowBytes: 0, stalled: false, closed: false, headerDone: !args.http };
  clients.push(c);
  const socket = net.connect({
    port: args.port,
    host: '127.0.0.1',
    onread: {
      buffer: shared,
      callback: (n: number, buf: Uint8Array) => {
        const now = performance.now();
        let body = n;
        if (!c.headerDone) {
          // Count only the body: skip the response head (it always arrives first and whole here).
          const i = Buffer.from(buf.buffer, buf.byteOffset, n).indexOf('\r\n\r\n');
          if (i < 0) return true;
          c.headerDone = true;
          body = n - i - 4;
          if (body <= 0) return true;
        }
        if (!c.firstByte) c.firstByte = now;
        if (measuring && c.lastData && now - c.lastData > 2000) c.stalled = true;
        c.lastData = now;
        c.bytes += body;
        if (!c.burstDone && c.bytes >= args.burstBytes) c.burstDone = now;
        if (measuring) c.windowBytes += body;
        return true;
      },
    },
  });
  socket.setNoDelay(true);
  socket.on('connect', () => {
    if (args.http) socket.write(`GET ${args.path} HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: fluxcast-bench\r\n\r\n`);
  });
  socket.on('error', () => undefined);
  socket.on('close', () => (c.closed = true));
}

async function main(): Promise<void> {
  const perTick = Math.max(1, Math.round(args.rampPerSec / 100));
  while (clients.length < args.clients) {
    for (let i = 0; i < perTick && clients.length < args.clients; i++) open();
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 2000)); // let the last ones get their burst
  process.stdout.write('measuring\n');
  measuring = true;
  const t0 = performance.now();
  const check = setInterval(() => {
    const now = performance.now();
    for (const c of clients) if (c.firstByte && !c.closed && now - c.lastData > 2000) c.stalled = true;
  }, 250);
  await new Promise((r) => setTimeout(r, args.seconds * 1000));
  measuring = false;
  clearInterval(check);
  const window = (performance.now() - t0) / 1000;
  const served = clients.filter((c) => c.firstByte > 0);
  const sorted = served.map((c) => c.windowBytes).sort((a, b) => a - b);
  const expected = sorted.length ? sorted[Math.floor(sorted.length * 0.9)] : 0;
  const latencies = served.map((c) => c.firstByte - c.start).sort((a, b) => a - b);
  const pctOf = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] : NaN);
  const pct = (p: number) => pctOf(latencies, p);
  // Clients that never got the whole burst count as infinitely late.
  const bursts = clients.map((c) => (c.burstDone ? c.burstDone - c.start : Infinity)).sort((a, b) => a - b);
  const result = {
    clients: args.clients,
    served: served.length,
    neverServed: clients.length - served.length,
    dropped: clients.filter((c) => c.closed).length,
    stalled: served.filter((c) => c.stalled).length,
    deliveredRatio: expected ? served.reduce((n, c) => n + Math.min(c.windowBytes, expected), 0) / (expected * served.length) : 0,
    windowSeconds: window,
    bytesInWindow: served.reduce((n, c) => n + c.windowBytes, 0),
    streamBitrate: (expected * 8) / window,
    connectP50Ms: pct(0.5),
    connectP99Ms: pct(0.99),
    burstP50Ms: pctOf(bursts, 0.5),
    burstP99Ms: pctOf(bursts, 0.99),
    // Raw figures, so that several load generators (past one process's descriptors) can be merged.
    raw: {
      connect: latencies,
      burst: bursts.map((b) => (Number.isFinite(b) ? b : -1)),
      window: served.map((c) => c.windowBytes),
      stalled: served.filter((c) => c.stalled).length,
      dropped: clients.filter((c) => c.closed).length,
      neverServed: clients.length - served.length,
    },
  };
  // A pipe takes big writes asynchronously: exit once the result is out.
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

main().catch((e) => {
  process.stderr.write(String(e) + '\n');
  process.exit(1);
});
