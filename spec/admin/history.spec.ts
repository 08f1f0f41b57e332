// The manager's short memory for its operators: the streamers' audience samples (a bounded ring
// per streamer, served at /api/v1/components/{flow}/{name}/history), the recent events (a
// bounded ring served at /api/v1/events/history, numbered like the SSE stream), the configured
// graph and the offered actions in the status. The rings alone, then a real manager with real
// worker processes and a real HTTP listener.
import * as http from 'http';
import { Manager } from '../../cli/manager-process';
import { SampleRing, StreamerSamples, SAMPLE_WINDOW_MS } from '../../actors/manager/samples';
import { componentActions } from '../../actors/manager/commands';
import { MOOD_NAMES } from '../../actors/component/mood';
import { checkPlanetText } from '../../actors/planet/check';
import { COMPONENT_TYPES } from '../../actors/components/registry';
import { EventHistory } from '../../admin/history';
import { PlanetEvent } from '../../admin/events';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, allHappy, freePort, run, seedPlanet, waitForStatus } from '../helpers/planet';

jest.setTimeout(60000);

const basic = { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_SECRET}`).toString('base64')}` };

function get(port: number, path: string, headers: Record<string, string> = basic, method = 'GET'): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the audience sample rings', () => {
  it('keep at most their capacity, oldest first, and answer what came after a time', () => {
    const ring = new SampleRing(3);
    for (let t = 1; t <= 5; t++) ring.push({ t, clients: t * 10, bitrateOut: t * 1000, mood: 'happy' });
    expect(ring.length).toBe(3);
    expect(ring.since().map((s) => s.t)).toEqual([3, 4, 5]);
    expect(ring.since(4)).toEqual([{ t: 5, clients: 50, bitrateOut: 5000, mood: 'happy' }]);
    expect(() => new SampleRing(0)).toThrow(RangeError);
  });

  it('hold 30 minutes of samples per streamer, zero while it does not run, and forget streamers that went', () => {
    const s = new StreamerSamples(10000);
    expect(s.capacity).toBe(SAMPLE_WINDOW_MS / 10000);
    const t0 = 1_795_000_000_000;
    for (let k = 0; k < 200; k++) {
      s.sample([
        { id: '/f/http', type: 'http-streamer', mood: 'happy', details: { clients: k, bitrateOut: 128000 } },
        { id: '/f/src', type: 'test-audio', mood: 'happy' },
      ], t0 + k * 10000);
    }
    const h = s.history('/f/http') ?? [];
    expect(h.length).toBe(180);
    expect(h[0]).toEqual({ t: t0 + 20 * 10000, clients: 20, bitrateOut: 128000, mood: 'happy' });
    expect(s.history('/f/src')).toBeNull();
    // Stopped: its last report is stale, the sample says nobody listens.
    s.sample([{ id: '/f/http', type: 'http-streamer', mood: 'sleeping', details: { clients: 7, bitrateOut: 1 } }], t0 + 200 * 10000);
    expect(s.history('/f/http', t0 + 199 * 10000)).toEqual([{ t: t0 + 200 * 10000, clients: 0, bitrateOut: 0, mood: 'sleeping' }]);
    s.sample([], t0 + 201 * 10000);
    expect(s.history('/f/http')).toBeNull();
  });

  it('derive an hls-streamer\'s bit rate from the bytes it served between two samples', () => {
    const s = new StreamerSamples(1000);
    const hls = (bytesServed: number) => [{ id: '/f/hls', type: 'hls-streamer', mood: 'happy' as const, details: { clients: 2, bytesServed } }];
    s.sample(hls(1000), 0);
    s.sample(hls(126000), 1000);
    s.sample(hls(500), 2000); // restarted: counts from 0 again
    expect((s.history('/f/hls') ?? []).map((x) => x.bitrateOut)).toEqual([0, 1_000_000, 0]);
  });
});

describe('the event history', () => {
  const mood = (id: string, m: string): PlanetEvent => ({ type: 'mood', id, mood: m, previous: null, actions: [], time: 1 });

  it('numbers every event and keeps the last lasting ones, oldest first', () => {
    const h = new EventHistory(3);
    h.add({ type: 'clients', id: '/f/s', clients: 1, bitrateOut: 0, time: 1 });
    for (const m of ['waking', 'happy', 'hungry', 'happy']) h.add(mood('/f/s', m));
    expect(h.last).toBe(5);
    expect(h.list().map((e) => [e.seq, e.type === 'mood' && e.mood])).toEqual([[3, 'happy'], [4, 'hungry'], [5, 'happy']]);
  });
});

describe('the actions offered per mood', () => {
  it('start from sleeping, lost or sad; stop unless sleeping; restart when running or sad', () => {
    expect(Object.fromEntries(MOOD_NAMES.map((m) => [m, componentActions(m)]))).toEqual({
      happy: ['stop', 'restart'],
      hungry: ['stop', 'restart'],
      waking: ['stop', 'restart'],
      sleeping: ['start'],
      lost: ['start', 'stop'],
      sad: ['start', 'stop', 'restart'],
    });
  });
});

describe('manager.sample-interval', () => {
  const planet = (v: string) => `manager: { secret: abcdefgh123abcdefgh, sample-interval: ${v} }\nworkers: [ { name: w1 } ]\n`;
  it('defaults to 10 s and is checked', () => {
    expect(checkPlanetText('manager: { secret: abcdefgh123abcdefgh }\nworkers: [ { name: w1 } ]\n', COMPONENT_TYPES).planet?.manager['sample-interval']).toBe(10000);
    expect(checkPlanetText(planet('250'), COMPONENT_TYPES).planet?.manager['sample-interval']).toBe(250);
    expect(checkPlanetText(planet('50'), COMPONENT_TYPES).issues).toEqual([{ path: 'manager.sample-interval', message: 'sample-interval is at least 100 ms' }]);
    expect(checkPlanetText(planet('1.5'), COMPONENT_TYPES).issues[0]).toMatchObject({ path: 'manager.sample-interval' });
    expect(checkPlanetText(planet('"10s"'), COMPONENT_TYPES).issues[0]).toMatchObject({ path: 'manager.sample-interval' });
  });
});

describe('the manager\'s history routes, with real workers', () => {
  let manager: Manager;
  let port: number;
  let httpPort: number;
  const procs: Proc[] = [];

  beforeAll(async () => {
    port = await freePort();
    httpPort = await freePort();
    const text = seedPlanet(port, httpPort).replace('heartbeat-timeout: 2500', 'heartbeat-timeout: 2500, sample-interval: 200');
    const { planet, issues } = checkPlanetText(text, COMPONENT_TYPES);
    if (!planet) throw new Error(JSON.stringify(issues));
    manager = new Manager(planet, { host: '127.0.0.1', port, secret: SECRET, adminSecret: ADMIN_SECRET, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 2500, log: () => undefined });
    await manager.listen();
    for (const name of ['worker1', 'worker2']) procs.push(run(['worker', '--name', name, '--manager', `ws://127.0.0.1:${port}`, '--feed-port', '0']));
    await waitForStatus(port, allHappy, 20000, 'all happy');
  });
  afterAll(async () => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await manager?.close();
  });

  it('gives the configured feeds and the offered actions in the status, also of a sleeping component', async () => {
    const before = await manager.status();
    const muxer = () => before.components.find((c) => c.id === '/default/muxer');
    expect(muxer()?.feeds).toEqual([{ eater: 'default', feedId: '/default/encoder:default', mode: 'eat-from', remote: false }]);
    expect(muxer()?.actions).toEqual(['stop', 'restart']);
    expect((await get(port, '/api/v1/components/default/muxer/stop', basic, 'POST')).status).toBe(200);
    const after = (await manager.status()).components.find((c) => c.id === '/default/muxer');
    expect(after).toMatchObject({ mood: 'sleeping', eaters: [], actions: ['start'], feeds: [{ eater: 'default', feedId: '/default/encoder:default', mode: 'eat-from', remote: false }] });
    expect((await get(port, '/api/v1/components/default/muxer/start', basic, 'POST')).status).toBe(200);
    await waitForStatus(port, allHappy, 15000, 'all happy again');
  });

  it('samples a streamer\'s listeners and bit rate every interval, served after a time on request', async () => {
    const listener = http.get({ host: '127.0.0.1', port: httpPort, path: '/live.wav' }, (res) => res.resume());
    try {
      let samples: Array<{ t: number; clients: number; bitrateOut: number; mood: string }> = [];
      await waitFor(() => samples.some((s) => s.clients === 1 && s.bitrateOut > 32000), 10000, 'a sample with the listener', async () => {
        const r = await get(port, '/api/v1/components/default/streamer/history');
        expect(r.status).toBe(200);
        expect(r.json.intervalMs).toBe(200);
        samples = r.json.samples;
      });
      const ts = samples.map((s) => s.t);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
      expect(ts[ts.length - 1] - ts[0]).toBeGreaterThanOrEqual((ts.length - 1) * 150); // one per interval, give or take timer jitter
      const last = ts[ts.length - 1];
      const newer = await get(port, `/api/v1/components/default/streamer/history?since=${last}`);
      expect(newer.json.samples.every((s: { t: number }) => s.t > last)).toBe(true);
    } finally {
      listener.destroy();
    }
  });

  it('refuses a bad `since`, an unknown component and a component that is no streamer, with coded errors', async () => {
    const bad = await get(port, '/api/v1/components/default/streamer/history?since=yesterday');
    expect(bad).toEqual({ status: 400, json: { error: { code: 'FLUX_API_BAD_REQUEST', message: "since: a time in ms since the epoch (digits only), not 'yesterday'" } } });
    expect((await get(port, '/api/v1/components/default/nope/history')).json.error.code).toBe('FLUX_MANAGER_NO_SUCH_COMPONENT');
    const source = await get(port, '/api/v1/components/default/source/history');
    expect(source).toEqual({ status: 404, json: { error: { code: 'FLUX_API_NOT_FOUND', message: '/default/source is no streamer: it keeps no listener history' } } });
    expect((await get(port, '/api/v1/components/default/streamer/history', {})).status).toBe(401);
    expect((await get(port, '/api/v1/events/history', {})).json.error.code).toBe('FLUX_API_UNAUTHORIZED');
    expect((await get(port, '/api/v1/components/default/streamer/history', basic, 'POST')).status).toBe(405);
  });

  it('keeps the commands (from the API and the CLI), moods and worker logins in its event history, numbered as on the event stream', async () => {
    const sse: string[] = [];
    const stream = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', headers: basic }, (res) => res.on('data', (d: Buffer) => sse.push(d.toString())));
    try {
      await waitFor(() => sse.join('').includes('event: status'), 5000, 'the event stream');
      expect((await get(port, '/api/v1/components/default/source/stop', basic, 'POST')).status).toBe(200);
      // The encoder's feed stops flowing: an event of its own (the web admin's arrows turn grey).
      await waitFor(() => /event: feed\ndata: \{"type":"feed","id":"\/default\/encoder","feedId":"\/default\/source:default","flowing":false/.test(sse.join('')), 5000, 'the feed event');
      const cli = run(['component', 'start', '/default/source', '--manager', `ws://127.0.0.1:${port}`]);
      expect(await cli.exited).toBe(0);
      await waitForStatus(port, allHappy, 15000, 'all happy again');
      await waitFor(() => /event: feed\ndata: \{"type":"feed","id":"\/default\/encoder","feedId":"\/default\/source:default","flowing":true/.test(sse.join('')), 5000, 'the feed flowing again');
      let events: PlanetEvent[] = [];
      const startSeq = () => events.find((e) => e.type === 'command' && e.action === 'start' && e.id === '/default/source' && e.ok)?.seq ?? Infinity;
      await waitFor(() => events.some((e) => e.type === 'mood' && e.id === '/default/source' && e.mood === 'happy' && (e.seq ?? 0) > startSeq()), 5000, 'the source happy again', async () => {
        events = (await get(port, '/api/v1/events/history')).json.events;
      });
      const seqs = events.map((e) => e.seq ?? 0);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(events.filter((e) => e.type === 'worker' && e.state === 'connected').map((e) => e.type === 'worker' && e.name).sort()).toEqual(['worker1', 'worker2']);
      expect(events.some((e) => e.type === 'clients' || e.type === 'message' || e.type === 'feed')).toBe(false);
      // (waking may pass within one gathering of changes: it is not asked for)
      const mine = events.filter((e) => 'id' in e && e.id === '/default/source' && (e.type === 'command' || (e.type === 'mood' && e.mood !== 'waking'))).slice(-4);
      expect(mine.map((e) => (e.type === 'command' ? `${e.action} ${e.ok}` : e.type === 'mood' ? e.mood : ''))).toEqual(['stop true', 'sleeping', 'start true', 'happy']);
      // The stream carries the same numbers.
      const stop = mine[0];
      await waitFor(() => sse.join('').includes(`"seq":${stop.seq}}`), 2000, 'the numbered stop on the stream');
      expect(sse.join('')).toMatch(new RegExp(`event: command\\ndata: \\{"type":"command","id":"/default/source","action":"stop","ok":true,"message":"stop /default/source: done","time":\\d+,"seq":${stop.seq}\\}`));
    } finally {
      stream.destroy();
    }
  });
});
