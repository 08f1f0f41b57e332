// HLS and LL-HLS clients as players poll, for the benchmarks (bench:hls, bench:webrtc): plain
// HLS reloads the playlist every second and fetches new segments; LL-HLS makes blocking
// reloads for the next part and fetches each part as it is hinted.

import * as http from 'http';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function get(agent: http.Agent, port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/** N player-like clients for `ms`; returns the requests they made. */
export async function load(n: number, ms: number, port: number, playlist: string, lowLatency: boolean): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: n });
  const until = Date.now() + ms;
  let requests = 0;
  const dir = playlist.slice(0, playlist.lastIndexOf('/') + 1);
  const client = async (i: number) => {
    await sleep((i * 13) % 1000);
    let have = -1;
    let next: { msn: number; part: number } | null = null;
    while (Date.now() < until) {
      const q = lowLatency && next ? `?_HLS_msn=${next.msn}&_HLS_part=${next.part}` : '';
      const r = await get(agent, port, playlist + q);
      requests++;
      if (r.status !== 200) {
        await sleep(200);
        continue;
      }
      if (lowLatency) {
        const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="[^"]*part-(\d+)\.(\d+)\.ts"/.exec(r.body);
        if (!hint) continue;
        const [msn, part] = [Number(hint[1]), Number(hint[2])];
        await get(agent, port, `${dir}${/URI="([^"]+)"/.exec(hint[0])?.[1]}`); // the part, when complete
        requests++;
        next = { msn, part: part + 1 };
        continue;
      }
      const segs = [...r.body.matchAll(/^(\S+\.ts)$/gm)].map((m) => m[1]);
      const fresh = have < 0 ? segs.slice(-1) : segs.filter((s) => Number(/(\d+)\.ts$/.exec(s)?.[1]) > have);
      for (const s of fresh) {
        await get(agent, port, dir + s);
        requests++;
        have = Number(/(\d+)\.ts$/.exec(s)?.[1]);
      }
      await sleep(1000);
    }
  };
  await Promise.all(Array.from({ length: n }, (_, i) => client(i)));
  agent.destroy();
  return requests;
}
