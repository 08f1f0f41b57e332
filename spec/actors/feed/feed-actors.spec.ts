// Eater and feeder actors over real sockets: reconnection is the supervised restart of the
// eater actor (counted), a new upstream stream is passed on, failures keep their reasons, and
// a feeder pushes with feed-to through a push actor that is restarted the same way.
import { Ref, dispatch, start as startSystem, stop as stopSystem } from 'nact';
import { GdpFrame } from '../../../protocol/gdp';
import { FeedServer } from '../../../transport/feed/feed-server';
import { Feeder } from '../../../transport/feed/feeder';
import { EaterMsg, EaterRecord, eaterRecord, retireEater, spawnEater } from '../../../actors/feed/eater-actor';
import { FeederRecord, feederRecord, retireFeeder, spawnFeeder } from '../../../actors/feed/feeder-actor';
import { buffer, caps, streamStart } from '../../helpers/frames';
import { waitFor } from '../../helpers/net';
import { rawFeedServer } from '../../helpers/feed-server';

const SECRET = 'correct horse battery';
const FEED = '/default/source:default';

describe('eater and feeder actors', () => {
  let system: Ref<unknown>;
  let feeder: Feeder;
  let server: FeedServer;
  let port: number;
  const eaters: EaterRecord[] = [];
  const feeders: FeederRecord[] = [];
  let pushedTo: Ref<EaterMsg> | null = null;

  async function startServer(p = 0): Promise<void> {
    server = new FeedServer({ port: p, secret: SECRET }, {
      eat: (feed) => (feed === FEED ? (s) => void feeder.addEater(s) : null),
      feed: (feed) => (feed === FEED && pushedTo ? (s, leftover) => dispatch(pushedTo as Ref<EaterMsg>, { type: 'attach', socket: s, leftover }) : null),
    });
    port = await server.listen();
  }

  beforeEach(async () => {
    system = startSystem();
    feeder = new Feeder(FEED);
    await startServer();
  });

  afterEach(async () => {
    for (const e of eaters.splice(0)) retireEater(e);
    for (const f of feeders.splice(0)) retireFeeder(f);
    pushedTo = null;
    feeder.close();
    await server.close();
    stopSystem(system);
  });

  function eater(mode: 'eat-from' | 'feed-to' = 'eat-from', checkIntervalMs = 2000) {
    const got: GdpFrame[] = [];
    const events: string[] = [];
    const record = eaterRecord('default', FEED, mode);
    eaters.push(record);
    const ref = spawnEater(system, record, {
      secret: SECRET,
      checkIntervalMs,
      changed: () => undefined,
      sink: {
        frame: (_e, _f, frame) => got.push(frame),
        flowing: () => events.push('flowing'),
        stopped: (_e, _f, reason, note) => events.push(`stopped${note ? '' : ' (repeat)'}: ${reason}`),
      },
    }, 'eater');
    return { record, ref, got, events };
  }

  const primed = () => {
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
    feeder.frame(buffer(0));
  };

  it('reconnects when the upstream hangs up, as one supervised restart of the eater actor', async () => {
    primed();
    const e = eater();
    dispatch(e.ref, { type: 'target', host: '127.0.0.1', port });
    await waitFor(() => e.events.includes('flowing'));
    expect(e.record.intensity.restarts).toBe(0);
    feeder.sender.clear(); // the upstream drops the eater
    await waitFor(() => e.events.length === 3, 5000, 'flowing again');
    expect(e.events).toEqual(['flowing', 'stopped: hang-up', 'flowing']);
    expect(e.record.intensity.restarts).toBe(1);
    expect(e.record.state).toBe('flowing');
  });

  it('goes on dialing a restarted upstream and passes its new stream on', async () => {
    primed();
    const e = eater();
    dispatch(e.ref, { type: 'target', host: '127.0.0.1', port });
    await waitFor(() => e.events.includes('flowing'));
    feeder.close();
    await server.close();
    await waitFor(() => e.record.intensity.restarts >= 2, 5000, 'a few failed dials');
    expect(e.events.filter((x) => x.startsWith('stopped:')).length).toBeGreaterThanOrEqual(2);
    feeder = new Feeder(FEED);
    feeder.frame(streamStart('second'));
    feeder.frame(caps(16000));
    feeder.frame(buffer(1));
    await startServer(port);
    await waitFor(() => e.record.state === 'flowing', 5000, 'flowing from the new upstream');
    const starts = e.got.filter((g) => g.eventName === 'stream-start').map((g) => g.text);
    expect(starts[starts.length - 1]).toContain('second');
    expect(e.got.filter((g) => g.kind === 'caps').pop()?.text).toContain('rate=(int)16000');
  });

  it('keeps the reason of a failure before the first frame, and says a repeated failure once', async () => {
    const { server: raw, port: rawPort } = await rawFeedServer(SECRET, (s) => s.write(buffer(0).bytes));
    const e = eater();
    dispatch(e.ref, { type: 'target', host: '127.0.0.1', port: rawPort });
    await waitFor(() => e.events.length >= 2, 5000);
    expect(e.events[0]).toMatch(/^stopped: FLUX_GDP_BUFFER_BEFORE_CAPS/);
    expect(e.events[1]).toMatch(/^stopped \(repeat\): FLUX_GDP_BUFFER_BEFORE_CAPS/);
    raw.close();
  });

  it('stops for good when retired: no restart, connection closed', async () => {
    primed();
    const e = eater();
    dispatch(e.ref, { type: 'target', host: '127.0.0.1', port });
    await waitFor(() => feeder.clientCount === 1);
    retireEater(e.record);
    await waitFor(() => feeder.clientCount === 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(e.record.intensity.restarts).toBe(0);
    expect(e.record.state).toBe('stopped');
  });

  it('pushes a feed with feed-to, and pushes again after the downstream drops it', async () => {
    const e = eater('feed-to');
    pushedTo = e.ref;
    const record = feederRecord('default', FEED);
    feeders.push(record);
    const upstream = new Feeder(FEED);
    record.feeder = upstream;
    upstream.frame(streamStart('pushed'));
    upstream.frame(caps(8000));
    const ref = spawnFeeder(system, record, { secret: SECRET, changed: () => undefined }, 'feeder');
    dispatch(ref, { type: 'feed-to', host: '127.0.0.1', port });
    await waitFor(() => upstream.clientCount === 1, 5000, 'push connected');
    upstream.frame(buffer(0));
    await waitFor(() => e.got.some((g) => g.kind === 'buffer'));
    expect(e.got[0].text).toContain('pushed');
    const push = [...record.pushes.values()][0];
    expect(push.state).toBe('connected');
    retireEater(e.record); // the downstream side closes the pushed connection
    await waitFor(() => push.intensity.restarts >= 1, 5000, 'push restarted');
  });
});
