// An http-streamer's listeners with real sockets, in one process and over two sender processes:
// each listed with a stable id, its address, user agent, connect time and bytes sent (oldest
// first); a kick closes that listener's socket (reason `removed`, an access log line) while the
// others keep receiving; peak (with its time) and listener-seconds count what really happened;
// the title history follows the stream's tag events, bounded to the last 50.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HttpStreamer, httpStreamerType } from '../../../actors/components/http-streamer';
import { GdpFrame, toFrame } from '../../../protocol/gdp';
import { tagFrame } from '../../../actors/components/ingest/stream-parser';
import { LISTENER_ID } from '../../../protocol/wire';
import { get, rawRequest, RawResponse } from '../../helpers/http';
import { waitFor } from '../../helpers/net';

jest.setTimeout(60000);

const FEED = '/test/source:default';
const WAV_CAPS = toFrame({ kind: 'caps', caps: 'audio/x-wav' });
const page = (i: number): GdpFrame => toFrame({ kind: 'buffer', pts: i * 1e7, dts: null, duration: 1e7, offset: null, offsetEnd: null, flags: 0, data: Buffer.alloc(1000, i & 0xff) });

describe('http-streamer listeners', () => {
  let s: HttpStreamer;
  let pump: NodeJS.Timeout | null = null;
  const clients: RawResponse[] = [];
  let dir: string;

  afterEach(async () => {
    if (pump) clearInterval(pump);
    pump = null;
    for (const c of clients.splice(0)) c.socket.destroy();
    await s?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(props: Record<string, unknown> = {}): Promise<number> {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-listeners-'));
    s = httpStreamerType.create('radio', httpStreamerType.properties.parse({ port: 0, 'mount-point': '/live.wav', 'write-interval': 50, 'access-log': path.join(dir, 'access.log'), ...props })) as HttpStreamer;
    s.flow = 'test';
    s.addFeed('default', FEED);
    s.feedConnected('default', FEED);
    await s.start();
    s.eat('default', FEED, WAV_CAPS);
    let i = 0;
    pump = setInterval(() => s.eat('default', FEED, page(i++)), 10); // 100 KB/s
    return Number(new URL(s.url).port);
  }

  async function listen(port: number, agent: string): Promise<RawResponse> {
    const r = await rawRequest(port, get('/live.wav', { 'User-Agent': agent }));
    clients.push(r);
    return r;
  }

  const list = () => (s.listenerControl() as NonNullable<ReturnType<HttpStreamer['listenerControl']>>).list();
  const kick = (id: string) => (s.listenerControl() as NonNullable<ReturnType<HttpStreamer['listenerControl']>>).kick(id);

  for (const processes of [1, 2]) {
    it(`lists every listener with its address, user agent, connect time and bytes, and kicks one while the others keep receiving (processes: ${processes})`, async () => {
      const port = await start({ processes });
      const t0 = Date.now();
      const a = await listen(port, 'mpv 0.35');
      await waitFor(() => a.body().length > 0, 5000, 'the first listener served');
      const b = await listen(port, 'VLC/3.0.18 LibVLC/3.0.18');
      await waitFor(() => b.body().length > 0, 5000, 'the second listener served');
      const c = await listen(port, 'curl/7.88.1');
      await waitFor(() => b.body().length > 5000 && c.body().length > 5000, 10000, 'all three served');
      const { listeners, total } = await list();
      expect(total).toBe(3);
      expect(listeners.map((l) => l.userAgent)).toEqual(['mpv 0.35', 'VLC/3.0.18 LibVLC/3.0.18', 'curl/7.88.1']);
      for (const l of listeners) {
        expect(l.id).toMatch(LISTENER_ID);
        expect(l.address).toBe('127.0.0.1');
        expect(l.connectedSince).toBeGreaterThanOrEqual(t0 - 5);
        expect(l.connectedSince).toBeLessThanOrEqual(Date.now());
        expect(l.bytes).toBeGreaterThan(0);
      }
      expect(new Set(listeners.map((l) => l.id)).size).toBe(3);
      expect([...listeners].sort((x, y) => x.connectedSince - y.connectedSince)).toEqual(listeners);
      if (processes === 2) {
        // Spread over both sender processes: ids of two instances.
        expect(new Set(listeners.map((l) => l.id.replace(/-\d+$/, ''))).size).toBe(2);
      }
      const victim = listeners[1];
      expect(await kick(victim.id)).toBe(true);
      await b.closed;
      const [aBefore, cBefore] = [a.body().length, c.body().length];
      await waitFor(() => a.body().length > aBefore + 20000 && c.body().length > cBefore + 20000, 10000, 'the others still receiving');
      expect(a.socket.destroyed || c.socket.destroyed).toBe(false);
      // Gone from the list; a second kick finds nobody; ids never come back.
      await waitFor(() => s.stats()?.currentClients === 2, 5000, 'two listeners counted');
      const after = await list();
      expect(after.listeners.map((l) => l.id)).toEqual([listeners[0].id, listeners[2].id]);
      expect(await kick(victim.id)).toBe(false);
      expect(await kick('nobody-1')).toBe(false);
      await waitFor(() => (s.details().removed?.removed ?? 0) === 1, 5000, 'the removal counted');
      // The kick is in the access log: the listener's line with its user agent.
      await waitFor(() => fs.existsSync(path.join(dir, 'access.log')) && /VLC\/3\.0\.18/.test(fs.readFileSync(path.join(dir, 'access.log'), 'utf8')), 5000, 'the access log line');
      const line = fs.readFileSync(path.join(dir, 'access.log'), 'utf8').split('\n').find((l) => l.includes('VLC'));
      expect(line).toMatch(/^127\.0\.0\.1 - - \[.*\] "GET \/live\.wav HTTP\/1\.1" 200 \d+ "-" "VLC\/3\.0\.18 LibVLC\/3\.0\.18" \d+\.\d{3}$/);
      expect(s.messages.map((m) => m.text)).toContain(`listener ${victim.id} removed by an operator`);
    });

    it(`counts the peak with its time and listener-seconds, those still connected included (processes: ${processes})`, async () => {
      const port = await start({ processes });
      expect(s.details()).toMatchObject({ clients: 0, peakClients: 0, listenerSeconds: 0 });
      expect(s.details().peakTime).toBeUndefined();
      const a = await listen(port, 'one');
      const b = await listen(port, 'two');
      await waitFor(() => a.body().length > 0 && b.body().length > 0, 5000, 'two served');
      await waitFor(() => s.details().peakClients === 2, 5000, 'a peak of two');
      const peakTime = s.details().peakTime as number;
      expect(peakTime).toBeGreaterThan(Date.now() - 5000);
      expect(peakTime).toBeLessThanOrEqual(Date.now());
      const since = (await list()).listeners.map((l) => l.connectedSince);
      b.socket.destroy();
      const bGone = Date.now();
      await waitFor(() => s.details().clients === 1, 5000, 'one left');
      await new Promise((r) => setTimeout(r, 1500));
      const c = await listen(port, 'three');
      await waitFor(() => c.body().length > 0 && s.details().clients === 2, 5000, 'a new second listener');
      await new Promise((r) => setTimeout(r, 300));
      // Two at once again is no new peak: its time stays.
      expect(s.details()).toMatchObject({ peakClients: 2, peakTime });
      // Listener-seconds: a's time so far, b's stay, c's time so far; a report may be up to a second old with processes.
      const now = Date.now();
      const expected = (now - since[0] + (bGone - since[1])) / 1000;
      const got = s.details().listenerSeconds as number;
      expect(got).toBeGreaterThan(expected - 0.5);
      expect(got).toBeLessThan(expected + (now - bGone) / 1000 + 0.5);
      // It keeps growing while they listen.
      await new Promise((r) => setTimeout(r, 1200));
      expect(s.details().listenerSeconds as number).toBeGreaterThan(got + 1.5);
    });
  }

  it('lists and kicks listeners served with ICY metadata beside the plain ones', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-listeners-'));
    s = httpStreamerType.create('radio', httpStreamerType.properties.parse({ port: 0, 'mount-point': '/live.mp3', 'write-interval': 50, 'icy-metaint': 1000 })) as HttpStreamer;
    s.flow = 'test';
    s.addFeed('default', FEED);
    s.feedConnected('default', FEED);
    await s.start();
    s.eat('default', FEED, toFrame({ kind: 'caps', caps: 'audio/mpeg, mpegversion=(int)1, layer=(int)3' }));
    let i = 0;
    pump = setInterval(() => s.eat('default', FEED, page(i++)), 10);
    const port = Number(new URL(s.url).port);
    const plain = await rawRequest(port, get('/live.mp3', { 'User-Agent': 'plain player' }));
    const icy = await rawRequest(port, get('/live.mp3', { 'User-Agent': 'icy player', 'Icy-MetaData': '1' }));
    clients.push(plain, icy);
    await waitFor(() => plain.body().length > 5000 && icy.body().length > 5000, 10000, 'both served');
    expect(icy.head()).toMatch(/\r\nicy-metaint: 1000\r\n/);
    const { listeners } = await list();
    expect(listeners.map((l) => l.userAgent)).toEqual(['plain player', 'icy player']);
    expect(await kick(listeners[1].id)).toBe(true);
    await icy.closed;
    const before = plain.body().length;
    await waitFor(() => plain.body().length > before + 20000, 10000, 'the plain one still receiving');
    expect((await list()).listeners.map((l) => l.userAgent)).toEqual(['plain player']);
    expect(s.details()).toMatchObject({ clients: 1, peakClients: 2, removed: { removed: 1 } });
  });

  it('keeps the stream\'s titles from its tag events with their times, each once, the last 50', async () => {
    await start();
    const t0 = Date.now();
    s.eat('default', FEED, tagFrame({ artist: 'Band', title: 'First' }));
    s.eat('default', FEED, tagFrame({ artist: 'Band', title: 'First' })); // the same again (a reconnected eater's sticky tags)
    s.eat('default', FEED, tagFrame({ organization: 'no title here' }));
    s.eat('default', FEED, tagFrame({ title: 'Second' }));
    const titles = s.details().titles ?? [];
    expect(titles.map((t) => t.title)).toEqual(['Band - First', 'Second']);
    for (const t of titles) expect(t.time).toBeGreaterThanOrEqual(t0);
    for (let i = 0; i < 60; i++) s.eat('default', FEED, tagFrame({ title: `song ${i}` }));
    const last = (s.details().titles ?? []).map((t) => t.title);
    expect(last).toHaveLength(50);
    expect(last[0]).toBe('song 10');
    expect(last[49]).toBe('song 59');
    s.eat('default', FEED, tagFrame({ title: 'x'.repeat(5000) }));
    expect((s.details().titles ?? []).at(-1)?.title).toHaveLength(512);
  });
});
