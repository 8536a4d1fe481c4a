/**
 * The PIN limits as the unlock screen shows them: five wrong PINs in a row
 * start the wait (30 s after the 5th), which the screen counts down with the
 * Unlock button disabled, and the tries left keep counting towards the wipe.
 * After the 10th wrong PIN (taken by the engine with a controlled clock, since
 * the waits before it are real time in the UI) first run says the keys were
 * erased and shows the ways back.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KDF_PARAMS } from '../../electron/engine/crypto/pin-kdf.js';
import { openService } from '../../electron/engine/service/index.js';
import { ResultCode } from '../../shared/codes.js';
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

  it('after the 10th wrong PIN the keys are erased, and the app says so and shows the ways back', async () => {
    // The waits between wrong PINs are real time in the UI: the engine takes the
    // ten wrong PINs on this profile with a clock the test moves past each wait.
    await app.stop();
    let clock = Date.now();
    const engine = await openService({ profileDir: app.profileDir, actor: 'test', keychain: 'file', kdfParams: TEST_KDF_PARAMS, now: () => clock });
    try {
      // Five wrong PINs were taken above; the rest up to the 10th.
      let wiped = false;
      for (let i = 0; i < 10 && !wiped; i++) {
        let r = await engine.handlers['session:authenticate']({ pin: '0000' });
        if (r.code === ResultCode.LockedOut && r.details?.wiped !== true) {
          clock += Number(r.details?.retryAfterMs);
          r = await engine.handlers['session:authenticate']({ pin: '0000' });
        }
        wiped = r.code === ResultCode.LockedOut && r.details?.wiped === true;
        if (!wiped) expect(r.code).toBe(ResultCode.WrongPin);
      }
      expect(wiped).toBe(true);
    } finally {
      engine.close();
    }
    await app.restart();
    const page = await app.open(browser);
    await page.getByRole('heading', { name: 'Create your identity' }).waitFor();
    await page.getByTestId('keys-erased').getByText('The keys on this device were erased: 10 wrong PINs were entered in a row.').waitFor();
    expect(await page.getByTestId('lock-state').textContent()).toBe('Keys erased');
    for (const way of ['Restore on this device…', 'Import an identity file…', 'Link to an existing device…']) {
      expect(await page.getByRole('button', { name: way }).isVisible()).toBe(true);
    }
    await screenshot(page, '12-keys-erased');
  });
});
