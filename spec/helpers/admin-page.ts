// The web admin in chromium for the admin specs: a page logged in with the admin secret (its
// confirmations accepted), reads of what the page shows, and where screenshots go
// ($FLUXCAST_SCREENSHOT_DIR, or a temporary folder).
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { ADMIN_SECRET } from './planet';

export const SHOTS = process.env.FLUXCAST_SCREENSHOT_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-shots-'));

/** A new page on the manager's web admin, logged in, showing the planet live. */
export async function adminPage(browser: Browser, managerPort: number, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('dialog', (d) => void d.accept()); // the confirmations of actions
  await page.goto(`http://127.0.0.1:${managerPort}/admin/`);
  await page.fill('#secret', ADMIN_SECRET);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])', { timeout: 5000 });
  await page.waitForFunction(() => document.querySelector('.live.on') !== null, undefined, { timeout: 5000 });
  return page;
}

/** Waits until the page shows component `id` in `mood`. */
export async function waitForMood(page: Page, id: string, mood: string, timeout = 10000): Promise<void> {
  await page.waitForFunction(([i, m]) => document.querySelector(`.component[data-id="${i}"]`)?.getAttribute('data-mood') === m, [id, mood] as const, { timeout });
}

/** The enabled action buttons of every component box, with its mood. */
export function buttonsOnPage(page: Page): Promise<Record<string, { mood: string; enabled: string[] }>> {
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll<HTMLElement>('.component')].map((b) => [
        b.dataset.id as string,
        {
          mood: b.dataset.mood as string,
          enabled: [...b.querySelectorAll<HTMLButtonElement>('button[data-action]')].filter((x) => !x.disabled && x.dataset.action !== 'details').map((x) => x.dataset.action as string),
        },
      ]),
    ),
  );
}

/** Clicks an action of a component on the page and waits for the manager's answer in the notice. */
export async function clickAction(page: Page, id: string, action: string): Promise<{ text: string; error: boolean }> {
  await page.evaluate(() => {
    const n = document.querySelector('#notice') as HTMLElement;
    n.textContent = '';
    n.removeAttribute('data-error');
  });
  await page.click(`.component[data-id="${id}"] button[data-action="${action}"]`);
  await page.waitForFunction(() => document.querySelector('#notice')?.hasAttribute('data-error'), undefined, { timeout: 5000 });
  return page.evaluate(() => ({ text: document.querySelector('#notice')?.textContent ?? '', error: document.querySelector('#notice')?.getAttribute('data-error') === '1' }));
}
