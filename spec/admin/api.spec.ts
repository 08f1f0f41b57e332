// The operator's surface on the manager's port, through real HTTP: authentication (Basic, the
// login form's session cookie and CSRF token, slowed failed logins), /status.json (401, or the
// public subset), the API's reads and actions with coded JSON refusals, the live event stream,
// and /metrics read by a real Prometheus text parser. Workers are real processes.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { Manager } from '../../cli/manager-process';
import { checkPlanetText } from '../../actors/planet/check';
import { COMPONENT_TYPES } from '../../actors/components/registry';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, allHappy, freePort, moods, run, seedPlanet, waitForStatus } from '../helpers/planet';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parsePrometheusTextFormat = require('parse-prometheus-text-format') as (text: string) => Array<{ name: string; type: string; help: string; metrics: Array<{ value?: string; labels?: Record<string, string> }> }>;

jest.setTimeout(60000);

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function request(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const basic = (secret = ADMIN_SECRET) => ({ Authorization: `Basic ${Buffer.from(`admin:${secret}`).toString('base64')}` });

describe('the manager\'s HTTP API, events and metrics', () => {
  let manager: Manager;
  let port: number;
  const procs: Proc[] = [];
  const logs: string[] = [];

  async function boot(extra: Partial<{ publicStatus: boolean }> = {}): Promise<void> {
    port = await freePort();
    const text = seedPlanet(port, await freePort()).replace('heartbeat-timeout: 2500', `heartbeat-timeout: 2500, public-status: ${extra.publicStatus ? 'true' : 'false'}`);
    const { planet, issues } = checkPlanetText(text, COMPONENT_TYPES);
    if (!planet) throw new Error(JSON.stringify(issues));
    manager = new Manager(planet, { host: '127.0.0.1', port, secret: SECRET, adminSecret: ADMIN_SECRET, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 2500, log: (l) => logs.push(l) });
    await manager.listen();
  }

  function workers(): void {
    for (const name of ['worker1', 'worker2']) procs.push(run(['worker', '--name', name, '--manager', `ws://127.0.0.1:${port}`, '--feed-port', '0']));
  }

  afterEach(async () => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await manager?.close();
  });

  it('asks for the admin secret everywhere: 401 with a coded JSON error, never the workers\' secret', async () => {
    await boot();
    for (const path of ['/status.json', '/api/v1/planet', '/api/v1/events', '/metrics']) {
      const r = await request(port, 'GET', path);
      expect(r.status).toBe(401);
      expect(r.json().error.code).toBe('FLUX_API_UNAUTHORIZED');
      expect(r.headers['www-authenticate']).toMatch(/^Basic realm="fluxcast admin"/);
    }
    expect((await request(port, 'GET', '/api/v1/planet', basic(SECRET))).status).toBe(401); // a worker secret is no admin secret
    expect((await request(port, 'GET', '/api/v1/planet', basic())).status).toBe(200);
    const r = await request(port, 'POST', '/api/v1/components/default/nope/start', basic());
    expect(r.status).toBe(404);
    expect(r.json()).toEqual({ error: { code: 'FLUX_MANAGER_NO_SUCH_COMPONENT', message: 'no component /default/nope' } });
    const missing = await request(port, 'GET', '/api/v1/nothing', basic());
    expect(missing.status).toBe(404);
    expect(missing.json().error.code).toBe('FLUX_API_NOT_FOUND');
  });

  it('serves only names, moods and listener counts at /status.json when public-status is on', async () => {
    await boot({ publicStatus: true });
    const r = await request(port, 'GET', '/status.json');
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({
      planet: 'seed',
      flows: [{ name: 'default', components: [
        { name: 'source', mood: 'sleeping' }, { name: 'encoder', mood: 'sleeping' }, { name: 'muxer', mood: 'sleeping' }, { name: 'streamer', mood: 'sleeping' },
      ] }],
    });
    expect(r.body).not.toMatch(/worker|pid|port|host|messages/);
  });

  it('logs in through the form with an HttpOnly, SameSite=Strict cookie; POSTs need the CSRF token; failures slow down', async () => {
    await boot();
    const form = (secret: string) => request(port, 'POST', '/admin/login', { 'Content-Type': 'application/x-www-form-urlencoded' }, `secret=${encodeURIComponent(secret)}`);
    const bad = await form('wrong-wrong-wrong-wrong');
    expect(bad.status).toBe(401);
    const soon = await form(ADMIN_SECRET); // the same address again at once: slowed down
    expect(soon.status).toBe(429);
    expect(soon.json().error.code).toBe('FLUX_API_TOO_MANY_ATTEMPTS');
    await new Promise((r) => setTimeout(r, 300));
    const ok = await form(ADMIN_SECRET);
    expect(ok.status).toBe(200);
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toMatch(/^fluxcast_session=[0-9a-f]{48}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
    const session = cookie.split(';')[0];
    const csrf = ok.json().csrf as string;
    expect((await request(port, 'GET', '/api/v1/planet', { Cookie: session })).status).toBe(200);
    const noToken = await request(port, 'POST', '/api/v1/components/default/source/stop', { Cookie: session });
    expect(noToken.status).toBe(403);
    expect(noToken.json().error.code).toBe('FLUX_API_FORBIDDEN');
    const withToken = await request(port, 'POST', '/api/v1/components/default/source/stop', { Cookie: session, 'X-CSRF-Token': csrf });
    expect(withToken.status).toBe(200);
  });

  it('reads and acts on components, and streams every change as Server-Sent Events', async () => {
    await boot();
    const seen: string[] = [];
    const sse = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', headers: basic() }, (res) => {
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      res.on('data', (d: Buffer) => seen.push(d.toString()));
    });
    try {
      workers();
      await waitForStatus(port, allHappy, 20000, 'all happy');
      await waitFor(() => /event: mood\ndata: \{"type":"mood","id":"\/default\/streamer","mood":"happy"/.test(seen.join('')), 5000, 'the happy streamer as an event');
      expect(seen.join('')).toMatch(/event: status\ndata: \{"planet":"seed"/);
      expect(seen.join('')).toMatch(/event: worker\ndata: \{"type":"worker","name":"worker1","state":"connected"/);
      const one = await request(port, 'GET', '/api/v1/components/default/streamer', basic());
      expect(one.json()).toMatchObject({ id: '/default/streamer', mood: 'happy', type: 'http-streamer', messages: expect.arrayContaining([expect.objectContaining({ text: expect.stringMatching(/^streaming at http/) })]) });
      const refused = await request(port, 'POST', '/api/v1/components/default/streamer/start', basic());
      expect(refused.status).toBe(409);
      expect(refused.json().error.code).toBe('FLUX_MANAGER_BAD_STATE');
      const t0 = Date.now();
      const stop = await request(port, 'POST', '/api/v1/components/default/muxer/stop', basic());
      expect(stop.json()).toEqual({ ok: true, message: 'stop /default/muxer: done' });
      await waitFor(() => /"id":"\/default\/muxer","mood":"sleeping"/.test(seen.join('')) && /"id":"\/default\/streamer","mood":"hungry"/.test(seen.join('')), 5000, 'the events of the stop');
      expect(Date.now() - t0).toBeLessThan(3000);
      expect((await request(port, 'POST', '/api/v1/components/default/muxer/start', basic())).status).toBe(200);
      await waitForStatus(port, allHappy, 15000, 'all happy again');
    } finally {
      sse.destroy();
    }
  });

  const PROMETHEUS = ['/usr/bin/prometheus'].find((f) => fs.existsSync(f));
  (PROMETHEUS || process.env.CI ? it : it.skip)('is scraped by a real Prometheus server with Basic auth', async () => {
    if (!PROMETHEUS) throw new Error('prometheus is required in CI (apt-get install prometheus)');
    await boot();
    workers();
    await waitForStatus(port, allHappy, 20000, 'all happy');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-prom-'));
    const webPort = await freePort();
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s, scrape_timeout: 900ms }',
      'scrape_configs:',
      '  - job_name: fluxcast',
      `    basic_auth: { username: admin, password: ${ADMIN_SECRET} }`,
      `    static_configs: [ { targets: ["127.0.0.1:${port}"] } ]`,
      '',
    ].join('\n'));
    const prom = spawn(PROMETHEUS, [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=127.0.0.1:${webPort}`], { stdio: 'ignore' });
    try {
      const query = async (q: string) => {
        const r = await request(webPort, 'GET', `/api/v1/query?query=${encodeURIComponent(q)}`).catch(() => null);
        return r?.status === 200 ? (r.json().data.result as Array<{ metric: Record<string, string>; value: [number, string] }>) : [];
      };
      let up: Awaited<ReturnType<typeof query>> = [];
      await waitFor(() => up.length > 0 && up[0].value[1] === '1', 20000, 'a successful scrape', async () => {
        up = await query('up{job="fluxcast"}');
      });
      const happy = await query('fluxcast_component_mood{flow="default",component="/default/streamer",mood="happy"}');
      expect(happy[0].value[1]).toBe('1');
      const connected = await query('fluxcast_worker_connected');
      expect(connected.map((r) => [r.metric.worker, r.value[1]]).sort()).toEqual([['worker1', '1'], ['worker2', '1']]);
    } finally {
      prom.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves Prometheus metrics for the whole planet, read by a Prometheus text parser', async () => {
    await boot();
    workers();
    await waitForStatus(port, (s) => allHappy(s) && s.components.find((c) => c.name === 'streamer')?.details?.clients !== undefined, 20000, 'all happy');
    const r = await request(port, 'GET', '/metrics', basic());
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = new Map(parsePrometheusTextFormat(r.body).map((f) => [f.name, f]));
    const value = (name: string, labels: Record<string, string>) => families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
    expect(value('fluxcast_component_mood', { flow: 'default', component: '/default/streamer', mood: 'happy' })).toBe('1');
    expect(value('fluxcast_component_mood', { flow: 'default', component: '/default/streamer', mood: 'hungry' })).toBe('0');
    expect(families.get('fluxcast_component_restarts_total')?.type).toBe('COUNTER');
    expect(value('fluxcast_worker_connected', { worker: 'worker2' })).toBe('1');
    // Whatever reconnections the start-up took, the metric says what the status says.
    const feedRestarts = (await manager.status()).components.find((c) => c.name === 'streamer')?.eaters[0].feeds[0].restarts;
    expect(value('fluxcast_eater_reconnects_total', { component: '/default/streamer', feed: '/default/muxer:default' })).toBe(String(feedRestarts));
    expect(Number(value('fluxcast_feed_last_data_age_seconds', { component: '/default/streamer', feed: '/default/muxer:default' }))).toBeLessThan(2);
    expect(value('fluxcast_http_clients', { component: '/default/streamer', mount: '/live.wav' })).toBe('0');
    expect(families.has('fluxcast_http_bytes_sent_total')).toBe(true);
    expect(families.has('fluxcast_http_clients_removed_total')).toBe(true);
    expect(families.has('fluxcast_gdp_errors_total')).toBe(true);
    expect(Number(value('fluxcast_worker_cpu_seconds_total', { worker: 'worker1' }))).toBeGreaterThan(0);
    expect(Number(value('fluxcast_worker_resident_memory_bytes', { worker: 'worker1' }))).toBeGreaterThan(10e6);
    expect(Number(value('fluxcast_worker_heap_used_bytes', { worker: 'worker1' }))).toBeGreaterThan(1e6);
    expect(Number(value('fluxcast_worker_open_fds', { worker: 'worker1' }))).toBeGreaterThan(10);
    expect(Number(value('fluxcast_worker_event_loop_lag_seconds', { worker: 'worker1' }))).toBeLessThan(5);
    expect(families.has('fluxcast_manager_process_resident_memory_bytes')).toBe(true);
    expect(moods(await manager.status())).toEqual({ source: 'happy', encoder: 'happy', muxer: 'happy', streamer: 'happy' });
  });
});
