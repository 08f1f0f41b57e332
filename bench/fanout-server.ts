// The fluxcast side of bench:fanout: reads a GDP stream on stdin (from a gst-launch source)
// and serves it with the http-streamer's server on --port, as a process of its own so its
// CPU and memory can be measured apart from the load generator.
import { GdpDecoder } from '../protocol/gdp';
import { MultiClientSender } from '../transport/sender/multi-client-sender';
import { RawPayloadInput } from '../transport/sender/gdp-inputs';
import { StreamServer } from '../transport/http/stream-server';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const port = Number(arg('--port', '0'));
const writeIntervalMs = Number(arg('--write-interval', '0'));
const sender = new MultiClientSender({ unitFormat: 'bytes', unitsMax: 8 * 1024 * 1024, timeoutMs: 10000, writeIntervalMs });
const input = new RawPayloadInput(sender);
const server = new StreamServer(sender, { port, mountPoint: '/live.ogg', clientLimit: 0, maxPendingRequests: 20000, burstSize: 64 });
input.onCaps((c) => server.setCaps(c));
const decoder = new GdpDecoder({ onFrame: (f) => input.frame(f) });
process.stdin.on('data', (chunk: Buffer) => {
  const err = decoder.push(chunk);
  if (err) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    process.exit(1);
  }
});
server.listen().then(
  (p) => process.stdout.write(`listening ${p}\n`),
  (e) => {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
