// One side of bench:hop as a process of its own: `feeder --port P` reads GDP on stdin and
// serves it as feed /bench/src:default on a feed server (Feeder + multi-client sender);
// `eater --port P` eats that feed (EaterConnection) and writes every packet to stdout.
import { GdpDecoder } from '../protocol/gdp';
import { FeedServer } from '../transport/feed/feed-server';
import { Feeder } from '../transport/feed/feeder';
import { EaterConnection } from '../transport/feed/eater-connection';
import { readTls } from '../transport/tls';

const role = process.argv[2];
const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const secret = 'bench-hop-secret';
const FEED = '/bench/src:default';
// `--tls DIR`: the hop runs over mutual TLS with DIR/ca.pem, DIR/hop.pem and DIR/hop.key.
const tlsDir = process.argv.includes('--tls') ? process.argv[process.argv.indexOf('--tls') + 1] : null;
const tlsMaterial = tlsDir ? readTls({ certFile: `${tlsDir}/hop.pem`, keyFile: `${tlsDir}/hop.key`, caFile: `${tlsDir}/ca.pem` }) : undefined;

if (role === 'feeder') {
  const feeder = new Feeder(FEED, { maxLagBytes: 256 * 1024 * 1024 });
  feeder.on('eater-removed', (_id, peer, reason) => process.stderr.write(`hop feeder: eater ${peer} removed (${reason})\n`));
  const server = new FeedServer({ port, secret, tls: tlsMaterial }, { eat: (f) => (f === FEED ? (s, _l, r) => feeder.addEater(s, r) : null), feed: () => null });
  void server.listen().then(() => process.stdout.write('ready\n'));
  const dec = new GdpDecoder({ onFrame: (f) => feeder.frame(f), maxPayloadSize: 64 * 1024 * 1024 });
  process.stdin.on('data', (c: Buffer) => {
    if (dec.push(c)) process.exit(1);
  });
} else {
  const conn = new EaterConnection({
    feed: FEED,
    checkIntervalMs: 60000,
    maxPayloadSize: 64 * 1024 * 1024,
    onFrame: (f) => {
      // One writev per packet, as fdsink writes one buffer per packet on the GStreamer side.
      process.stdout.cork();
      for (const c of f.chunks) process.stdout.write(c);
      process.stdout.uncork();
    },
    onFlowing: () => undefined,
    onEnd: (reason) => {
      process.stderr.write(`hop eater: ${reason}\n`);
      process.exit(1);
    },
  });
  conn.open('127.0.0.1', port, secret, tlsMaterial);
  setInterval(() => undefined, 1 << 30); // the connection's timers do not keep a process alive on their own
}
process.on('SIGTERM', () => process.exit(0));
