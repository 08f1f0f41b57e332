import * as net from 'net';
import { GdpFrame, toFrame } from '../../../protocol/gdp';
import { FeedServer } from '../../../transport/feed/feed-server';
import { openFeed } from '../../../transport/feed/feed-client';
import { EaterLink } from '../../../transport/feed/eater-link';
import { Feeder } from '../../../transport/feed/feeder';
import { waitFor } from '../../helpers/net';

const SECRET = 'correct horse battery';
const FEED = '/default/source:default';

function streamStart(id: string): GdpFrame {
  return toFrame({ kind: 'event', eventType: 10254, structure: `GstEventStreamStart, stream-id=(string)${id};` });
}
const caps = (rate: number) => toFrame({ kind: 'caps', caps: `audio/x-raw, format=(string)S16LE, rate=(int)${rate}, channels=(int)1` });
const buffer = (i: number) => toFrame({ kind: 'buffer', pts: i * 1e7, dts: null, duration: 1e7, offset: null, offsetEnd: null, flags: 0, data: Buffer.alloc(160, i) });

describe('feeds between a feeder and an eater', () => {
  let feeders: Map<string, Feeder>;
  let server: FeedServer;
  let port: number;
  const eaters = new Map<string, EaterLink>();
  const cleanup: Array<() => void> = [];

  async function startServer(p = 0): Promise<void> {
    server = new FeedServer({ port: p, secret: SECRET }, {
      eat: (feed) => {
        const f = feeders.get(feed);
        return f ? (socket) => f.addEater(socket) : null;
      },
      feed: (feed) => {
        const e = eaters.get(feed);
        return e ? (socket, leftover) => e.acceptSocket(socket, leftover) : null;
      },
    });
    port = await server.listen();
  }

  beforeEach(async () => {
    feeders = new Map([[FEED, new Feeder(FEED)]]);
    await startServer();
  });

  afterEach(async () => {
    for (const c of cleanup.splice(0)) c();
    for (const e of eaters.values()) e.stop();
    eaters.clear();
    for (const f of feeders.values()) f.close();
    await server.close();
  });

  function eater(checkIntervalMs = 2000): { link: EaterLink; got: GdpFrame[]; events: string[] } {
    const got: GdpFrame[] = [];
    const events: string[] = [];
    const link = new EaterLink({ feed: FEED, secret: SECRET, checkIntervalMs, onFrame: (f) => got.push(f) });
    link.on('connected', () => events.push('connected'));
    link.on('disconnected', (r) => events.push(`disconnected: ${r}`));
    cleanup.push(() => link.stop());
    return { link, got, events };
  }

  it('primes a late eater with the sticky packets, then live data', async () => {
    const f = feeders.get(FEED)!;
    f.frame(streamStart('s1'));
    f.frame(caps(8000));
    for (let i = 0; i < 5; i++) f.frame(buffer(i));
    const e = eater();
    e.link.eatFrom('127.0.0.1', port);
    await waitFor(() => f.clientCount === 1);
    for (let i = 5; i < 8; i++) f.frame(buffer(i));
    await waitFor(() => e.got.filter((g) => g.kind === 'buffer').length >= 3);
    expect(e.got[0].eventName).toBe('stream-start');
    expect(e.got[1].text).toContain('rate=(int)8000');
    expect(e.events).toEqual(['connected']);
  });

  it('refuses a wrong secret, an unknown feed and a silent handshake, with reasons', async () => {
    await expect(openFeed({ host: '127.0.0.1', port, secret: 'wrong secret!', op: 'eat', feed: FEED })).rejects.toMatchObject({ code: 'FLUX_FEED_AUTH_FAILED' });
    await expect(openFeed({ host: '127.0.0.1', port, secret: SECRET, op: 'eat', feed: '/default/nope:default' })).rejects.toMatchObject({ code: 'FLUX_FEED_UNKNOWN_FEED' });
    await server.close();
    server = new FeedServer({ port: 0, secret: SECRET, handshakeTimeoutMs: 200 }, { eat: () => null, feed: () => null });
    port = await server.listen();
    const s = net.connect(port, '127.0.0.1');
    let answer = '';
    s.on('data', (d) => (answer += d.toString()));
    await new Promise((r) => s.once('close', r));
    expect(answer).toMatch(/"code":"FLUX_FEED_HANDSHAKE_TIMEOUT"/);
  });

  it('notices silence within the check interval and reconnects when data returns', async () => {
    const f = feeders.get(FEED)!;
    f.frame(streamStart('s1'));
    f.frame(caps(8000));
    const e = eater(300);
    e.link.eatFrom('127.0.0.1', port);
    await waitFor(() => f.clientCount === 1);
    f.frame(buffer(0));
    await waitFor(() => e.events.includes('connected'));
    const t0 = Date.now();
    await waitFor(() => e.events.length === 2, 3000, 'silence detected');
    expect(e.events[1]).toMatch(/^disconnected: no data for 300 ms/);
    expect(Date.now() - t0).toBeLessThan(1500);
    const pump = setInterval(() => f.frame(buffer(1)), 20);
    cleanup.push(() => clearInterval(pump));
    await waitFor(() => e.events.length === 3, 5000, 'reconnected');
    expect(e.events[2]).toBe('connected');
  });

  it('reconnects to a restarted upstream and passes its new stream on', async () => {
    let f = feeders.get(FEED)!;
    f.frame(streamStart('first'));
    f.frame(caps(8000));
    const e = eater();
    e.link.eatFrom('127.0.0.1', port);
    await waitFor(() => f.clientCount === 1);
    f.frame(buffer(0));
    await waitFor(() => e.events.includes('connected'));
    // The upstream worker dies: its feed server and feeder go away.
    f.close();
    await server.close();
    await waitFor(() => e.events.length === 2, 3000, 'hang-up noticed');
    expect(e.events[1]).toBe('disconnected: hang-up');
    await new Promise((r) => setTimeout(r, 300));
    // It comes back on the same port with a new stream.
    f = new Feeder(FEED);
    feeders.set(FEED, f);
    f.frame(streamStart('second'));
    f.frame(caps(16000));
    await startServer(port);
    await waitFor(() => f.clientCount === 1, 5000, 'reconnected');
    f.frame(buffer(1));
    await waitFor(() => e.events.length === 3);
    const starts = e.got.filter((g) => g.eventName === 'stream-start').map((g) => g.text);
    expect(starts[starts.length - 1]).toContain('second');
    expect(e.got.filter((g) => g.kind === 'caps').pop()?.text).toContain('rate=(int)16000');
  });

  it('pushes a feed to a downstream eater with feedTo', async () => {
    const e = eater();
    eaters.set(FEED, e.link);
    const upstream = new Feeder(FEED);
    cleanup.push(() => upstream.close());
    upstream.frame(streamStart('pushed'));
    upstream.frame(caps(8000));
    upstream.feedTo('127.0.0.1', port, SECRET);
    await waitFor(() => upstream.clientCount === 1);
    upstream.frame(buffer(0));
    await waitFor(() => e.got.some((g) => g.kind === 'buffer'));
    expect(e.got[0].text).toContain('pushed');
  });
});
