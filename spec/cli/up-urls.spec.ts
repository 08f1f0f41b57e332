// Every URL a listener can use, as a new user meets them through `fluxcast up`: an HLS and an
// LL-HLS playlist (the latter behind a porter), a porter-mounted http-streamer (the porter's
// port, not the streamer's), an HTTPS streamer with a `public-url` (listed first). The banner
// prints each one once its streamer is happy, each printed URL but the public one answers 200
// with media to a real HTTP(S) client, `status --json` and the API hold the same `urls`, a
// streamer that cannot bind lists none, and a reload that would clash is refused.
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import { runCliAsync } from '../helpers/cli';
import { makePki } from '../helpers/certs';
import { describeGst } from '../helpers/gst';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, freePort, run, waitForStatus, writePlanet } from '../helpers/planet';
import { StatusJson } from '../../protocol/status';

jest.setTimeout(120000);

interface Fetched {
  status: number;
  type: string;
  body: Buffer;
}

/** GETs `url` with Node's own client and reads `min` bytes (a live stream) or the whole answer. */
function fetchSome(url: string, opts: { ca?: Buffer; min?: number; headers?: Record<string, string> } = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, { ca: opts.ca, headers: opts.headers, timeout: 10000 }, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      const done = () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) });
      res.on('data', (d: Buffer) => {
        chunks.push(d);
        n += d.length;
        if (opts.min !== undefined && n >= opts.min) {
          req.destroy();
          done();
        }
      });
      res.on('end', done);
      res.on('error', () => undefined);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', (e) => (req.destroyed && e.message === 'socket hang up' ? undefined : reject(e)));
  });
}

/** `/flow/name` → the URLs the banner printed for it, in order. */
function bannerUrls(out: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [, id, url] of out.matchAll(/^ {2}(\/\S+): listen at (\S+)$/gm)) m.set(id, [...(m.get(id) ?? []), url]);
  return m;
}

describeGst('`fluxcast up` shows every listener URL', () => {
  const procs: Proc[] = [];
  const blockers: net.Server[] = [];
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    for (const b of blockers) b.close();
  });

  it('prints the HLS, porter, HTTPS and public URLs, each answering with media, and status holds the same', async () => {
    const pki = makePki('urls');
    const cert = pki.issue('streamer');
    const ca = fs.readFileSync(pki.ca);
    const [managerPort, porterPort, securePort, hlsPort, blockedPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    // Another program holds this port: the streamer there cannot bind (check cannot know).
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(blockedPort, '127.0.0.1', () => r()));
    blockers.push(blocker);
    const yaml = `
name: urls
manager: { host: 127.0.0.1, port: ${managerPort}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET} }
workers: [ { name: worker1, feed-port: 0 }, { name: worker2, feed-port: 0 } ]
flows:
  - name: station
    components:
      - { name: source, type: test-audio, worker: worker1 }
      - { name: encoder, type: mulaw-encoder, worker: worker1, eaters: { default: [source] } }
      - { name: muxer, type: wav-muxer, worker: worker1, eaters: { default: [encoder] } }
      - { name: front, type: porter, worker: worker1, properties: { port: ${porterPort} } }
      - { name: behind, type: http-streamer, worker: worker1, properties: { porter: front, mount-point: /behind.wav, write-interval: 50 }, eaters: { default: [muxer] } }
      - name: secure
        type: http-streamer
        worker: worker2
        properties: { port: ${securePort}, mount-point: /secure.wav, write-interval: 50, tls-cert-file: ${cert.cert}, tls-key-file: ${cert.key}, public-url: "https://radio.example.org/live.wav" }
        eaters: { default: [muxer] }
      - { name: blocked, type: http-streamer, worker: worker2, properties: { port: ${blockedPort}, mount-point: /blocked.wav }, eaters: { default: [muxer] } }
      - { name: tone, type: audiotest-producer, worker: worker2, properties: { volume: 0.2 } }
      - { name: aac, type: aac-encoder, worker: worker2, eaters: { default: [tone] } }
      - { name: picture, type: videotest-producer, worker: worker2, properties: { width: 160, height: 120, framerate: 10/1, overlay: false } }
      - { name: h264, type: h264-encoder, worker: worker2, properties: { bitrate: 200000, keyframe-interval: 10, speed-preset: ultrafast, profile: baseline }, eaters: { default: [picture] } }
      - { name: ts, type: mpegts-muxer, worker: worker2, eaters: { default: [h264, aac] } }
      - { name: hls, type: hls-streamer, worker: worker2, properties: { port: ${hlsPort}, mount-point: /tv.m3u8, target-duration: 1 }, eaters: { default: [ts] } }
      - { name: llhls, type: hls-streamer, worker: worker1, properties: { porter: front, mount-point: /ll.m3u8, target-duration: 1, low-latency: true, part-duration: 0.2 }, eaters: { default: [ts] } }
`;
    const file = writePlanet(yaml);
    const up = run(['up', file]);
    procs.push(up);
    const out = () => up.log.join('');
    const expected = new Map([
      ['/station/behind', [`http://127.0.0.1:${porterPort}/behind.wav`]],
      ['/station/secure', ['https://radio.example.org/live.wav', `https://127.0.0.1:${securePort}/secure.wav`]],
      ['/station/hls', [`http://127.0.0.1:${hlsPort}/tv.m3u8`]],
      ['/station/llhls', [`http://127.0.0.1:${porterPort}/ll.m3u8`]],
    ]);
    const upSays = (e: Error) => {
      throw new Error(`${e.message}; up printed:\n${out().slice(-6000)}`);
    };
    await waitFor(() => [...expected.keys()].every((id) => bannerUrls(out()).has(id)), 60000, 'every streamer announced').catch(upSays);
    await waitFor(() => /\/station\/blocked: sad: .*FLUX_HTTP_ADDRESS_IN_USE/.test(out()), 30000, 'the blocked streamer sad').catch(upSays);
    const banner = bannerUrls(out());
    for (const [id, urls] of expected) expect(banner.get(id)).toEqual(urls);
    expect(banner.has('/station/blocked')).toBe(false);

    // Every printed URL but the public one answers 200 with media.
    const wav = ['/station/behind', '/station/secure'].map((id) => expected.get(id)!.at(-1)!);
    for (const url of wav) {
      const r = await fetchSome(url, { ca, min: 1000 });
      expect({ url, status: r.status, type: r.type, magic: r.body.subarray(0, 4).toString() }).toEqual({ url, status: 200, type: expect.stringMatching(/^audio\/x-wav/), magic: 'RIFF' });
    }
    for (const url of [expected.get('/station/hls')![0], expected.get('/station/llhls')![0]]) {
      let playlist: Fetched | null = null;
      await waitFor(() => !!playlist && /#EXTINF/.test(playlist.body.toString()), 15000, `a segment listed at ${url}`, async () => {
        playlist = await fetchSome(url);
      });
      expect(playlist!.status).toBe(200);
      expect(playlist!.type).toMatch(/mpegurl/i);
      const segment = playlist!.body.toString().split('\n').find((l) => l && !l.startsWith('#'))!;
      const seg = await fetchSome(new URL(segment, url).href);
      expect(seg.status).toBe(200);
      expect(seg.body.length).toBeGreaterThan(188);
      expect(seg.body[0]).toBe(0x47); // an MPEG-TS packet
    }

    // `status --json`, the text status and the API hold the same URLs; the sad streamer none.
    const r = await runCliAsync(['status', '--json', '--manager', `ws://127.0.0.1:${managerPort}`, '--secret', ADMIN_SECRET]);
    expect(r.status).toBe(0);
    const st = JSON.parse(r.stdout) as StatusJson;
    const api = await fetchSome(`http://127.0.0.1:${managerPort}/api/v1/planet`, { headers: { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_SECRET}`).toString('base64')}` } });
    const fromApi = JSON.parse(api.body.toString()) as StatusJson;
    for (const s of [st, fromApi]) {
      for (const [id, urls] of expected) {
        const c = s.components.find((x) => x.id === id);
        expect({ id, urls: c?.details?.urls, url: c?.details?.url }).toEqual({ id, urls, url: urls[0] });
      }
      const blocked = s.components.find((x) => x.id === '/station/blocked');
      expect(blocked?.mood).toBe('sad');
      expect(blocked?.details?.urls ?? []).toEqual([]);
      expect(blocked?.details?.url).toBeUndefined();
    }
    const text = (await runCliAsync(['status', '--manager', `ws://127.0.0.1:${managerPort}`, '--secret', ADMIN_SECRET])).stdout;
    for (const urls of expected.values()) for (const u of urls) expect(text).toContain(`      ${u}`);
    expect(text).not.toContain(`:${blockedPort}/`);

    // A reload that would clash is refused, exactly as check prints it, and changes nothing.
    const clash = writePlanet(yaml + `      - { name: twin, type: http-streamer, worker: worker2, properties: { port: ${securePort}, mount-point: /twin.wav }, eaters: { default: [muxer] } }\n`);
    const refused = await runCliAsync(['reload', clash, '--manager', `ws://127.0.0.1:${managerPort}`, '--secret', ADMIN_SECRET]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe(`flows[0].components[14].properties.port: port ${securePort} on worker2 is also used by /station/secure (http-streamer) [FLUX_PLANET_PORT_CLASH]\n`);
    expect(refused.stdout).toBe((await runCliAsync(['check', clash])).stdout);
    expect(refused.stderr).toMatch(/^error FLUX_PLANET_INVALID: the planet has 1 problem\(s\); nothing was changed/);

    // Across workers: check alone cannot know they share a machine; check --one-host and the
    // manager (its workers logged in from one host name) do.
    const across = writePlanet(yaml + `      - { name: twin, type: http-streamer, worker: worker2, properties: { port: ${porterPort}, mount-point: /twin.wav }, eaters: { default: [muxer] } }\n`);
    expect((await runCliAsync(['check', across])).status).toBe(0);
    const oneHost = await runCliAsync(['check', '--one-host', across]);
    expect(oneHost.status).toBe(1);
    expect(oneHost.stdout).toBe(`flows[0].components[14].properties.port: port ${porterPort} on worker2 is also used by /station/front (porter) on worker1 (every worker runs on this machine) [FLUX_PLANET_PORT_CLASH]\n`);
    if (/^localhost(\.localdomain)?$/i.test(os.hostname())) {
      console.warn('NOTICE: this host is named localhost; the manager cannot tell machines apart by name, the cross-worker reload is not checked');
    } else {
      const acrossReload = await runCliAsync(['reload', across, '--manager', `ws://127.0.0.1:${managerPort}`, '--secret', ADMIN_SECRET]);
      expect(acrossReload.status).toBe(1);
      expect(acrossReload.stdout).toBe(`flows[0].components[14].properties.port: port ${porterPort} on worker2 is also used by /station/front (porter) on worker1 (both on ${os.hostname()}) [FLUX_PLANET_PORT_CLASH]\n`);
    }
    const after = await waitForStatus(managerPort, () => true, 5000);
    expect(after.components.some((c) => c.name === 'twin')).toBe(false);

    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
  });
});
