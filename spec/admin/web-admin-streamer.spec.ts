/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// A streamer's panel in the web admin, in a real browser (Debian's chromium via playwright-core)
// against real manager and worker processes and real HTTP listeners: its listener URLs, charts
// of its listeners and kbit/s drawn from the manager's samples (a short sample interval here),
// and its listener table, or a clear message from a manager that does not list listeners. The
// test saves the screenshot of the panel the README shows.
import * as http from 'http';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { browserTests, launchPlayer } from '../helpers/browser';
import { SHOTS, adminPage, waitForMood } from '../helpers/admin-page';
import { ADMIN_SECRET, Proc, allHappy, freePort, run, seedPlanet, waitForStatus, writePlanet } from '../helpers/planet';

jest.setTimeout(90000);

const basic = { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_SECRET}`).toString('base64')}` };

function getJson(port: number, p: string): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, headers: basic }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    }).on('error', reject);
  });
}

/** A real listener of the stream that reads everything; `ended` resolves when the server hangs up. */
function listen(port: number, userAgent: string): { req: http.ClientRequest; ended: Promise<void>; bytes: () => number } {
  let n = 0;
  let done!: () => void;
  const ended = new Promise<void>((r) => (done = r));
  const req = http.get({ host: '127.0.0.1', port, path: '/live.wav', headers: { 'User-Agent': userAgent } }, (res) => {
    res.on('data', (d: Buffer) => (n += d.length));
    res.on('end', done);
    res.on('close', done);
  });
  req.on('error', done);
  return { req, ended, bytes: () => n };
}

async function planet(procs: Proc[]): Promise<{ managerPort: number; httpPort: number }> {
  const managerPort = await freePort();
  const httpPort = await freePort();
  const text = seedPlanet(managerPort, httpPort).replace('heartbeat-timeout: 2500', 'heartbeat-timeout: 2500, sample-interval: 200');
  procs.push(run(['manager', '--planet', writePlanet(text)]));
  for (const name of ['worker1', 'worker2']) procs.push(run(['worker', '--name', name, '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
  await waitForStatus(managerPort, allHappy, 20000, 'all happy');
  return { managerPort, httpPort };
}

const chartValue = (page: Page, name: string) => page.$eval(`svg.chart-${name}`, (s) => ({ samples: Number(s.getAttribute('data-samples')), last: Number(s.getAttribute('data-last')) }));

(browserTests ? describe : describe.skip)('a streamer\'s panel in the web admin, in chromium', () => {
  let browser: Browser;
  const procs: Proc[] = [];
  const listeners: Array<ReturnType<typeof listen>> = [];

  beforeAll(async () => {
    browser = await launchPlayer();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(() => {
    for (const l of listeners.splice(0)) l.req.destroy();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('shows the listener URLs and charts of listeners and kbit/s from the manager\'s samples, live', async () => {
    const { managerPort, httpPort } = await planet(procs);
    const page = await adminPage(browser, managerPort);
    await waitForMood(page, '/default/streamer', 'happy');

    listeners.push(listen(httpPort, 'fluxcast-test-player/1.0'));
    await page.click('.component[data-id="/default/streamer"] .title'); // a click on the box opens its panel
    await page.waitForSelector('#panel:not([hidden])[data-id="/default/streamer"]', { timeout: 5000 });
    const url = `http://127.0.0.1:${httpPort}/live.wav`;
    expect(await page.$$eval('#panel-urls li a', (as) => as.map((a) => a.getAttribute('href')))).toEqual([url]);

    // The charts fill from the samples (one per 200 ms here): one listener, then two, two µ-law streams out.
    await page.waitForFunction(() => Number(document.querySelector('svg.chart-listeners')?.getAttribute('data-last')) === 1, undefined, { timeout: 10000 });
    await page.waitForTimeout(1500);
    listeners.push(listen(httpPort, 'another-player/2.0'));
    await page.waitForFunction(() => Number(document.querySelector('svg.chart-listeners')?.getAttribute('data-last')) === 2, undefined, { timeout: 10000 });
    await page.waitForFunction(() => Number(document.querySelector('svg.chart-bitrate')?.getAttribute('data-last')) > 100, undefined, { timeout: 10000 });
    const drawn = await chartValue(page, 'listeners');
    const served = (await getJson(managerPort, '/api/v1/components/default/streamer/history')).json.samples.length;
    expect(drawn.samples).toBeGreaterThanOrEqual(5);
    expect(drawn.samples).toBeLessThanOrEqual(served); // what the manager kept, polled
    expect(await page.$eval('svg.chart-listeners path.line', (p) => (p.getAttribute('d') ?? '').split(/[MHVL]/).length)).toBeGreaterThan(5);
    await page.waitForFunction(() => /^happy · on worker1 · 2 listener\(s\) now · [1-9]\d+ kbit\/s out$/.test(document.querySelector('#panel-meta')?.textContent ?? ''), undefined, { timeout: 5000 });

    // The listener table, or a clear message from a manager that has no listener routes.
    const routes = await getJson(managerPort, '/api/v1/components/default/streamer/listeners');
    if (routes.status === 404 && routes.json.error.code === 'FLUX_API_NOT_FOUND') {
      await page.waitForSelector('#listeners-body [data-unavailable]', { timeout: 5000 });
      expect(await page.textContent('#listeners-body')).toMatch(/does not list listeners/);
    } else {
      expect(routes.status).toBe(200);
      await page.waitForFunction(() => document.querySelectorAll('#listeners-body tr[data-listener]').length === 2, undefined, { timeout: 5000 });
    }
    await page.screenshot({ path: path.join(SHOTS, 'admin-streamer.png'), fullPage: true });

    // They leave: the chart comes down to 0 without a reload.
    for (const l of listeners.splice(0)) l.req.destroy();
    await page.waitForFunction(() => Number(document.querySelector('svg.chart-listeners')?.getAttribute('data-last')) === 0, undefined, { timeout: 10000 });
    // Every URL a listener can use, the primary first (details.urls of newer workers), else details.url.
    // (the page's own module, imported in the page: a string, so that no transpiler touches the import)
    const urls = await page.evaluate(`import('/admin/panel.js').then((m) => [
      m.listenerUrls({ url: 'http://a/x', urls: ['http://a/x', 'https://b/x'] }), m.listenerUrls({ url: 'http://a/x' }), m.listenerUrls({ url: 'http://a/x', urls: [] }), m.listenerUrls(undefined),
    ])`);
    expect(urls).toEqual([['http://a/x', 'https://b/x'], ['http://a/x'], ['http://a/x'], []]);
    // The panel closes.
    await page.click('#panel-close');
    expect(await page.isHidden('#panel')).toBe(true);
    await page.close();
  });

  it('shades the time a streamer was stopped in its charts and counts nobody then', async () => {
    const { managerPort, httpPort } = await planet(procs);
    listeners.push(listen(httpPort, 'fluxcast-test-player/1.0'));
    const page = await adminPage(browser, managerPort);
    await page.click('.component[data-id="/default/streamer"] button[data-action="details"]');
    await page.waitForFunction(() => Number(document.querySelector('svg.chart-listeners')?.getAttribute('data-last')) === 1, undefined, { timeout: 10000 });
    // (the manager sampled it sleeping before its worker logged in: one band already, or none)
    const bands = await page.$$eval('svg.chart-listeners rect.down', (r) => r.length);
    expect(bands).toBeLessThanOrEqual(1);
    const stop = await fetchPost(managerPort, '/api/v1/components/default/streamer/stop');
    expect(stop).toBe(200);
    await waitForMood(page, '/default/streamer', 'sleeping');
    await page.waitForFunction((n) => document.querySelectorAll('svg.chart-listeners rect.down').length === n + 1 && Number(document.querySelector('svg.chart-listeners')?.getAttribute('data-last')) === 0, bands, { timeout: 10000 });
    await page.waitForFunction(() => /no URL yet \(not running\)/.test(document.querySelector('#panel-urls')?.textContent ?? ''), undefined, { timeout: 5000 });
    await page.close();
  });
});

function fetchPost(port: number, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method: 'POST', headers: basic }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

(browserTests ? describe : describe.skip)('a streamer\'s listener table in the web admin, in chromium', () => {
  let browser: Browser;
  const procs: Proc[] = [];
  const listeners: Array<ReturnType<typeof listen>> = [];

  beforeAll(async () => {
    browser = await launchPlayer();
  });
  afterAll(async () => {
    await browser?.close();
    for (const l of listeners.splice(0)) l.req.destroy();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('lists each listener with its address, player, time and bytes, and kicks the one asked for', async () => {
    const { managerPort, httpPort } = await planet(procs);
    const kept = listen(httpPort, 'kept-player/1.0');
    const kicked = listen(httpPort, 'kicked-player/2.0');
    listeners.push(kept, kicked);
    await waitForStatus(managerPort, (s) => s.components.find((c) => c.name === 'streamer')?.details?.clients === 2, 10000, 'two listeners');
    const page = await adminPage(browser, managerPort);
    await page.click('.component[data-id="/default/streamer"] button[data-action="details"]');
    await page.waitForFunction(() => document.querySelectorAll('#listeners-body tr[data-listener]').length === 2, undefined, { timeout: 5000 });
    const rows = await page.$$eval('#listeners-body tr[data-listener]', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.map((r) => [r[0], r[1]]).sort()).toEqual([['127.0.0.1', 'kept-player/1.0'], ['127.0.0.1', 'kicked-player/2.0']]);
    for (const r of rows) {
      expect(r[2]).toMatch(/^\d+ s$|^\d+ min \d+ s$/);
      expect(r[3]).toMatch(/^\d+(\.\d)? (B|kB|MB)$/);
    }
    await page.screenshot({ path: path.join(SHOTS, 'admin-streamer.png'), fullPage: true });
    const row = page.locator('#listeners-body tr[data-listener]', { hasText: 'kicked-player/2.0' });
    await row.locator('button[data-kick]').click();
    await kicked.ended; // the server hung up on it...
    await page.waitForFunction(() => /disconnected the listener at 127\.0\.0\.1/.test(document.querySelector('#notice')?.textContent ?? ''), undefined, { timeout: 5000 });
    await page.waitForFunction(() => document.querySelectorAll('#listeners-body tr[data-listener]').length === 1, undefined, { timeout: 5000 });
    expect(await page.textContent('#listeners-body tr[data-listener] td.ua')).toBe('kept-player/1.0');
    const before = kept.bytes(); // ...and the other one still plays
    await page.waitForTimeout(500);
    expect(kept.bytes()).toBeGreaterThan(before);
    await page.close();
  });
});
