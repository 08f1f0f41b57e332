// The hls-streamer over real HTTP, fed by a real GStreamer MPEG-TS stream: playlists that
// hls-parser reads, the headers players and caches need, blocking reloads and preload hints
// answered as parts complete (within part-duration + 100 ms of their last byte), and refusals.

import { ChildProcess } from 'child_process';
import * as http from 'http';
import * as HLS from 'hls-parser';
import { HlsStreamer, hlsStreamerType } from '../../../actors/components/hls-streamer';
import { porterType } from '../../../actors/components/porter';
import { describeGst, spawnGdpProducer } from '../../helpers/gst';
import { waitFor } from '../../helpers/net';

jest.setTimeout(60000);
const FEED = '/tv/ts:default';

function get(port: number, p: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; at: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, headers, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), at: Date.now() }));
    });
    req.on('error', reject);
    req.end();
  });
}

describeGst('hls-streamer over HTTP', () => {
  let producer: ChildProcess | null = null;
  let s: HlsStreamer | null = null;
  afterEach(async () => {
    producer?.kill('SIGKILL');
    await s?.stop();
  });

  const start = async (props: Record<string, unknown>) => {
    const h = hlsStreamerType.create('hls', hlsStreamerType.properties.parse({ port: 0, 'mount-point': '/tv.m3u8', 'target-duration': 1, ...props })) as HlsStreamer;
    h.addFeed('default', FEED);
    await h.start();
    h.feedConnected('default', FEED);
    producer = spawnGdpProducer('videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=25/1 ! x264enc key-int-max=25 speed-preset=ultrafast tune=zerolatency bitrate=300 ! h264parse config-interval=-1 ! mpegtsmux', (f) => h.eat('default', FEED, f));
    s = h;
    return { h, port: Number(new URL(h.url).port) };
  };

  it('serves a live playlist hls-parser reads, immutable segments, CORS, and refuses what it should', async () => {
    const { h, port } = await start({ 'playlist-length': 3, 'token-auth': ['viewer-token-1'] });
    expect((await get(port, '/tv.m3u8')).status).toBe(401);
    const q = '?token=viewer-token-1';
    await waitFor(() => (h.hls?.lastCompleteMsn ?? -1) >= 4, 20000, 'five segments');
    const r = await get(port, `/tv.m3u8${q}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers.connection).toBe('keep-alive');
    const pl = HLS.parse(r.body.toString()) as HLS.types.MediaPlaylist;
    expect(pl.segments).toHaveLength(3);
    expect(pl.mediaSequenceBase).toBeGreaterThanOrEqual(2);
    for (const seg of pl.segments) {
      expect(seg.duration).toBeGreaterThan(0.9);
      expect(seg.duration).toBeLessThan(1.1); // a keyframe each second, target 1 s
    }
    const seg = await get(port, `/tv/${pl.segments[0].uri.replace(/^tv\//, '')}${q}`);
    expect(seg.status).toBe(200);
    expect(seg.headers['content-type']).toBe('video/mp2t');
    expect(seg.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(seg.body[0]).toBe(0x47);
    expect(seg.body.length % 188).toBe(0);
    expect((await get(port, `/tv/seg-0.ts${q}`)).status).toBe(404); // gone from the window
    expect((await get(port, `/tv/part-0.0.ts${q}`)).status).toBe(404); // no parts without low latency
    expect((await get(port, `/other.m3u8${q}`)).status).toBe(404);
    expect((await get(port, `/tv.m3u8${q}`, {}, 'POST')).status).toBe(405);
    expect((await get(port, `/tv.m3u8${q}`, {}, 'OPTIONS')).status).toBe(204);
    expect(h.details().requests).toBeGreaterThanOrEqual(8);
    expect(h.mood).toBe('happy');
    h.feedDisconnected('default', FEED);
    expect(h.mood).toBe('hungry');
  });

  it('serves through a porter: the playlist and the segments under its prefix, on kept-alive connections', async () => {
    const porter = porterType.create('front', porterType.properties.parse({ port: 0 }));
    porter.flow = 'tv';
    await porter.start();
    try {
      const h = hlsStreamerType.create('hls', hlsStreamerType.properties.parse({ porter: 'front', 'mount-point': '/tv.m3u8', 'target-duration': 1 })) as HlsStreamer;
      h.flow = 'tv';
      h.addFeed('default', FEED);
      await h.start();
      h.feedConnected('default', FEED);
      s = h;
      producer = spawnGdpProducer('videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=25/1 ! x264enc key-int-max=25 speed-preset=ultrafast tune=zerolatency bitrate=300 ! h264parse config-interval=-1 ! mpegtsmux', (f) => h.eat('default', FEED, f));
      expect(h.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tv\.m3u8$/);
      const port = Number(new URL(h.url).port);
      await waitFor(() => (h.hls?.lastCompleteMsn ?? -1) >= 1, 20000, 'two segments');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const viaAgent = (p: string) => new Promise<{ status: number; body: Buffer; socket: unknown }>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), socket: req.socket }));
        });
        req.on('error', reject);
      });
      const pl = await viaAgent('/tv.m3u8');
      expect(pl.status).toBe(200);
      const uri = /^(tv\/seg-\d+\.ts)$/m.exec(pl.body.toString())?.[1];
      const seg = await viaAgent(`/${uri}`);
      expect(seg.status).toBe(200);
      expect(seg.body[0]).toBe(0x47);
      expect(seg.socket).toBe(pl.socket); // the same connection, kept alive
      expect((await get(port, '/elsewhere.m3u8')).status).toBe(404); // the porter's own answer
      expect(porter.details()?.routes).toEqual(expect.arrayContaining([{ mount: '/tv.m3u8', owner: '/tv/hls' }, { mount: '/tv/', owner: '/tv/hls' }]));
      agent.destroy();
    } finally {
      await s?.stop();
      s = null;
      await porter.stop();
    }
  });

  it('LL-HLS: blocking reloads and preload hints are answered within part-duration + 100 ms of the part\'s last byte', async () => {
    const { h, port } = await start({ 'low-latency': true, 'part-duration': 0.2 });
    await waitFor(() => (h.hls?.lastCompleteMsn ?? -1) >= 1, 20000, 'two segments');
    const text = (await get(port, '/tv.m3u8')).body.toString();
    const pl = HLS.parse(text) as HLS.types.MediaPlaylist;
    expect(pl.lowLatencyCompatibility?.canBlockReload).toBe(true);
    expect(pl.partTargetDuration).toBeCloseTo(0.2, 5);
    const lags: number[] = [];
    for (let k = 0; k < 8; k++) {
      const t = (await get(port, '/tv.m3u8')).body.toString();
      const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="tv\/part-(\d+)\.(\d+)\.ts"/.exec(t);
      expect(hint).not.toBeNull();
      const [msn, idx] = [Number(hint?.[1]), Number(hint?.[2])];
      const [reload, part] = await Promise.all([get(port, `/tv.m3u8?_HLS_msn=${msn}&_HLS_part=${idx}`), get(port, `/tv/part-${msn}.${idx}.ts`)]);
      expect(reload.status).toBe(200);
      expect(part.status).toBe(200);
      expect(part.body[0]).toBe(0x47);
      expect(reload.body.toString()).toContain(`URI="tv/part-${msn}.${idx}.ts"`);
      const p = h.hls?.segment(msn)?.parts[idx];
      // Listed (complete, in every playlist from then on) this long after its last byte came in;
      // the blocked request was answered at that moment (its client saw it a little later).
      lags.push((p?.completedAt ?? 0) - (p?.lastByteAt ?? 0));
      expect(reload.at - (p?.completedAt ?? 0)).toBeLessThan(1000);
    }
    for (const lag of lags) expect(lag).toBeLessThanOrEqual(200 + 100);
    const last = h.hls?.segments.at(-1)?.msn ?? 0;
    expect((await get(port, `/tv.m3u8?_HLS_msn=${last + 10}`)).status).toBe(400);
    expect((await get(port, '/tv.m3u8?_HLS_msn=-1')).status).toBe(400);
  });
});
