/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The web admin's graph and controls in a real browser (Debian's chromium via playwright-core)
// against real manager and worker processes: a stop changes colours, never a box's place nor an
// arrow; every button is enabled exactly when the manager offers its action for the mood, and
// each enabled one is accepted (happy, hungry, sleeping, lost, sad); the event history shows a
// stop and a start in order, live; a phone-width screen still works. The test saves the
// screenshot of the planet view the README shows (a component stopped, one sad).
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { browserTests, launchPlayer } from '../helpers/browser';
import { SHOTS, adminPage, buttonsOnPage, clickAction, waitForMood } from '../helpers/admin-page';
import { ADMIN_SECRET, Proc, freePort, run, seedPlanet, waitForStatus, writePlanet } from '../helpers/planet';
import { StatusJson } from '../../protocol/status';

jest.setTimeout(90000);

if (!browserTests) console.warn('NOTICE: chromium not installed; skipping the web admin browser tests (apt-get install chromium)');

/** What the manager offers per mood (actors/manager/commands.ts), as the page must show it. */
const OFFERED: Record<string, string[]> = {
  happy: ['stop', 'restart'], hungry: ['stop', 'restart'], waking: ['stop', 'restart'],
  sleeping: ['start'], lost: ['start', 'stop'], sad: ['start', 'stop', 'restart'],
};

(browserTests ? describe : describe.skip)('the web admin graph and controls in chromium', () => {
  let browser: Browser;
  let managerPort: number;
  let blocker: net.Server;
  const procs: Proc[] = [];
  let worker2: Proc;
  /** Everything happy but `blocked`, an http-streamer on a port someone else holds: sad. */
  const settled = (s: StatusJson) => s.components.every((c) => (c.name === 'blocked' ? c.mood === 'sad' : c.mood === 'happy'));
  const startWorker2 = () => {
    worker2 = run(['worker', '--name', 'worker2', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']);
    procs.push(worker2);
  };

  beforeAll(async () => {
    browser = await launchPlayer();
    managerPort = await freePort();
    blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    const blocked = `      - { name: blocked, type: http-streamer, worker: worker1, properties: { port: ${taken}, mount-point: /b.wav }, eaters: { default: [muxer] } }`;
    procs.push(run(['manager', '--planet', writePlanet(seedPlanet(managerPort, await freePort(), blocked))]));
    procs.push(run(['worker', '--name', 'worker1', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
    startWorker2();
    await waitForStatus(managerPort, settled, 30000, 'all happy, blocked sad');
  });
  // Each test starts from the settled planet, whatever the one before left.
  beforeEach(async () => {
    const s = await waitForStatus(managerPort, () => true, 5000, 'a status');
    if (!s.workers.find((w) => w.name === 'worker2')?.connected && worker2.child.exitCode !== null) startWorker2();
    for (const c of s.components) if (c.mood === 'sleeping') await adminPost(managerPort, `/api/v1/components/default/${c.name}/start`);
    await waitForStatus(managerPort, settled, 30000, 'all happy, blocked sad');
  });
  afterAll(async () => {
    await browser?.close();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    blocker?.close();
  });

  const boxes = (page: Page): Promise<Record<string, { x: number; y: number; w: number; h: number; col?: string; row?: string }>> =>
    page.evaluate(() => Object.fromEntries([...document.querySelectorAll<HTMLElement>('.component')].map((b) => {
      const r = b.getBoundingClientRect();
      return [b.dataset.id, { x: r.x, y: r.y, w: r.width, h: r.height, col: b.dataset.col, row: b.dataset.row }];
    })));
  const arrows = (page: Page) =>
    page.evaluate(() => Object.fromEntries([...document.querySelectorAll<SVGPathElement>('path[data-feed]')].map((p) => [`${p.dataset.feed} → ${p.dataset.to}`, { d: p.getAttribute('d'), flowing: p.dataset.flowing, dash: p.getAttribute('stroke-dasharray') }])));

  it('lays the flow out from its feeds and keeps every box in place and every arrow when a component stops', async () => {
    const page = await adminPage(browser, managerPort);
    await waitForMood(page, '/default/streamer', 'happy');
    await page.waitForFunction(() => document.querySelectorAll('path[data-feed][data-flowing="1"]').length === 3, undefined, { timeout: 10000 });
    const before = await boxes(page);
    // Columns by feed depth, planet order within a column.
    expect(Object.fromEntries(Object.entries(before).map(([id, b]) => [id, `${b.col}/${b.row}`]))).toEqual({
      '/default/source': '0/0', '/default/encoder': '1/0', '/default/muxer': '2/0', '/default/streamer': '3/0', '/default/blocked': '3/1',
    });
    expect(before['/default/blocked'].x).toBe(before['/default/streamer'].x);
    expect(before['/default/blocked'].y).toBeGreaterThan(before['/default/streamer'].y + before['/default/streamer'].h);
    const arrowsBefore = await arrows(page);
    expect(Object.keys(arrowsBefore).sort()).toEqual([
      '/default/encoder:default → /default/muxer', '/default/muxer:default → /default/blocked', '/default/muxer:default → /default/streamer', '/default/source:default → /default/encoder',
    ]);
    expect(arrowsBefore['/default/muxer:default → /default/streamer']).toMatchObject({ flowing: '1', dash: 'none' });
    expect(arrowsBefore['/default/muxer:default → /default/blocked']).toMatchObject({ flowing: '0', dash: '6 5' }); // sad: nothing flows

    expect((await clickAction(page, '/default/muxer', 'stop')).text).toBe('stop /default/muxer: done');
    await waitForMood(page, '/default/muxer', 'sleeping');
    await waitForMood(page, '/default/streamer', 'hungry');
    await page.waitForFunction(() => document.querySelectorAll('path[data-feed][data-flowing="1"]').length === 1, undefined, { timeout: 5000 });
    expect(await boxes(page)).toEqual(before);
    const arrowsAfter = await arrows(page);
    expect(Object.keys(arrowsAfter).sort()).toEqual(Object.keys(arrowsBefore).sort());
    for (const [k, a] of Object.entries(arrowsAfter)) expect(a.d).toBe(arrowsBefore[k].d);
    expect(arrowsAfter['/default/encoder:default → /default/muxer']).toMatchObject({ flowing: '0', dash: '6 5' });
    expect(arrowsAfter['/default/muxer:default → /default/streamer']).toMatchObject({ flowing: '0', dash: '6 5' });
    expect(arrowsAfter['/default/source:default → /default/encoder']).toMatchObject({ flowing: '1', dash: 'none' });
    await page.waitForFunction(() => /stop \/default\/muxer: accepted/.test(document.querySelector('#events')?.textContent ?? ''), undefined, { timeout: 5000 });
    await page.click('#notice'); // the answer floats over the page until dismissed
    await page.screenshot({ path: path.join(SHOTS, 'admin-planet.png'), fullPage: true });

    expect((await clickAction(page, '/default/muxer', 'start')).text).toBe('start /default/muxer: done');
    await waitForMood(page, '/default/streamer', 'happy');
    expect(await boxes(page)).toEqual(before);

    // The event history, newest first, live: the start above the stop, the muxer's sleep between.
    await page.waitForFunction(() => document.querySelector('#events li[data-type="mood"][data-id="/default/muxer"]')?.textContent?.includes('happy'), undefined, { timeout: 5000 });
    const history = await page.$$eval('#events li', (lis) => lis.map((li) => `${(li as HTMLElement).dataset.type} ${li.querySelector('.what')?.textContent}`));
    const at = (text: string) => history.findIndex((h) => h === text);
    const start = at('command start /default/muxer: accepted');
    const slept = history.findIndex((h) => h.startsWith('mood /default/muxer sleeping'));
    const stop = at('command stop /default/muxer: accepted');
    expect(start).toBeGreaterThanOrEqual(0);
    expect(start).toBeLessThan(slept);
    expect(slept).toBeLessThan(stop);
    expect(history[0]).toMatch(/\/default\/(muxer|streamer) happy/);
    const seqs = await page.$$eval('#events li', (lis) => lis.map((li) => Number((li as HTMLElement).dataset.seq)));
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    await page.close();
  });

  it('enables exactly the actions the manager offers per mood, and each enabled one is accepted', async () => {
    const page = await adminPage(browser, managerPort);
    await waitForMood(page, '/default/streamer', 'happy');
    await waitForMood(page, '/default/blocked', 'sad');
    const checkAll = async () => {
      for (const [id, b] of Object.entries(await buttonsOnPage(page))) expect([id, b.enabled]).toEqual([id, OFFERED[b.mood]]);
    };
    const accepted = async (id: string, action: string, message = `${action} ${id}: done`) => {
      const r = await clickAction(page, id, action);
      expect(r).toEqual({ text: message, error: false });
    };
    await checkAll();

    // happy: restart, stop; sleeping: start.
    await accepted('/default/source', 'restart');
    await waitForMood(page, '/default/source', 'happy');
    await accepted('/default/source', 'stop');
    await waitForMood(page, '/default/source', 'sleeping');
    // hungry (its source sleeps): stop, restart.
    await waitForMood(page, '/default/encoder', 'hungry');
    await checkAll();
    await accepted('/default/encoder', 'restart');
    await waitForMood(page, '/default/encoder', 'hungry');
    await accepted('/default/encoder', 'stop');
    await waitForMood(page, '/default/encoder', 'sleeping');
    await checkAll();
    await accepted('/default/encoder', 'start');
    await accepted('/default/source', 'start');
    await waitForMood(page, '/default/encoder', 'happy');

    // sad: start, stop, restart (it stays sad: its port is still taken).
    await checkAll();
    await accepted('/default/blocked', 'restart');
    await waitForMood(page, '/default/blocked', 'sad', 20000);
    await accepted('/default/blocked', 'start');
    await waitForMood(page, '/default/blocked', 'sad', 20000);
    await accepted('/default/blocked', 'stop');
    await waitForMood(page, '/default/blocked', 'sleeping');
    await checkAll();
    await accepted('/default/blocked', 'start');
    await waitForMood(page, '/default/blocked', 'sad', 20000);

    // lost (its worker killed): start, stop.
    worker2.child.kill('SIGKILL');
    await waitForMood(page, '/default/muxer', 'lost', 10000);
    await checkAll();
    await accepted('/default/muxer', 'stop');
    await waitForMood(page, '/default/muxer', 'sleeping');
    await accepted('/default/muxer', 'start', '/default/muxer will start when worker worker2 logs in');
    startWorker2();
    await waitForMood(page, '/default/muxer', 'happy', 20000);
    await waitForMood(page, '/default/streamer', 'happy');
    await checkAll();
    // A disabled button cannot be clicked at all.
    expect(await page.isDisabled('.component[data-id="/default/muxer"] button[data-action="start"]')).toBe(true);
    await page.close();
  });

  it('works on a phone-width screen: the page does not overflow, the graph scrolls, every button is reachable', async () => {
    const page = await adminPage(browser, managerPort, { width: 390, height: 844 });
    await waitForMood(page, '/default/streamer', 'happy');
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, graph: (document.querySelector('.graph') as HTMLElement).scrollWidth, graphBox: (document.querySelector('.graph') as HTMLElement).clientWidth }));
    expect(widths.page).toBeLessThanOrEqual(390);
    expect(widths.graph).toBeGreaterThan(widths.graphBox);
    expect((await clickAction(page, '/default/streamer', 'restart')).text).toBe('restart /default/streamer: done'); // the last column, scrolled to
    await waitForMood(page, '/default/streamer', 'happy');
    await page.click('.component[data-id="/default/streamer"] button[data-action="details"]');
    await page.waitForSelector('#panel:not([hidden]) svg.chart-listeners', { timeout: 5000 });
    const chart = await page.$eval('svg.chart-listeners', (s) => s.getBoundingClientRect().right);
    expect(chart).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.isVisible('#events li')).toBe(true);
    await page.close();
  });
});

function adminPost(port: number, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method: 'POST', headers: { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_SECRET}`).toString('base64')}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
