import * as net from 'net';
import { BUFFER_FLAG, GdpFrame, toFrame } from '../../../protocol/gdp';
import { buffer, caps, streamStart } from '../../helpers/frames';
import { FeedServer } from '../../../transport/feed/feed-server';
import { openFeed } from '../../../transport/feed/feed-client';
import { EaterConnection } from '../../../transport/feed/eater-connection';
import { Feeder } from '../../../transport/feed/feeder';
import { waitFor } from '../../helpers/net';
import { rawFeedServer } from '../../helpers/feed-server';

const SECRET = 'correct horse battery';
const FEED = '/default/source:default';

describe('feed connections between a feeder and an eater', () => {
  let feeder: Feeder;
  let server: FeedServer;
  let port: number;
  const conns: EaterConnection[] = [];

  beforeEach(async () => {
    feeder = new Feeder(FEED);
    server = new FeedServer({ port: 0, secret: SECRET }, { eat: (feed) => (feed === FEED ? (s) => void feeder.addEater(s) : null), feed: () => null });
    port = await server.listen();
  });

  afterEach(async () => {
    for (const c of conns.splice(0)) c.close();
    feeder.close();
    await server.close();
  });

  function eater(checkIntervalMs = 2000): { conn: EaterConnection; got: GdpFrame[]; events: string[] } {
    const got: GdpFrame[] = [];
    const events: string[] = [];
    const conn = new EaterConnection({ feed: FEED, checkIntervalMs, onFrame: (f) => got.push(f), onFlowing: () => events.push('flowing'), onEnd: (r) => events.push(`end: ${r}`) });
    conns.push(conn);
    return { conn, got, events };
  }

  it('primes a late eater with the sticky packets, then live data', async () => {
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
    for (let i = 0; i < 5; i++) feeder.frame(buffer(i));
    const e = eater();
    e.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => feeder.clientCount === 1);
    for (let i = 5; i < 8; i++) feeder.frame(buffer(i));
    await waitFor(() => e.got.filter((g) => g.kind === 'buffer').length >= 3);
    expect(e.got[0].eventName).toBe('stream-start');
    expect(e.got[1].text).toContain('rate=(int)8000');
    expect(e.events).toEqual(['flowing']);
  });

  it('gives an eater that connects late the sticky events, then everything since the last keyframe', async () => {
    const delta = (i: number) => toFrame({ kind: 'buffer', pts: i * 1e7, dts: null, duration: 1e7, offset: null, offsetEnd: null, flags: BUFFER_FLAG.DELTA_UNIT, data: Buffer.alloc(160, i) });
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
    feeder.frame(buffer(0));
    feeder.frame(delta(1));
    feeder.frame(buffer(2)); // the last keyframe
    feeder.frame(delta(3));
    feeder.frame(delta(4));
    const e = eater();
    e.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => e.got.filter((g) => g.kind === 'buffer').length >= 3);
    expect(e.got.map((g) => (g.kind === 'buffer' ? `b${g.payload[0]}` : g.kind === 'caps' ? 'caps' : g.eventName))).toEqual(['stream-start', 'caps', 'b2', 'b3', 'b4']);
  });

  it('takes no GDP from a feed server that cannot prove it knows the secret', async () => {
    const fake = await rawFeedServer('not the real secret!', (s) => s.write(caps(8000).bytes));
    const e = eater();
    e.conn.open('127.0.0.1', fake.port, SECRET);
    await waitFor(() => e.events.length === 1);
    expect(e.events[0]).toMatch(/^end: FLUX_FEED_SERVER_UNVERIFIED: feed server 127\.0\.0\.1:\d+ did not prove it knows the secret/);
    expect(e.got).toEqual([]);
    fake.server.close();
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

  it('ends with a reason when the feed is silent for the check interval', async () => {
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
    const e = eater(300);
    e.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => feeder.clientCount === 1);
    feeder.frame(buffer(0));
    await waitFor(() => e.events.includes('flowing'));
    const t0 = Date.now();
    await waitFor(() => e.events.length === 2, 3000, 'silence detected');
    expect(e.events[1]).toBe('end: no data for 300 ms');
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('ends with the refusal code when the handshake is refused, and with hang-up when the upstream goes', async () => {
    const refused = eater();
    refused.conn.open('127.0.0.1', port, 'a wrong secret!!');
    await waitFor(() => refused.events.length === 1);
    expect(refused.events[0]).toMatch(/^end: FLUX_FEED_AUTH_FAILED/);
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
    feeder.frame(buffer(0));
    const e = eater();
    e.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => e.events.includes('flowing'));
    feeder.close();
    await waitFor(() => e.events.length === 2);
    expect(e.events[1]).toBe('end: hang-up');
  });

  it('ends with the GDP error code when a packet is bad, even before the first frame', async () => {
    const { server: raw, port: rawPort } = await rawFeedServer(SECRET, (s) => s.write(buffer(0).bytes)); // a buffer before any caps
    const e = eater();
    e.conn.open('127.0.0.1', rawPort, SECRET);
    await waitFor(() => e.events.length === 1);
    expect(e.events[0]).toMatch(/^end: FLUX_GDP_BUFFER_BEFORE_CAPS/);
    raw.close();
  });
});
