// Eater and feeder actors under their supervisors, over real sockets: reconnection is the
// supervised restart of the eater (counted in the live tree) and resumes after the last buffer
// forwarded (eat-from and feed-to alike), a reconnection is never data, a new upstream stream is
// passed on, failures keep their reasons, an upstream that moves is dialed at once, and a feeder
// pushes with feed-to through a push actor that is restarted the same way.
import { execFileSync } from 'child_process';
import { GdpFrame } from '../../../protocol/gdp';
import { FeedServer } from '../../../transport/feed/feed-server';
import { Feeder } from '../../../transport/feed/feeder';
import { ChildSpec, Root, TreeNode, startRoot, viewOf } from '../../../actors/supervision';
import { EaterView } from '../../../actors/feed/eater-actor';
import { ComponentPort, FeedNews } from '../../../actors/component/component-port';
import { Component } from '../../../actors/component/component';
import { FeedDirectory } from '../../../actors/worker/feed-directory';
import { eatersSpec } from '../../../actors/feed/eaters-supervisor';
import { feedersSpec } from '../../../actors/feed/feeder-actor';
import { buffer, caps, streamStart } from '../../helpers/frames';
import { waitFor } from '../../helpers/net';
import { rawFeedServer } from '../../helpers/feed-server';

const SECRET = 'correct horse battery';
const FEED = '/default/source:default';

/** A component that records what its eaters deliver. */
class Recorder extends Component {
  readonly got: GdpFrame[] = [];
  protected async setup(): Promise<void> {}
  protected async teardown(): Promise<void> {}
  protected override onFrame(_e: string, _f: string, frame: GdpFrame): void {
    this.got.push(frame);
  }
}

const node = (t: TreeNode | undefined, path: string[]): TreeNode | undefined => {
  let n = t;
  for (const id of path) n = n?.children.find((c) => c.id === id);
  return n;
};

describe('eater and feeder actors', () => {
  let feeder: Feeder;
  let server: FeedServer;
  let port: number;
  let directory: FeedDirectory;
  const roots: Root[] = [];

  async function startServer(p = 0): Promise<void> {
    server = new FeedServer({ port: p, secret: SECRET }, {
      eat: (feed) => (feed === FEED ? (s, _l, r) => void feeder.addEater(s, r) : directory.eaterArrives(feed)),
      feed: (feed) => directory.pushArrives(feed),
    });
    port = await server.listen();
  }

  beforeEach(async () => {
    feeder = new Feeder(FEED);
    directory = new FeedDirectory();
    await startServer();
  });

  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => r.stop()));
    feeder.close();
    await server.close();
  });

  /** An eaters supervisor with one eater of FEED, its port open, news and frames recorded. */
  function eaters(mode: 'eat-from' | 'feed-to' = 'eat-from', checkIntervalMs = 2000) {
    const news: string[] = [];
    const component = new Recorder('recorder', {});
    const port = new ComponentPort(
      (n: FeedNews) => news.push(n.type === 'feed-up' ? 'flowing' : `stopped${n.note ? '' : ' (repeat)'}: ${n.reason}`),
      () => undefined,
    );
    port.plugCore(component, () => undefined);
    port.ready = true;
    const root = startRoot([eatersSpec({ feeds: [{ eater: 'default', feed: FEED, mode }], targets: new Map(), port, deps: { secret: SECRET, checkIntervalMs, directory } }) as ChildSpec], {
      id: 'test',
      log: () => undefined,
      gaveUp: () => undefined,
    });
    roots.push(root);
    const eater = () => node(root.tree(), ['eaters', FEED]);
    const target = (p: number) => root.send('eaters', { type: 'target', feed: FEED, target: { host: '127.0.0.1', port: p } });
    return { root, news, got: component.got, eater, target };
  }

  const primed = () => {
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
    feeder.frame(buffer(0));
  };

  it('reconnects when the upstream hangs up, as one supervised restart of the eater, and resumes without a buffer twice', async () => {
    primed();
    let i = 1;
    const pump = setInterval(() => feeder.frame(buffer(i++ % 256)), 10);
    try {
      const e = eaters();
      e.target(port);
      await waitFor(() => e.news.includes('flowing'));
      expect(e.eater()?.restarts).toBe(0);
      feeder.sender.clear(); // the upstream drops the eater
      await waitFor(() => e.news.length === 3, 5000, 'flowing again');
      expect(e.news).toEqual(['flowing', 'stopped: hang-up', 'flowing']);
      expect(e.eater()).toMatchObject({ restarts: 1, state: 'running', lastCrash: { reason: 'hang-up' } });
      const seen = e.got.filter((g) => g.kind === 'buffer').length;
      await waitFor(() => e.got.filter((g) => g.kind === 'buffer').length > seen + 10);
      // One stream-start (no priming again), and every buffer once, in order, none missing.
      expect(e.got.filter((g) => g.eventName === 'stream-start').length).toBe(1);
      const values = e.got.filter((g) => g.kind === 'buffer').map((g) => g.payload[0]);
      values.forEach((v, k) => k > 0 && expect(v).toBe((values[k - 1] + 1) % 256));
    } finally {
      clearInterval(pump);
    }
  });

  it('never counts a reconnection as data: an eater of a silent upstream stays down across its redials', async () => {
    primed(); // one buffer, then silence
    await new Promise((r) => setTimeout(r, 500));
    const e = eaters('eat-from', 100); // bound 400 ms until the cadence is known
    e.target(port);
    await waitFor(() => (e.eater()?.restarts ?? 0) >= 4, 10000, 'a few redials');
    expect(e.news.includes('flowing')).toBe(false);
    expect(e.news[0]).toBe('stopped: no media for 400 ms');
    // The silence clock is the upstream's last buffer, not the last connection.
    const view = viewOf<EaterView>(e.eater(), 'eater');
    expect(view?.lastDataAgoMs).toBeGreaterThan(1500);
    expect(view?.state).not.toBe('flowing');
    feeder.frame(buffer(1));
    await waitFor(() => e.news.includes('flowing'), 3000, 'flowing once a buffer comes');
  });

  it('goes on dialing a restarted upstream and passes its new stream on', async () => {
    primed();
    const e = eaters();
    e.target(port);
    await waitFor(() => e.news.includes('flowing'));
    feeder.close();
    await server.close();
    await waitFor(() => (e.eater()?.restarts ?? 0) >= 2, 5000, 'a few failed dials');
    expect(e.news.filter((x) => x.startsWith('stopped')).length).toBeGreaterThanOrEqual(2);
    feeder = new Feeder(FEED);
    feeder.frame(streamStart('second'));
    feeder.frame(caps(16000));
    feeder.frame(buffer(1));
    await startServer(port);
    await waitFor(() => e.news[e.news.length - 1] === 'flowing', 5000, 'flowing from the new upstream');
    const starts = e.got.filter((g) => g.eventName === 'stream-start').map((g) => g.text);
    expect(starts[starts.length - 1]).toContain('second');
    expect(e.got.filter((g) => g.kind === 'caps').pop()?.text).toContain('rate=(int)16000');
  });

  it('keeps the reason of a failure before the first frame, and says a repeated failure once', async () => {
    const { server: raw, port: rawPort } = await rawFeedServer(SECRET, (s) => s.write(buffer(0).bytes));
    const e = eaters();
    e.target(rawPort);
    await waitFor(() => e.news.length >= 2, 5000);
    expect(e.news[0]).toMatch(/^stopped: FLUX_GDP_BUFFER_BEFORE_CAPS/);
    expect(e.news[1]).toMatch(/^stopped \(repeat\): FLUX_GDP_BUFFER_BEFORE_CAPS/);
    raw.close();
  });

  it('dials an upstream that moved at once, whatever backoff the eater was waiting out', async () => {
    primed();
    const e = eaters();
    const dead = await new Promise<number>((resolve) => {
      const s = require('net').createServer(); // eslint-disable-line @typescript-eslint/no-require-imports
      s.listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    e.target(dead);
    await waitFor(() => (e.eater()?.restarts ?? 0) >= 5, 10000, 'the backoff grown');
    const t0 = Date.now();
    e.target(port);
    await waitFor(() => e.news[e.news.length - 1] === 'flowing', 2000, 'flowing from the new place');
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('stops for good when its supervisor ends: no restart, connection closed', async () => {
    primed();
    const e = eaters();
    e.target(port);
    await waitFor(() => feeder.clientCount === 1 && e.news.includes('flowing'));
    expect(e.eater()?.restarts).toBe(0);
    await e.root.stop();
    await waitFor(() => feeder.clientCount === 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(feeder.clientCount).toBe(0);
    expect(e.news).toEqual(['flowing']);
    expect(e.root.tree().children[0]).toMatchObject({ id: 'eaters', state: 'stopped' });
  });

  it('pushes a feed with feed-to, and pushes again after the downstream drops it', async () => {
    const down = eaters('feed-to');
    const port2 = new ComponentPort(() => undefined, () => undefined);
    const root = startRoot([feedersSpec({ feeders: [{ name: 'default', feed: FEED }], pushes: new Map(), port: port2, deps: { secret: SECRET, directory } }) as ChildSpec], { id: 'up', log: () => undefined, gaveUp: () => undefined });
    roots.push(root);
    port2.output('default', streamStart('pushed'));
    port2.output('default', caps(8000));
    root.send('feeders', { type: 'feed-to', feeder: 'default', host: '127.0.0.1', port });
    const push = () => node(root.tree(), ['feeders', 'feeder default', `push 127.0.0.1:${port}`]);
    await waitFor(() => push()?.state === 'running', 5000, 'push started');
    port2.output('default', buffer(0));
    await waitFor(() => down.got.some((g) => g.kind === 'buffer'), 5000, 'a pushed buffer');
    expect(down.got[0].text).toContain('pushed');
    await down.root.stop(); // the downstream side closes the pushed connection
    await waitFor(() => (push()?.restarts ?? 0) >= 1, 5000, 'push restarted');
  });

  it('resumes a pushed feed (feed-to) after the last buffer the eater forwarded when the push is dialed again', async () => {
    const down = eaters('feed-to');
    const port2 = new ComponentPort(() => undefined, () => undefined);
    const root = startRoot([feedersSpec({ feeders: [{ name: 'default', feed: FEED }], pushes: new Map(), port: port2, deps: { secret: SECRET, directory } }) as ChildSpec], { id: 'up', log: () => undefined, gaveUp: () => undefined });
    roots.push(root);
    port2.output('default', streamStart('pushed'));
    port2.output('default', caps(8000));
    root.send('feeders', { type: 'feed-to', feeder: 'default', host: '127.0.0.1', port });
    const push = () => node(root.tree(), ['feeders', 'feeder default', `push 127.0.0.1:${port}`]);
    await waitFor(() => push()?.state === 'running', 5000, 'push started');
    let i = 0;
    const pump = setInterval(() => port2.output('default', buffer(i++ % 256)), 10);
    try {
      await waitFor(() => down.news.includes('flowing'), 5000, 'flowing');
      // The pushed connection is cut from outside: the push is dialed again, the eater says where it stands.
      const restarts = push()!.restarts;
      const before = down.got.filter((g) => g.kind === 'buffer').length;
      execFileSync('ss', ['-K', 'dst', '127.0.0.1', 'dport', '=', `:${port}`], { stdio: 'pipe' });
      await waitFor(() => (push()?.restarts ?? 0) > restarts, 5000, 'push dialed again');
      await waitFor(() => down.got.filter((g) => g.kind === 'buffer').length > before + 20, 5000, 'buffers again');
      expect(down.got.filter((g) => g.eventName === 'stream-start').length).toBe(1);
      const values = down.got.filter((g) => g.kind === 'buffer').map((g) => g.payload[0]);
      values.forEach((v, k) => k > 0 && expect(v).toBe((values[k - 1] + 1) % 256));
      const view = viewOf<EaterView>(down.eater(), 'eater');
      expect(view?.resumes).toBeGreaterThanOrEqual(1);
    } finally {
      clearInterval(pump);
    }
  });
});
