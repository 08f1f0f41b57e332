// The station features as an operator meets them, on a real planet (a manager, two worker
// processes, a streamer with two sender processes and one without): listeners of each mount
// (a raw socket with a User-Agent, curl, ffmpeg) listed and kicked through the HTTP API and the
// CLI (the kicked one's connection closes, the others keep receiving), coded refusals, the
// audience in the status (peak, listener-seconds), metrics with one label scheme, and the
// Grafana dashboard in deploy/grafana referring only to metrics the manager really exposes.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { Manager } from '../../cli/manager-process';
import { checkPlanetText } from '../../actors/planet/check';
import { COMPONENT_TYPES } from '../../actors/components/registry';
import { runCliAsync } from '../helpers/cli';
import { get, rawRequest, RawResponse } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, freePort, run, waitForStatus } from '../helpers/planet';
import { ffmpegAvailable } from '../helpers/ffmpeg';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parsePrometheusTextFormat = require('parse-prometheus-text-format') as (text: string) => Array<{ name: string; type: string; metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: unknown }> }>;

jest.setTimeout(90000);

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function request(port: number, method: string, p: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers: { ...headers, ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const basic = { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_SECRET}`).toString('base64')}` };

interface Listener {
  id: string;
  address: string;
  userAgent: string;
  connectedSince: number;
  bytes: number;
}

/** A long-running client process (curl, ffmpeg) reading a stream. */
function client(cmd: string, args: string[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(cmd, args, { stdio: 'ignore' });
  return { child, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

describe('station features on a real planet', () => {
  let manager: Manager;
  let port: number;
  let streamerPort: number;
  let plainPort: number;
  const procs: Proc[] = [];
  const sockets: RawResponse[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    port = await freePort();
    streamerPort = await freePort();
    plainPort = await freePort();
    const text = `
name: station
manager: { host: 127.0.0.1, port: ${port}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET}, heartbeat-interval: 500, heartbeat-timeout: 2500 }
workers: [ { name: worker1 }, { name: worker2 } ]
flows:
  - name: default
    components:
      - { name: source, type: test-audio, worker: worker1 }
      - { name: encoder, type: mulaw-encoder, worker: worker1, eaters: { default: [source] } }
      - { name: muxer, type: wav-muxer, worker: worker2, eaters: { default: [encoder] } }
      - { name: streamer, type: http-streamer, worker: worker1, properties: { port: ${streamerPort}, mount-point: /live.wav, write-interval: 50, processes: 2 }, eaters: { default: [muxer] } }
      - { name: plain, type: http-streamer, worker: worker2, properties: { port: ${plainPort}, mount-point: /plain.wav, write-interval: 50 }, eaters: { default: [muxer] } }
`;
    const { planet, issues } = checkPlanetText(text, COMPONENT_TYPES);
    if (!planet) throw new Error(JSON.stringify(issues));
    manager = new Manager(planet, { host: '127.0.0.1', port, secret: SECRET, adminSecret: ADMIN_SECRET, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 2500, log: () => undefined });
    await manager.listen();
    for (const name of ['worker1', 'worker2']) procs.push(run(['worker', '--name', name, '--manager', `ws://127.0.0.1:${port}`, '--feed-port', '0']));
    await waitForStatus(port, (s) => s.components.every((c) => c.mood === 'happy'), 30000, 'all happy');
  });

  afterAll(async () => {
    for (const s of sockets.splice(0)) s.socket.destroy();
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await manager?.close();
  });

  async function listen(p: number, mount: string, agent: string): Promise<RawResponse> {
    const r = await rawRequest(p, get(mount, { 'User-Agent': agent }));
    sockets.push(r);
    return r;
  }

  const listeners = async (id: string): Promise<Listener[]> => (await request(port, 'GET', `/api/v1/components${id}/listeners`, basic)).json().listeners;

  it('lists a mount\'s listeners through the API (socket, curl, ffmpeg) and kicks one: its connection closes, the others keep receiving', async () => {
    const raw = await listen(streamerPort, '/live.wav', 'test-socket/1.0');
    const curl = client('curl', ['-s', '-A', 'curl-listener/1.0', '-o', '/dev/null', `http://127.0.0.1:${streamerPort}/live.wav`]);
    children.push(curl.child);
    const withFfmpeg = ffmpegAvailable() || !!process.env.CI;
    if (withFfmpeg) children.push(client('ffmpeg', ['-nostdin', '-loglevel', 'quiet', '-user_agent', 'ffmpeg-listener/1.0', '-i', `http://127.0.0.1:${streamerPort}/live.wav`, '-f', 'null', '-']).child);
    const n = withFfmpeg ? 3 : 2;
    let list: Listener[] = [];
    await waitFor(() => list.length === n, 20000, `${n} listeners listed`, async () => {
      list = await listeners('/default/streamer');
    });
    const r = await request(port, 'GET', '/api/v1/components/default/streamer/listeners', basic);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.json().total).toBe(n);
    expect(list.map((l) => l.userAgent).sort()).toEqual(['curl-listener/1.0', ...(withFfmpeg ? ['ffmpeg-listener/1.0'] : []), 'test-socket/1.0'].sort());
    for (const l of list) {
      expect(Object.keys(l).sort()).toEqual(['address', 'bytes', 'connectedSince', 'id', 'userAgent']);
      expect(l).toMatchObject({ address: '127.0.0.1', id: expect.stringMatching(/^[A-Za-z0-9_-]+$/) });
      expect(typeof l.bytes).toBe('number');
      expect(l.connectedSince).toBeGreaterThan(Date.now() - 60000);
    }
    expect(list.map((l) => l.connectedSince)).toEqual([...list.map((l) => l.connectedSince)].sort((a, b) => a - b));
    // Kick curl: it sees its connection end and exits; the raw socket keeps receiving.
    const victim = list.find((l) => l.userAgent === 'curl-listener/1.0') as Listener;
    const kicked = await request(port, 'DELETE', `/api/v1/components/default/streamer/listeners/${victim.id}`, basic);
    expect([kicked.status, kicked.json()]).toEqual([200, { ok: true }]);
    await curl.exited;
    const before = raw.body().length;
    await waitFor(() => raw.body().length > before + 16000, 10000, 'the raw socket still receiving');
    await waitFor(() => list.length === n - 1, 5000, 'the kicked one gone from the list', async () => {
      list = await listeners('/default/streamer');
    });
    expect(list.map((l) => l.id)).not.toContain(victim.id);
    // Gone already: 404 with a code.
    const again = await request(port, 'DELETE', `/api/v1/components/default/streamer/listeners/${victim.id}`, basic);
    expect([again.status, again.json().error.code]).toEqual([404, 'FLUX_HTTP_NO_SUCH_LISTENER']);
    let removed = 0;
    await waitFor(() => removed === 1, 5000, 'the kick counted as removed', async () => {
      removed = (await manager.status()).components.find((c) => c.name === 'streamer')?.details?.removed?.removed ?? 0;
    });
  });

  it('refuses with codes: unknown component 404, no listeners concept 409, bad or gone listener 404, wrong method 405, no credentials 401, no CSRF token 403', async () => {
    const unknown = await request(port, 'GET', '/api/v1/components/default/nope/listeners', basic);
    expect([unknown.status, unknown.json().error.code]).toEqual([404, 'FLUX_MANAGER_NO_SUCH_COMPONENT']);
    const muxer = await request(port, 'GET', '/api/v1/components/default/muxer/listeners', basic);
    expect([muxer.status, muxer.json().error.code]).toEqual([409, 'FLUX_MANAGER_NO_LISTENERS']);
    const bad = await request(port, 'DELETE', '/api/v1/components/default/streamer/listeners/not%20an%20id', basic);
    expect([bad.status, bad.json().error.code]).toEqual([404, 'FLUX_HTTP_NO_SUCH_LISTENER']);
    const malformed = await request(port, 'DELETE', '/api/v1/components/default/streamer/listeners/%E0%A4%A', basic);
    expect([malformed.status, malformed.json().error.code]).toEqual([400, 'FLUX_API_BAD_REQUEST']);
    const post = await request(port, 'POST', '/api/v1/components/default/streamer/listeners', basic);
    expect([post.status, post.json().error.code]).toEqual([405, 'FLUX_API_METHOD_NOT_ALLOWED']);
    expect((await request(port, 'GET', '/api/v1/components/default/streamer/listeners')).status).toBe(401);
    // The web admin's session: a DELETE needs its CSRF token, as POSTs do.
    await new Promise((r) => setTimeout(r, 300));
    const login = await request(port, 'POST', '/admin/login', { 'Content-Type': 'application/x-www-form-urlencoded' }, `secret=${encodeURIComponent(ADMIN_SECRET)}`);
    expect(login.status).toBe(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    const raw = await listen(plainPort, '/plain.wav', 'to-be-kicked');
    let list: Listener[] = [];
    await waitFor(() => list.some((l) => l.userAgent === 'to-be-kicked'), 10000, 'the plain listener', async () => {
      list = await listeners('/default/plain');
    });
    const id = list.find((l) => l.userAgent === 'to-be-kicked')?.id as string;
    const noToken = await request(port, 'DELETE', `/api/v1/components/default/plain/listeners/${id}`, { Cookie: cookie });
    expect([noToken.status, noToken.json().error.code]).toEqual([403, 'FLUX_API_FORBIDDEN']);
    expect((await request(port, 'GET', '/api/v1/components/default/plain/listeners', { Cookie: cookie })).status).toBe(200);
    const withToken = await request(port, 'DELETE', `/api/v1/components/default/plain/listeners/${id}`, { Cookie: cookie, 'X-CSRF-Token': login.json().csrf });
    expect(withToken.status).toBe(200);
    await raw.closed;
  });

  it('lists and kicks from the CLI (`component listeners [--json]`, `component kick`), and `status` shows the peak', async () => {
    const keep = await listen(plainPort, '/plain.wav', 'keeps-listening');
    const gone = await listen(plainPort, '/plain.wav', 'cli-kicked');
    const admin = ['--manager', `ws://127.0.0.1:${port}`, '--secret', ADMIN_SECRET];
    let json: { listeners: Listener[]; total: number } = { listeners: [], total: 0 };
    await waitFor(() => json.listeners.some((l) => l.userAgent === 'cli-kicked'), 10000, 'both listed by the CLI', async () => {
      const r = await runCliAsync(['component', 'listeners', '/default/plain', '--json', ...admin]);
      expect(r.status).toBe(0);
      json = JSON.parse(r.stdout);
    });
    expect(json.total).toBe(json.listeners.length);
    expect(json.listeners.find((l) => l.userAgent === 'keeps-listening')).toMatchObject({ address: '127.0.0.1' });
    const text = await runCliAsync(['component', 'listeners', '/default/plain', ...admin]);
    expect(text.stdout).toMatch(/^\/default\/plain: \d+ listener\(s\)\nID +ADDRESS +CONNECTED +BYTES +USER AGENT\n/);
    expect(text.stdout).toMatch(/127\.0\.0\.1 +\d+s +\d+ +cli-kicked\n/);
    const id = json.listeners.find((l) => l.userAgent === 'cli-kicked')?.id as string;
    const kick = await runCliAsync(['component', 'kick', '/default/plain', id, ...admin]);
    expect([kick.status, kick.stdout]).toEqual([0, `removed listener ${id} from /default/plain\n`]);
    await gone.closed;
    const before = keep.body().length;
    await waitFor(() => keep.body().length > before + 16000, 10000, 'the other still receiving');
    const again = await runCliAsync(['component', 'kick', '/default/plain', id, ...admin]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^error FLUX_HTTP_NO_SUCH_LISTENER: /);
    const muxer = await runCliAsync(['component', 'listeners', '/default/muxer', ...admin]);
    expect([muxer.status, muxer.stderr]).toEqual([1, 'error FLUX_MANAGER_NO_LISTENERS: /default/muxer is a wav-muxer: it has no listeners of its own\n']);
    const badId = await runCliAsync(['component', 'kick', '/default/plain', 'no spaces', ...admin]);
    expect(badId.status).toBe(1);
    expect(badId.stderr).toMatch(/^error FLUX_CLI_BAD_ARGUMENT: /);
    const status = await runCliAsync(['status', ...admin]);
    expect(status.stdout).toMatch(/http:\/\/127\.0\.0\.1:\d+\/plain\.wav {2}\d+ listener\(s\) \(peak \d+ at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\), \d+ kbit\/s out/);
  });

  it('reports the audience in the status: peak with its time, listener-seconds, titles', async () => {
    const s = await manager.status();
    const d = s.components.find((c) => c.name === 'streamer')?.details;
    expect(d).toMatchObject({ peakClients: expect.any(Number), peakTime: expect.any(Number), listenerSeconds: expect.any(Number), titles: [] });
    expect(d?.peakClients).toBeGreaterThanOrEqual(2);
    expect(d?.listenerSeconds).toBeGreaterThan(1);
  });

  describe('metrics', () => {
    let text = '';
    let families: Map<string, ReturnType<typeof parsePrometheusTextFormat>[number]>;

    beforeAll(async () => {
      const r = await request(port, 'GET', '/metrics', basic);
      expect(r.status).toBe(200);
      text = r.body;
      families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
    });

    it('labels every component metric with flow and component as the full /flow/name', () => {
      let seen = 0;
      for (const f of families.values()) {
        for (const m of f.metrics) {
          if (!m.labels?.component) continue;
          seen++;
          expect([f.name, m.labels.component]).toEqual([f.name, expect.stringMatching(/^\/[^/]+\/[^/]+$/)]);
          expect([f.name, m.labels.flow]).toEqual([f.name, m.labels.component.split('/')[1]]);
        }
      }
      expect(seen).toBeGreaterThan(20);
      const value = (name: string, labels: Record<string, string>) => families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
      const streamer = { flow: 'default', component: '/default/streamer', mount: '/live.wav' };
      expect(Number(value('fluxcast_http_clients_peak', streamer))).toBeGreaterThanOrEqual(2);
      expect(Number(value('fluxcast_http_listener_seconds_total', streamer))).toBeGreaterThan(1);
      expect(families.get('fluxcast_http_listener_seconds_total')?.type).toBe('COUNTER');
      expect(families.get('fluxcast_http_clients_peak')?.type).toBe('GAUGE');
      expect(value('fluxcast_component_mood', { flow: 'default', component: '/default/muxer', mood: 'happy', worker: 'worker2', type: 'wav-muxer' })).toBe('1');
      expect(value('fluxcast_http_clients_removed_total', { flow: 'default', component: '/default/streamer', reason: 'removed' })).toBe('1');
    });

    it('the Grafana dashboard parses and refers only to metrics the manager exposes', () => {
      const file = path.resolve(__dirname, '../../deploy/grafana/fluxcast.json');
      const dash = JSON.parse(fs.readFileSync(file, 'utf8')) as { panels: Array<{ panels?: unknown[]; targets?: Array<{ expr: string }> }>; templating: { list: Array<{ definition?: string }> } };
      const exprs: string[] = [];
      const walk = (ps: Array<{ panels?: unknown[]; targets?: Array<{ expr: string }> }>) => {
        for (const p of ps) {
          for (const t of p.targets ?? []) exprs.push(t.expr);
          walk((p.panels ?? []) as typeof ps);
        }
      };
      walk(dash.panels);
      for (const v of dash.templating.list) if (v.definition) exprs.push(v.definition);
      expect(exprs.length).toBeGreaterThan(15);
      // Every name a scrape has: families by their # TYPE line (histogram and summary series too).
      const exposed = new Set<string>();
      for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        exposed.add(name);
        if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exposed.add(name + s);
        if (type === 'summary') for (const s of ['_sum', '_count']) exposed.add(name + s);
      }
      const used = new Set(exprs.flatMap(metricNames));
      expect(used.size).toBeGreaterThan(15);
      for (const name of used) expect([name, exposed.has(name)]).toEqual([name, true]);
      for (const name of ['fluxcast_http_clients_peak', 'fluxcast_http_listener_seconds_total', 'fluxcast_http_clients']) expect(used).toContain(name);
      // And the parser finds what it should.
      expect(metricNames('sum by (mood, flow) (rate(a_total{x="b(c)", y=~"d|e"}[5m] offset 1h)) / on(flow) group_left b_metric unless label_values(c_metric, flow)')).toEqual(['a_total', 'b_metric', 'c_metric']);
    });
  });
});

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan']);

/** The metric names a PromQL expression (or a Grafana label_values() query) reads. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*(\([^)]*\))?/g, ' ') // grouping and matching, with their label lists
    .replace(/\boffset\s+\d+[smhdwy]/g, '');
  const names: string[] = [];
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice((m.index ?? 0) + m[0].length).trimStart();
    if (after.startsWith('(') || PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    // label_values(metric, label): the second argument is a label.
    const before = bare.slice(0, m.index).trimEnd();
    if (before.endsWith(',') && /label_values\([^)]*$/.test(before)) continue;
    names.push(m[0]);
  }
  return [...new Set(names)];
}
