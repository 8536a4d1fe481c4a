/**
 * The PIN limits as the unlock screen shows them: five wrong PINs in a row
 * start the wait (30 s after the 5th), which the screen counts down with the
 * Unlock button disabled, and the tries left keep counting towards the wipe.
 * (The wipe itself and the later, longer waits are covered in the engine's
 * tests with a controlled clock; here the wait would be real time.)
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { screenshot, startApp, ui, type RunningApp } from './harness.js';

describe('unlock screen under repeated wrong PINs', () => {
  let browser: Browser;
  let app: RunningApp;

  beforeAll(async () => {
    browser = await launchChromium();
    app = await startApp('limits');
  });
  afterAll(async () => {
    await app?.close();
    await browser?.close();
  });

  it('shows the wait after the 5th wrong PIN and keeps Unlock disabled during it', async () => {
    const page = await app.open(browser);
    await ui.createIdentity(page, '8642');
    await ui.stayLocal(page);
    await ui.finishFirstRun(page);
    await page.getByRole('button', { name: 'Lock now' }).click();
    for (let wrong = 1; wrong <= 5; wrong++) {
      await ui.unlock(page, '0000');
      await page.getByTestId('attempts-left').filter({ hasText: `${10 - wrong} tries left` }).waitFor();
    }
    const wait = page.getByTestId('retry-wait');
    await wait.waitFor();
    const seconds = Number(/try again in (\d+) s/.exec((await wait.textContent()) ?? '')?.[1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(30);
    await page.getByLabel('PIN', { exact: true }).fill('8642');
    expect(await page.getByRole('button', { name: 'Unlock' }).isDisabled()).toBe(true);
    await screenshot(page, '11-unlock-wait');
    // The engine refuses too (the button is only a convenience): LockedOut, not a PIN check.
    const r = await app.service.handlers['session:authenticate']({ pin: '8642' });
    expect(r.code).toBe(-103);
  });
});
