// The fluxcast side of bench:fanout: reads a GDP stream on stdin (from a gst-launch source) and
// serves it with an http-streamer component at its default properties (only the port and the
// mount point are set, plus any `--property key=value` given for tuned runs), as a process of
// its own so its CPU and memory can be measured apart from the load generator.
import { GdpDecoder } from '../protocol/gdp';
import { HttpStreamer, httpStreamerType } from '../actors/components/http-streamer';
import { PorterComponent, porterType } from '../actors/components/porter';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const props: Record<string, unknown> = { port: Number(arg('--port', '0')), 'mount-point': '/live.ogg' };
for (let i = 0; i < process.argv.length; i++) {
  if (process.argv[i] !== '--property') continue;
  const [k, v] = process.argv[i + 1].split('=');
  props[k] = /^\d+(\.\d+)?$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
}
const porterMode = process.argv.includes('--porter');
props.processes = Number(arg('--processes', '1'));
let porter: PorterComponent | null = null;
if (porterMode) {
  // The porter takes the public port; the streamer joins it by name, with no port of its own.
  porter = porterType.create('front', porterType.properties.parse({ port: props.port })) as PorterComponent;
  porter.flow = 'bench';
  props.porter = 'front';
  props.port = 0;
}
const streamer = httpStreamerType.create('streamer', httpStreamerType.properties.parse(props)) as HttpStreamer;
streamer.flow = 'bench';
streamer.addFeed('default', '/bench/source:default');
const decoder = new GdpDecoder({ onFrame: (f) => streamer.eat('default', '/bench/source:default', f) });
process.stdin.on('data', (chunk: Buffer) => {
  const err = decoder.push(chunk);
  if (err) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    process.exit(1);
  }
});
void (porter ? porter.start() : Promise.resolve()).then(() => streamer.start()).then(() => {
  if (streamer.mood === 'sad') {
    process.stderr.write(`error: ${streamer.messages.at(-1)?.text}\n`);
    process.exit(1);
  }
  process.stdout.write(`listening ${streamer.url}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
// `kill -USR2 PID` prints where the memory is (heap, external buffers, RSS) on stderr.
process.on('SIGUSR2', () => {
  const m = process.memoryUsage();
  const mb = (n: number) => (n / 1e6).toFixed(1);
  process.stderr.write(`memory: rss ${mb(m.rss)} MB, heap used ${mb(m.heapUsed)} MB of ${mb(m.heapTotal)}, external ${mb(m.external)} MB, array buffers ${mb(m.arrayBuffers)} MB\n`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const spaces = (require('v8') as typeof import('v8')).getHeapSpaceStatistics();
  process.stderr.write(`  spaces: ${spaces.map((x) => `${x.space_name} ${mb(x.space_used_size)}/${mb(x.physical_space_size)}`).join(', ')}\n`);
});
// `kill -USR1 PID` writes a heap snapshot to the working directory (for finding per-listener costs).
process.on('SIGUSR1', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  process.stderr.write(`heap snapshot: ${(require('v8') as typeof import('v8')).writeHeapSnapshot()}\n`);
});
