// The porter and sender processes with real sockets and real child processes: one public port
// handing listeners to the streamers that mount their paths (404 for the rest, bounded heads),
// an http-streamer with processes=2 whose listeners' sockets cross into two sender processes
// (fd passing with the head bytes), and a SIGKILLed sender process that loses only its own
// listeners while the others never notice, then comes back.
import { HttpStreamer, httpStreamerType } from '../../../actors/components/http-streamer';
import { PorterComponent, porterType } from '../../../actors/components/porter';
import { Component } from '../../../actors/component/component';
import { GdpFrame, toFrame } from '../../../protocol/gdp';
import { get, rawRequest, RawResponse } from '../../helpers/http';
import { waitFor } from '../../helpers/net';

jest.setTimeout(60000);

const FEED = '/test/source:default';
const WAV_CAPS = toFrame({ kind: 'caps', caps: 'audio/x-wav' });
const page = (i: number): GdpFrame => toFrame({ kind: 'buffer', pts: i * 1e7, dts: null, duration: 1e7, offset: null, offsetEnd: null, flags: 0, data: Buffer.alloc(1000, i & 0xff) });

describe('porter and sender processes', () => {
  const running: Component[] = [];
  const listeners: RawResponse[] = [];
  const pumps: NodeJS.Timeout[] = [];

  afterEach(async () => {
    for (const t of pumps.splice(0)) clearInterval(t);
    for (const l of listeners.splice(0)) l.socket.destroy();
    for (const c of running.splice(0).reverse()) await c.stop();
  });

  async function porter(name = 'front'): Promise<PorterComponent> {
    const p = porterType.create(name, porterType.properties.parse({ port: 0 })) as PorterComponent;
    p.flow = 'test';
    await p.start();
    running.push(p);
    return p;
  }

  async function streamer(name: string, props: Record<string, unknown>): Promise<HttpStreamer> {
    const s = httpStreamerType.create(name, httpStreamerType.properties.parse({ 'write-interval': 50, ...props })) as HttpStreamer;
    s.flow = 'test';
    s.addFeed('default', FEED);
    s.feedConnected('default', FEED);
    await s.start();
    running.push(s);
    s.eat('default', FEED, WAV_CAPS);
    let i = 0;
    pumps.push(setInterval(() => s.eat('default', FEED, page(i++)), 10)); // 100 KB/s
    return s;
  }

  async function listen(port: number, path: string): Promise<RawResponse> {
    const r = await rawRequest(port, get(path));
    listeners.push(r);
    return r;
  }

  it('hands each listener to the streamer of its path, and answers 404 and bad heads itself', async () => {
    const p = await porter();
    const port = Number(new URL(p.url).port);
    const a = await streamer('a', { porter: 'front', 'mount-point': '/a.wav' });
    await streamer('b', { porter: 'front', 'mount-point': '/b.wav' });
    expect(a.url).toBe(`http://127.0.0.1:${port}/a.wav`);
    expect(p.routes()).toEqual([{ mount: '/a.wav', owner: '/test/a' }, { mount: '/b.wav', owner: '/test/b' }]);
    const ra = await listen(port, '/a.wav');
    const rb = await listen(port, '/b.wav');
    await waitFor(() => ra.body().length > 5000 && rb.body().length > 5000, 5000, 'both streams');
    expect(ra.status()).toBe(200);
    expect(a.stats()?.currentClients).toBe(1);
    const missing = await listen(port, '/nope.wav');
    await missing.closed;
    expect(missing.status()).toBe(404);
    expect(missing.body().toString()).toMatch(/nothing is mounted at \/nope\.wav/);
    const bad = await rawRequest(port, 'GARBAGE\r\n\r\n');
    await bad.closed;
    expect(bad.status()).toBe(400);
    const long = await rawRequest(port, `GET /${'x'.repeat(3000)} HTTP/1.1\r\n\r\n`);
    await long.closed;
    expect(long.status()).toBe(414);
  });

  it('spreads listeners over sender processes (fd passing), and a killed one costs only its own listeners', async () => {
    const p = await porter();
    const port = Number(new URL(p.url).port);
    const s = await streamer('radio', { porter: 'front', 'mount-point': '/radio.wav', processes: 2 });
    await waitFor(() => s.senderPids().length === 2, 10000, 'two sender processes');
    const rs: RawResponse[] = [];
    for (let i = 0; i < 10; i++) rs.push(await listen(port, '/radio.wav'));
    await waitFor(() => rs.every((r) => r.body().length > 3000), 10000, 'every listener served');
    expect(rs.every((r) => r.status() === 200 && r.head().includes('Content-Type: audio/x-wav'))).toBe(true);
    await waitFor(() => (s.stats()?.processes ?? []).every((x) => x.clients >= 3), 5000, 'listeners on both processes');
    const before = s.stats()!.processes!;
    const victim = before[0];
    process.kill(victim.pid!, 'SIGKILL');
    await waitFor(() => rs.filter((r) => r.socket.destroyed || r.socket.readableEnded).length === victim.clients, 5000, 'the victim\'s listeners gone');
    const survivors = rs.filter((r) => !r.socket.destroyed && !r.socket.readableEnded);
    expect(survivors.length).toBe(10 - victim.clients);
    const seen = survivors.map((r) => r.body().length);
    await waitFor(() => survivors.every((r, i) => r.body().length > seen[i] + 5000), 5000, 'the others go on');
    await waitFor(() => s.senderPids().length === 2 && !s.senderPids().includes(victim.pid!), 10000, 'a new sender process');
    const fresh = await listen(port, '/radio.wav');
    await waitFor(() => fresh.body().length > 3000, 10000, 'a new listener served');
    expect(s.stats()!.processes!.map((x) => x.restarts).sort()).toEqual([0, 1]);
    expect(s.mood).toBe('happy');
  });

  it('serves on its own port with processes=2, and keeps the client limit global', async () => {
    const s = await streamer('solo', { port: 0, 'mount-point': '/s.wav', processes: 2, 'client-limit': 3 });
    const port = Number(new URL(s.url).port);
    await waitFor(() => s.senderPids().length === 2, 10000, 'two sender processes');
    const ok = [await listen(port, '/s.wav'), await listen(port, '/s.wav'), await listen(port, '/s.wav')];
    await waitFor(() => ok.every((r) => r.status() === 200), 5000);
    const over = await listen(port, '/s.wav');
    await waitFor(() => over.status() !== 0, 5000, 'an answer');
    expect(over.status()).toBe(503);
  });
});

