/// <reference lib="dom" />
// The web admin in a real browser (Debian's chromium driven by playwright-core) against real
// manager and worker processes: a wrong password is refused; after logging in every component
// of the seed planet shows happy; stopping worker2 turns the muxer sleeping and the streamer
// hungry on the page within 2 s, with no reload; a restart from the page brings a component
// back.
import { Browser, Page } from 'playwright-core';
import { browserTests, launchPlayer } from '../helpers/browser';
import { ADMIN_SECRET, Proc, allHappy, freePort, run, seedPlanet, waitForStatus, writePlanet } from '../helpers/planet';

jest.setTimeout(90000);

if (!browserTests) console.warn('NOTICE: chromium not installed; skipping the web admin browser tests (apt-get install chromium)');

(browserTests ? describe : describe.skip)('the web admin in chromium', () => {
  let browser: Browser;
  const procs: Proc[] = [];

  beforeAll(async () => {
    browser = await launchPlayer();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(() => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  const moodOf = (page: Page, id: string) => page.locator(`.component[data-id="${id}"]`).getAttribute('data-mood');

  it('logs in, shows the planet live, and acts on components', async () => {
    const managerPort = await freePort();
    const httpPort = await freePort();
    procs.push(run(['manager', '--planet', writePlanet(seedPlanet(managerPort, httpPort))]));
    procs.push(run(['worker', '--name', 'worker1', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
    const worker2 = run(['worker', '--name', 'worker2', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']);
    procs.push(worker2);
    await waitForStatus(managerPort, allHappy, 20000, 'all happy');

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('dialog', (d) => void d.accept()); // the confirmations of actions
    await page.goto(`http://127.0.0.1:${managerPort}/admin/`);

    // 4. A wrong password is refused, on the page.
    await page.fill('#secret', 'not-the-admin-secret-at-all');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => /wrong admin secret/.test(document.querySelector('#login-error')?.textContent ?? ''), undefined, { timeout: 5000 });
    expect(await page.isVisible('#app')).toBe(false);

    // 1. Log in and see every component of the seed planet happy.
    await page.waitForTimeout(600); // failed logins slow down: wait out the first backoff
    await page.fill('#secret', ADMIN_SECRET);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])', { timeout: 5000 });
    await page.waitForFunction(() => document.querySelectorAll('.component[data-mood="happy"]').length === 4, undefined, { timeout: 10000 });
    await page.waitForFunction(() => document.querySelector('.live.on') !== null, undefined, { timeout: 5000 });
    expect(await page.locator('tr[data-worker="worker2"]').getAttribute('data-state')).toBe('connected');
    expect(await page.locator(`.player[data-url="http://127.0.0.1:${httpPort}/live.wav"] audio`).count()).toBe(1);
    expect(await page.locator('svg path[data-feed="/default/muxer:default"][data-flowing="1"]').count()).toBe(1);

    // 2. Stop worker2: the muxer sleeping, the streamer hungry, within 2 s, without a reload.
    const url = page.url();
    worker2.child.kill('SIGINT');
    const t0 = Date.now();
    await page.waitForFunction(
      () =>
        document.querySelector('.component[data-id="/default/muxer"]')?.getAttribute('data-mood') === 'sleeping' &&
        document.querySelector('.component[data-id="/default/streamer"]')?.getAttribute('data-mood') === 'hungry',
      undefined,
      { timeout: 5000 },
    );
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(page.url()).toBe(url);
    await page.waitForFunction(() => document.querySelector('tr[data-worker="worker2"]')?.getAttribute('data-state') === 'stopped', undefined, { timeout: 2000 });

    // 3. Restart a component from the page and see it come back.
    await page.click('.component[data-id="/default/source"] button[data-action="restart"]');
    await page.waitForFunction(() => /restart \/default\/source: done/.test(document.querySelector('#notice')?.textContent ?? ''), undefined, { timeout: 5000 });
    await page.waitForFunction(() => document.querySelector('.component[data-id="/default/source"]')?.getAttribute('data-mood') === 'happy', undefined, { timeout: 10000 });
    expect(await moodOf(page, '/default/source')).toBe('happy');
    await page.close();
  });
});
