// A component's mood driven by a real eater (its supervisor, its connection over a real socket to
// a real feeder), sampled every 100 ms: a sparse feed whose pages come further apart than the
// check interval never makes it flap once the cadence is learned (10 minutes of a
// liquidsoap-like feed, scaled: the check interval and the gaps ten times shorter for 60 s), and
// filler (GAP buffers) keeps it hungry however much of it flows, until media flows again.
import { BUFFER_FLAG, GdpFrame, toFrame } from '../../../protocol/gdp';
import { FeedServer } from '../../../transport/feed/feed-server';
import { Feeder } from '../../../transport/feed/feeder';
import { ChildSpec, Root, startRoot } from '../../../actors/supervision';
import { ComponentPort } from '../../../actors/component/component-port';
import { Component } from '../../../actors/component/component';
import { Mood } from '../../../actors/component/mood';
import { FeedDirectory } from '../../../actors/worker/feed-directory';
import { eatersSpec } from '../../../actors/feed/eaters-supervisor';
import { caps, streamStart } from '../../helpers/frames';
import { waitFor } from '../../helpers/net';

jest.setTimeout(120000);

const SECRET = 'correct horse battery';
const FEED = '/default/source:default';

class Sink extends Component {
  protected async setup(): Promise<void> {}
  protected async teardown(): Promise<void> {}
}

/** A 4 KiB Ogg-page-like buffer (a keyframe), or filler. */
const page = (i: number, flags = 0): GdpFrame => toFrame({ kind: 'buffer', pts: i * 1.7e9, dts: null, duration: 1.7e9, offset: null, offsetEnd: null, flags, data: Buffer.alloc(4096, i % 256) });

describe('moods driven by real eaters', () => {
  let feeder: Feeder;
  let server: FeedServer;
  let port: number;
  let root: Root | null = null;

  beforeEach(async () => {
    feeder = new Feeder(FEED);
    server = new FeedServer({ port: 0, secret: SECRET }, { eat: (feed) => (feed === FEED ? (s, _l, r) => void feeder.addEater(s, r) : null), feed: () => null });
    port = await server.listen();
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
  });
  afterEach(async () => {
    await root?.stop();
    root = null;
    feeder.close();
    await server.close();
  });

  /** A started component whose one eater eats FEED with this check interval; every mood change recorded. */
  async function component(checkIntervalMs: number) {
    const c = new Sink('sink', {});
    c.addFeed('default', FEED);
    const moods: Mood[] = [];
    const p = new ComponentPort(
      (n) => (n.type === 'feed-up' ? c.feedConnected(n.eater, n.feed) : c.feedDisconnected(n.eater, n.feed)),
      () => undefined,
    );
    p.plugCore(c, () => undefined);
    await c.start();
    c.on('mood', (m) => moods.push(m));
    p.ready = true;
    root = startRoot([eatersSpec({ feeds: [{ eater: 'default', feed: FEED, mode: 'eat-from' }], targets: new Map([[FEED, { host: '127.0.0.1', port }]]), port: p, deps: { secret: SECRET, checkIntervalMs, directory: new FeedDirectory() } }) as ChildSpec], {
      id: 'test',
      log: () => undefined,
      gaveUp: () => undefined,
    });
    const restarts = () => root!.tree().children[0]?.children[0]?.restarts ?? -1;
    return { c, moods, restarts };
  }

  /** The mood every `everyMs` for `ms`. */
  async function sample(c: Component, ms: number, everyMs: number): Promise<Mood[]> {
    const out: Mood[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      out.push(c.mood);
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return out;
  }

  it('makes no hungry transition in 10 minutes of pages 1.7 s apart (scaled ten times: 150 ms check interval, pages 170 ms apart, 60 s)', async () => {
    const { c, moods, restarts } = await component(150);
    let i = 0;
    const pump = setInterval(() => feeder.frame(page(i++)), 170);
    try {
      await waitFor(() => c.mood === 'happy', 5000, 'happy');
      const seen = sample(c, 60000, 10); // "every 100 ms", scaled
      const got = await seen;
      expect(got.filter((m) => m !== 'happy')).toEqual([]);
      expect(moods).toEqual(['happy']);
      expect(restarts()).toBe(0);
      expect(i).toBeGreaterThan(300); // 10 simulated minutes of pages went through
    } finally {
      clearInterval(pump);
    }
  });

  it('stays hungry while only filler (GAP buffers) flows, and turns happy when media does', async () => {
    const { c } = await component(200);
    let i = 0;
    let flags: number = BUFFER_FLAG.GAP;
    const pump = setInterval(() => feeder.frame(page(i++, flags)), 20);
    try {
      const got = await sample(c, 3000, 100);
      expect(got.filter((m) => m !== 'hungry')).toEqual([]);
      expect(i).toBeGreaterThan(100);
      flags = 0;
      await waitFor(() => c.mood === 'happy', 2000, 'happy on media');
      flags = BUFFER_FLAG.GAP; // a component bridging a gap with filler: hungry again within the bound
      const t0 = Date.now();
      await waitFor(() => c.mood === 'hungry', 3000, 'hungry on filler');
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      clearInterval(pump);
    }
  });
});
