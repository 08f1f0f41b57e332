import * as net from 'net';
import { BUFFER_FLAG, GdpFrame, toFrame } from '../../../protocol/gdp';
import { buffer, caps, streamStart } from '../../helpers/frames';
import { FeedServer } from '../../../transport/feed/feed-server';
import { openFeed } from '../../../transport/feed/feed-client';
import { EaterConnection } from '../../../transport/feed/eater-connection';
import { Feeder } from '../../../transport/feed/feeder';
import { FeedFlow } from '../../../transport/feed/feed-flow';
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
    server = new FeedServer({ port: 0, secret: SECRET }, { eat: (feed) => (feed === FEED ? (s, _l, r) => void feeder.addEater(s, r) : null), feed: () => null });
    port = await server.listen();
  });

  afterEach(async () => {
    for (const c of conns.splice(0)) c.close();
    feeder.close();
    await server.close();
  });

  function eater(checkIntervalMs = 2000, flow?: FeedFlow): { conn: EaterConnection; got: GdpFrame[]; events: string[] } {
    const got: GdpFrame[] = [];
    const events: string[] = [];
    const conn = new EaterConnection({ feed: FEED, checkIntervalMs, flow, onFrame: (f) => got.push(f), onFlowing: () => events.push('flowing'), onEnd: (r) => events.push(`end: ${r}`) });
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

  it('ends with a reason when media stops for the learned bound (the check interval for a dense feed)', async () => {
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
    const e = eater(300);
    e.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => feeder.clientCount === 1);
    // Buffers every 20 ms for 1 s: the cadence is learned (bound = the check interval).
    let i = 0;
    const pump = setInterval(() => feeder.frame(buffer(i++)), 20);
    await new Promise((r) => setTimeout(r, 1000));
    clearInterval(pump);
    expect(e.conn.flow.bound()).toBe(300);
    const t0 = Date.now();
    await waitFor(() => e.events.length === 2, 3000, 'silence detected');
    expect(e.events).toEqual(['flowing', 'end: no media for 300 ms']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(700);
  });

  it('allows 4 check intervals until the cadence is known, and counts no event as data', async () => {
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
    const e = eater(300);
    e.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => feeder.clientCount === 1);
    feeder.frame(buffer(0));
    await waitFor(() => e.events.includes('flowing'));
    const t0 = Date.now();
    // Tags every 50 ms: events are no media, they reset nothing.
    const tags = setInterval(() => feeder.frame(toFrame({ kind: 'event', eventType: 20510, structure: 'GstTagList, title=(string)x;' })), 50);
    await waitFor(() => e.events.length === 2, 3000, 'silence detected');
    clearInterval(tags);
    expect(e.events[1]).toBe('end: no media for 1200 ms');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1150);
    expect(Date.now() - t0).toBeLessThan(1700);
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

  const names = (got: GdpFrame[]) => got.map((g) => (g.kind === 'buffer' ? `b${g.payload[0]}` : g.kind === 'caps' ? 'caps' : g.eventName));
  const buffersOf = (got: GdpFrame[]) => got.filter((g) => g.kind === 'buffer');

  it('resumes a reconnected eater right after the last buffer it forwarded: nothing twice, nothing lost, no priming again', async () => {
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
    for (let i = 0; i < 5; i++) feeder.frame(buffer(i));
    const flow = new FeedFlow(2000);
    const first = eater(2000, flow);
    first.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => feeder.clientCount === 1);
    for (let i = 5; i < 10; i++) feeder.frame(buffer(i));
    await waitFor(() => buffersOf(first.got).some((g) => g.payload[0] === 9));
    expect(names(first.got)).toEqual(['stream-start', 'caps', 'b4', 'b5', 'b6', 'b7', 'b8', 'b9']);
    first.conn.close();
    await waitFor(() => feeder.clientCount === 0);
    for (let i = 10; i < 15; i++) feeder.frame(buffer(i)); // while it is away
    const second = eater(2000, flow);
    second.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => feeder.clientCount === 1);
    feeder.frame(buffer(15));
    await waitFor(() => buffersOf(second.got).some((g) => g.payload[0] === 15));
    expect(names(second.got)).toEqual(['b10', 'b11', 'b12', 'b13', 'b14', 'b15']);
    expect(second.conn.start).toMatchObject({ stream: feeder.stream.token, from: 10, prime: 0, lost: 0 });
    expect(flow).toMatchObject({ resumes: 1, buffersLost: 0, resume: { stream: feeder.stream.token, after: 15 } });
  });

  it('resumes at the oldest keyframe still held, marked DISCONT, when the resume point left the queue, and counts the loss', async () => {
    const big = (i: number) => toFrame({ kind: 'buffer', pts: i * 1e9, dts: null, duration: 1e9, offset: null, offsetEnd: null, flags: i % 4 ? BUFFER_FLAG.DELTA_UNIT : 0, data: Buffer.alloc(200 * 1024, i) });
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
    feeder.frame(big(0));
    const flow = new FeedFlow(5000);
    const first = eater(5000, flow);
    first.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => buffersOf(first.got).length === 1);
    first.conn.close();
    await waitFor(() => feeder.clientCount === 0);
    for (let i = 1; i < 30; i++) feeder.frame(big(i)); // 29 s and 5.8 MiB: past the resume window
    const second = eater(5000, flow);
    second.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => buffersOf(second.got).some((g) => g.payload[0] === 29), 5000);
    const start = second.conn.start!;
    expect(start.lost).toBeGreaterThan(0);
    expect(start.from).toBe(1 + start.lost);
    expect(names(second.got).slice(0, 2)).toEqual(['stream-start', 'caps']);
    const bufs = buffersOf(second.got);
    expect(bufs[0].payload[0]).toBe(start.from);
    expect(bufs[0].bufferFlags & BUFFER_FLAG.DISCONT).toBe(BUFFER_FLAG.DISCONT);
    expect(bufs[0].bufferFlags & BUFFER_FLAG.DELTA_UNIT).toBe(0);
    expect(bufs.slice(1).every((b) => (b.bufferFlags & BUFFER_FLAG.DISCONT) === 0)).toBe(true);
    expect(bufs.map((b) => b.payload[0])).toEqual(Array.from({ length: 30 - start.from }, (_, k) => start.from + k));
    expect(flow.buffersLost).toBe(start.lost);
  });

  it('does not resume a restarted upstream (another feeder): it starts afresh with the new stream', async () => {
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
    feeder.frame(buffer(0));
    const flow = new FeedFlow(2000);
    const first = eater(2000, flow);
    first.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => buffersOf(first.got).length === 1);
    first.conn.close();
    feeder.close();
    feeder = new Feeder(FEED);
    feeder.frame(streamStart('s2'));
    feeder.frame(caps(16000));
    feeder.frame(buffer(7));
    const second = eater(2000, flow);
    second.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => buffersOf(second.got).length === 1);
    expect(names(second.got)).toEqual(['stream-start', 'caps', 'b7']);
    expect(second.got[0].text).toContain('s2');
    expect(flow.resumes).toBe(0);
  });

  it('does not flow on a replay of old buffers, nor on filler (GAP) or header buffers: only live media', async () => {
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
    feeder.frame(buffer(0));
    await new Promise((r) => setTimeout(r, 1000)); // the upstream is silent since
    const flow = new FeedFlow(200); // bound 800 ms until the cadence is known
    const stale = eater(200, flow);
    stale.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => buffersOf(stale.got).length === 1);
    const gap = (i: number, flags: number) => toFrame({ kind: 'buffer', pts: i * 1e7, dts: null, duration: 1e7, offset: null, offsetEnd: null, flags, data: Buffer.alloc(160, i) });
    const filler = setInterval(() => feeder.frame(gap(1, BUFFER_FLAG.GAP)), 20);
    feeder.frame(gap(2, BUFFER_FLAG.HEADER));
    await waitFor(() => stale.events.length === 1, 3000, 'the end of a connection that never flowed');
    clearInterval(filler);
    expect(stale.events).toEqual(['end: no media for 800 ms']);
    expect(buffersOf(stale.got).length).toBeGreaterThan(10);
    expect(flow.lastMediaAgoMs()).toBeGreaterThan(1000); // the replay is as old as the upstream said
    const live = eater(200, flow);
    live.conn.open('127.0.0.1', port, SECRET);
    await waitFor(() => feeder.clientCount === 1);
    expect(live.events).toEqual([]);
    feeder.frame(buffer(3));
    await waitFor(() => live.events.includes('flowing'));
    expect(flow.lastMediaAgoMs()).toBeLessThan(200);
  });
});
