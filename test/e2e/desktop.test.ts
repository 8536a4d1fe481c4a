/**
 * The desktop UI end to end, one profile, in real Chromium against the real
 * engine behind the webhost: first run with a PIN, the vault (notes, files,
 * offline file encryption), locking and a wrong then right PIN, the audit view
 * (filter, CSV, chain badge), settings (PIN change, public key export,
 * auto-lock), errors shown with their code, keyboard use, dark mode at 200%.
 *
 * The steps build on each other (one user's first session), so they run in order.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Browser, Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { screenshot, startApp, ui, type RunningApp } from './harness.js';

async function downloaded(download: Download): Promise<Buffer> {
  const path = await download.path();
  return readFileSync(path);
}

describe('desktop UI (browser mode, one profile)', () => {
  let browser: Browser;
  let app: RunningApp;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    app = await startApp('solo');
    page = await app.open(browser);
  });

  afterAll(async () => {
    await app?.close();
    await browser?.close();
  });

  it('first run: a PIN, the keys made, stay local, the safety number', async () => {
    await page.getByRole('heading', { name: 'Create your identity' }).waitFor();
    await screenshot(page, '01-first-run');
    // The copy says where the keys will be kept: this profile has no system keychain.
    await page.getByText('keeps them in a file sealed with your PIN').waitFor();

    // A PIN that is too short never reaches the engine, and says why.
    await page.getByLabel('PIN', { exact: true }).fill('12');
    await page.getByLabel('Repeat the PIN').fill('12');
    await page.getByRole('button', { name: 'Create identity' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('InvalidPin');

    await ui.createIdentity(page, '1234');
    await ui.stayLocal(page);
    await page.getByRole('heading', { name: 'Your identity is ready' }).waitFor();
    const safety = (await page.getByTestId('safety-number').textContent()) ?? '';
    expect(safety.replace(/\D/g, '')).toMatch(/^\d{30,}$/);
    await screenshot(page, '02-first-run-safety-number');
    await ui.finishFirstRun(page);
    expect(await page.getByTestId('lock-state').textContent()).toBe('Unlocked');
  });

  it('vault: create a note, edit it to a new version, see its history', async () => {
    await ui.newNote(page, 'Trip plans', 'Train at 9:14, seat 42.');
    await page.getByRole('list', { name: 'Items' }).getByRole('button', { name: /Trip plans/ }).waitFor();
    await page.getByTestId('note-text').fill('Train at 9:14, seat 42. Hotel: Blue Door.');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved as version 2.').waitFor();
    await page.getByRole('tab', { name: /^History/ }).click();
    await page.getByRole('cell', { name: 'earlier version' }).first().waitFor();
    await screenshot(page, '03-vault-note');
  });

  it('vault: a file item comes back byte for byte, and offline file encryption round-trips', async () => {
    const original = randomBytes(200_000);
    await page.getByRole('button', { name: 'Add file' }).click();
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'scan.bin', mimeType: 'application/octet-stream', buffer: original });
    await page.getByText(/scan\.bin · 200 KB/).waitFor();
    await page.getByRole('button', { name: 'Seal and save' }).click();
    await page.getByRole('heading', { name: 'scan.bin', level: 2 }).waitFor();
    const [saved] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save file…' }).click()]);
    expect(saved.suggestedFilename()).toBe('scan.bin');
    expect((await downloaded(saved)).equals(original)).toBe(true);

    // Offline: encrypt a file into a .sealpost container, then open the container.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Vault' }).click();
    await page.getByRole('button', { name: 'Lock now' }).waitFor();
    await page.getByRole('button', { name: /Trip plans/ }).click();
    await page.getByRole('heading', { name: 'Trip plans', level: 2 }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Offline file encryption' }).click();
    await page.getByRole('heading', { name: 'Encrypt a file offline' }).waitFor();
    const secret = Buffer.from('the launch codes are 0000');
    const [sealed] = await Promise.all([
      page.waitForEvent('download'),
      page.getByLabel('File to encrypt').setInputFiles({ name: 'codes.txt', mimeType: 'text/plain', buffer: secret }),
    ]);
    expect(sealed.suggestedFilename()).toBe('codes.txt.sealpost');
    const container = await downloaded(sealed);
    expect(container.includes(secret)).toBe(false);
    const [opened] = await Promise.all([
      page.waitForEvent('download'),
      page.getByLabel('.sealpost file to decrypt').setInputFiles({ name: 'codes.txt.sealpost', mimeType: 'application/octet-stream', buffer: container }),
    ]);
    expect(opened.suggestedFilename()).toBe('codes.txt');
    expect((await downloaded(opened)).equals(secret)).toBe(true);
    await screenshot(page, '04-vault-file-tools');
  });

  it('an engine error shows as a sentence with the result code in a details line', async () => {
    const damaged = Buffer.concat([Buffer.from('not a container'), randomBytes(64)]);
    await page.getByLabel('.sealpost file to decrypt').setInputFiles({ name: 'broken.sealpost', mimeType: 'application/octet-stream', buffer: damaged });
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const details = (await alert.locator('.details').textContent()) ?? '';
    expect(details).toMatch(/^(InvalidParameter \(-29\)|Tampered \(-420\))/);
    expect((await alert.locator('p').first().textContent())?.length).toBeGreaterThan(10);
    await screenshot(page, '05-error-shown');
  });

  it('lock, a wrong PIN (attempts left shown), then the right PIN', async () => {
    await page.getByRole('button', { name: 'Lock now' }).click();
    await page.getByRole('heading', { name: 'Unlock Sealpost' }).waitFor();
    expect(await page.getByTestId('attempts-left').textContent()).toContain('10 tries left');
    await page.getByLabel('PIN', { exact: true }).fill('9999');
    await page.getByRole('button', { name: 'Unlock' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('That PIN is not right.');
    expect(await alert.locator('.details').textContent()).toContain('WrongPin (-102)');
    await page.getByTestId('attempts-left').filter({ hasText: '9 tries left' }).waitFor();
    await screenshot(page, '06-unlock-wrong-pin');

    // Keyboard only: the PIN field has focus, Enter submits.
    await page.getByLabel('PIN', { exact: true }).focus();
    await page.keyboard.type('1234');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Vault' }).waitFor();
    await page.getByRole('button', { name: /Trip plans/ }).click();
    expect(await page.getByTestId('note-text').inputValue()).toBe('Train at 9:14, seat 42. Hotel: Blue Door.');
  });

  it('audit view: the actions with their results, filter, CSV export, chain verified', async () => {
    // Keyboard: Tab reaches the main navigation.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Audit' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByTestId('chain-badge').filter({ hasText: 'Chain verified' }).waitFor();
    const table = page.getByRole('table', { name: 'Audit entries' });
    for (const action of ['identity.create', 'encrypt', 'decrypt', 'unlock', 'lock']) await table.getByRole('cell', { name: action, exact: true }).first().waitFor();
    await table.getByRole('cell', { name: 'WrongPin', exact: true }).waitFor();
    await screenshot(page, '07-audit');

    await page.getByLabel('Result').selectOption('WrongPin');
    await table.locator('tbody tr').first().waitFor();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const text = (await downloaded(csv)).toString('utf8');
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe('id,time,actor,action,target,result,details,hash');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(',unlock,');
    expect(lines[1]).toContain(',WrongPin,');
  });

  it('settings: keychain in use, public key export, PIN change', async () => {
    await ui.goTo(page, 'Settings');
    expect(await page.getByTestId('keychain-backend').textContent()).toContain('PIN-protected file');
    const [pem] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export public key' }).click()]);
    expect((await downloaded(pem)).toString()).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    await screenshot(page, '08-settings');

    await page.getByLabel('Current PIN').fill('1234');
    await page.getByLabel('New PIN', { exact: true }).fill('567890');
    await page.getByLabel('Repeat the new PIN').fill('567890');
    await page.getByRole('button', { name: 'Change PIN' }).click();
    await ui.unlock(page, '1234');
    await page.getByRole('alert').filter({ hasText: 'WrongPin' }).waitFor();
    await ui.unlock(page, '567890');
    await page.getByTestId('lock-state').filter({ hasText: 'Unlocked' }).waitFor();
  });

  it('dark mode at 200% zoom: everything fits the width, nothing scrolls sideways', async () => {
    // 200% zoom = half the CSS pixels at twice the density.
    const dark = await app.open(browser, { colorScheme: 'dark', viewport: { width: 600, height: 430 } });
    await dark.getByRole('heading', { name: 'Vault' }).waitFor();
    await dark.getByRole('button', { name: /Trip plans/ }).click();
    await dark.getByRole('heading', { name: 'Trip plans', level: 2 }).waitFor();
    // Expressions as strings: test/ compiles without the DOM lib.
    const bg = await dark.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(bg).toBe('rgb(17, 20, 24)');
    for (const screen of ['Vault', 'Audit', 'Settings'] as const) {
      await ui.goTo(dark, screen);
      await dark.getByRole('heading', { name: screen === 'Settings' ? 'PIN' : screen === 'Audit' ? 'Audit log' : screen }).first().waitFor();
      const overflow = Number(await dark.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
      expect(overflow, `${screen} scrolls sideways at 200%`).toBeLessThanOrEqual(0);
      await screenshot(dark, `09-dark-200pct-${screen.toLowerCase().replace(/\s+/g, '-')}`);
    }
    await dark.context().close();
  });

  it('auto-lock: after the idle time set in Settings, the unlock screen comes back by itself', async () => {
    await ui.goTo(page, 'Settings');
    await page.getByLabel('Or after this many seconds').fill('1');
    await page.getByRole('button', { name: 'Set', exact: true }).click();
    // No timer in the test: the engine locks after 1 s idle, the UI notices on its own.
    await page.getByRole('heading', { name: 'Unlock Sealpost' }).waitFor({ timeout: 30_000 });
    await page.getByText('Sealpost locked itself after a while without use.').waitFor();
    await screenshot(page, '10-auto-locked');
    expect(await page.getByTestId('lock-state').textContent()).toBe('Locked');
  });
});
