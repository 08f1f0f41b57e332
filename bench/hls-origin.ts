// The fluxcast side of `npm run bench:hls`: two hls-streamers at their defaults (HLS, and
// LL-HLS) fed with the GDP that arrives on stdin. Prints one JSON line when listening, and one
// with the wall clock of the first buffer minus its PTS (t0, the capture clock of the source).

import { GdpDecoder } from '../protocol/gdp';
import { HlsStreamer, hlsStreamerType } from '../actors/components/hls-streamer';

async function main(): Promise<void> {
  const feed = '/bench/ts:default';
  const make = async (lowLatency: boolean) => {
    const s = hlsStreamerType.create(lowLatency ? 'llhls' : 'hls', hlsStreamerType.properties.parse({ port: 0, 'mount-point': '/live.m3u8', 'low-latency': lowLatency })) as HlsStreamer;
    s.addFeed('default', feed);
    await s.start();
    s.feedConnected('default', feed);
    return s;
  };
  const hls = await make(false);
  const ll = await make(true);
  let t0Said = false;
  const decoder = new GdpDecoder({
    onFrame: (f) => {
      if (!t0Said && f.kind === 'buffer' && f.ptsMs !== null) {
        t0Said = true;
        process.stdout.write(JSON.stringify({ t0: Date.now() - f.ptsMs }) + '\n');
      }
      hls.eat('default', feed, f);
      ll.eat('default', feed, f);
    },
  });
  process.stdin.on('data', (c: Buffer) => {
    const e = decoder.push(c);
    if (e) throw e;
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdout.write(JSON.stringify({ hls: new URL(hls.url).port, ll: new URL(ll.url).port }) + '\n');
}

void main();
