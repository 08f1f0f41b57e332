// Internet scale: Debian's nginx as a caching reverse proxy (proxy_cache, cache lock) in front
// of the hls-streamer, 500 simulated HLS clients fetching through it. The origin serves each
// segment about once, and every client sees every segment from the one it started at.

import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { HlsStreamer, hlsStreamerType } from '../../../actors/components/hls-streamer';
import { describeGst, spawnGdpProducer } from '../../helpers/gst';
import { waitFor } from '../../helpers/net';
import { freePort } from '../../helpers/planet';

jest.setTimeout(120000);

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((f) => fs.existsSync(f));
const FEED = '/tv/ts:default';

function startNginx(port: number, origin: number): { child: ChildProcess; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-nginx-'));
  fs.chmodSync(dir, 0o777);
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `
daemon off;
master_process on;
worker_processes 1;
${process.getuid?.() === 0 ? 'user nobody nogroup;' : ''}
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=hls:10m max_size=200m inactive=1m use_temp_path=off;
  upstream origin { server 127.0.0.1:${origin}; keepalive 32; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache hls;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 5s;
      add_header X-Cache $upstream_cache_status;
    }
  }
}
`);
  const child = spawn(NGINX ?? 'nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
  return { child, dir };
}

function get(agent: http.Agent, port: number, p: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', () => resolve({ status: 0, body: Buffer.alloc(0) }));
    });
    req.on('error', () => resolve({ status: 0, body: Buffer.alloc(0) }));
  });
}

(NGINX || process.env.CI ? describeGst : describe.skip)('hls-streamer behind a caching nginx', () => {
  let producer: ChildProcess | null = null;
  let nginx: { child: ChildProcess; dir: string } | null = null;
  let hls: HlsStreamer | null = null;
  afterAll(async () => {
    producer?.kill('SIGKILL');
    nginx?.child.kill('SIGQUIT');
    await hls?.stop();
    if (nginx) setTimeout(() => fs.rmSync(nginx!.dir, { recursive: true, force: true }), 1000).unref();
  });

  it('serves 500 clients through the cache with each segment leaving the origin about once', async () => {
    if (!NGINX) throw new Error('nginx is required in CI (apt-get install nginx)');
    hls = hlsStreamerType.create('hls', hlsStreamerType.properties.parse({ port: 0, 'mount-point': '/tv.m3u8', 'target-duration': 1, 'playlist-length': 6 })) as HlsStreamer;
    hls.addFeed('default', FEED);
    await hls.start();
    hls.feedConnected('default', FEED);
    const originPort = Number(new URL(hls.url).port);
    const s = hls;
    producer = spawnGdpProducer('videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=25/1 ! x264enc key-int-max=25 speed-preset=ultrafast tune=zerolatency bitrate=300 ! h264parse config-interval=-1 ! mpegtsmux', (f) => s.eat('default', FEED, f));
    await waitFor(() => (s.hls?.lastCompleteMsn ?? -1) >= 2, 20000, 'three segments');
    const proxyPort = await freePort();
    nginx = startNginx(proxyPort, originPort);
    // nginx is up once it answers the playlist through to the origin.
    const probe = new http.Agent();
    let answered = 0;
    await waitFor(() => answered === 200, 10000, 'nginx answering', async () => {
      answered = await get(probe, proxyPort, '/tv.m3u8').then((r) => r.status, () => 0);
    });
    probe.destroy();
    expect(spawnSync('sh', ['-c', `kill -0 ${nginx.child.pid}`]).status).toBe(0);

    const CLIENTS = 500;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const seenBy: Array<number[]> = Array.from({ length: CLIENTS }, () => []);
    let clientSegmentRequests = 0;
    const stopAt = Date.now() + 8000;
    const client = async (i: number) => {
      await new Promise((r) => setTimeout(r, (i * 7) % 1000));
      const have = new Set<number>();
      while (Date.now() < stopAt) {
        const pl = await get(agent, proxyPort, '/tv.m3u8');
        if (pl.status === 200) {
          const msns = [...pl.body.toString().matchAll(/^tv\/seg-(\d+)\.ts$/gm)].map((m) => Number(m[1]));
          // A new client starts near the live edge (the last three), as players do.
          const wanted = have.size ? msns.filter((m) => m > Math.max(...have)) : msns.slice(-3);
          for (const m of wanted) {
            const seg = await get(agent, proxyPort, `/tv/seg-${m}.ts`);
            clientSegmentRequests++;
            if (seg.status === 200 && seg.body[0] === 0x47) {
              have.add(m);
              seenBy[i].push(m);
            }
          }
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    agent.destroy();

    const hits = [...s.segmentHits()];
    const fetched = new Set(seenBy.flat());
    const originSegmentRequests = hits.filter(([m]) => fetched.has(m)).reduce((n, [, c]) => n + c, 0);
    console.log(`${CLIENTS} clients: ${clientSegmentRequests} segment requests through nginx, ${originSegmentRequests} reached the origin for ${fetched.size} segments`);
    expect(fetched.size).toBeGreaterThanOrEqual(6);
    for (const [m, c] of hits) if (fetched.has(m)) expect(c).toBeLessThanOrEqual(2); // about once each
    expect(originSegmentRequests).toBeLessThan(clientSegmentRequests / 50);
    // Every client saw every segment from its first one on, without a gap.
    for (const seen of seenBy) {
      expect(seen.length).toBeGreaterThanOrEqual(3);
      for (let k = 1; k < seen.length; k++) expect(seen[k]).toBe(seen[k - 1] + 1);
    }
  });
});
