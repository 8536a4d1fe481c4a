/**
 * First run without a PIN, as a user who knowingly skips it: the warning says
 * where the unprotected keys go, the app opens unlocked, and neither the
 * header nor Settings claims the keys are PIN-protected.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { startApp, ui, type RunningApp } from './harness.js';

describe('first run without a PIN', () => {
  let browser: Browser;
  let app: RunningApp;

  beforeAll(async () => {
    browser = await launchChromium();
    app = await startApp('no-pin');
  });
  afterAll(async () => {
    await app?.close();
    await browser?.close();
  });

  it('warns where the keys go, then opens unlocked and says the file has no PIN', async () => {
    const page = await app.open(browser);
    await page.getByText('keeps them in a file sealed with your PIN').waitFor();
    expect(await page.getByTestId('keys-kept-in').textContent()).toBe('Keys kept in: a PIN-protected file');
    await ui.createIdentity(page, null);
    await ui.stayLocal(page);
    await ui.finishFirstRun(page);
    expect(await page.getByTestId('lock-state').textContent()).toBe('Unlocked');
    await ui.goTo(page, 'Settings');
    await page.getByTestId('keys-kept-in').filter({ hasText: 'Keys kept in: a file, without a PIN' }).waitFor();
    expect(await page.getByTestId('keychain-backend').textContent()).toBe('A file in your profile folder, without a PIN: no system keychain answered on this computer.');
  });
});
