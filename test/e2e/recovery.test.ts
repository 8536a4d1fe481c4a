/**
 * Recovery in the UI, against a real key service and a real escrow service
 * (the same server code, a second instance with its own database) on loopback:
 * alice creates her identity and registers in first run; Settings reminds her
 * about the recovery words; she shows them after the PIN, postpones (the
 * reminder says so), confirms the asked words and stores the three shares.
 * Then "Restore on this device" on two fresh profiles: with the words (a new
 * PIN, registered with the server key), and with the shares + PIN (a wrong PIN
 * is refused by the key service first). Each restored profile has alice's DID;
 * the one restored with the words, registered, shows her vault note again.
 *
 * Screenshots (test artifacts, never committed) are taken only when no words
 * are on screen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../electron/engine/dispatch.js';
import type { CreatedApp, RunningServer } from '../../server/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { screenshot, startApp, ui, type RunningApp, startE2eKeyService } from './harness.js';

const PIN = '1357';

interface Identity {
  did: string;
  fingerprint: string;
}
async function identityOf(app: RunningApp): Promise<Identity> {
  const r = await dispatch(app.service.handlers, 'identity:get', {});
  if (r.code !== 0) throw new Error(`identity:get: ${r.message}`);
  const { did, fingerprint } = r.value as Identity;
  return { did, fingerprint };
}

describe('recovery words, share backup and restore on a new device in the UI', () => {
  let browser: Browser;
  let dbDir: string;
  let ks: RunningServer;
  let escrow: RunningServer;
  let ksApp: CreatedApp;
  let escrowApp: CreatedApp;
  let alice: RunningApp;
  let a: Page;
  const opened: RunningApp[] = [];
  let words: string[] = [];

  beforeAll(async () => {
    dbDir = mkdtempSync(join(tmpdir(), 'sealpost-e2e-recovery-'));
    ks = await startE2eKeyService(join(dbDir, 'keyservice.db'));
    escrow = await startE2eKeyService(join(dbDir, 'escrow.db'));
    ksApp = await ks.admin.createApp({ name: 'e2e recovery' });
    escrowApp = await escrow.admin.createApp({ name: 'e2e escrow' });
    browser = await launchChromium();
    alice = await startApp('alice');
    a = await alice.open(browser);
  });

  afterAll(async () => {
    for (const app of opened) await app.close();
    await alice?.close();
    await browser?.close();
    await ks?.close().catch(() => undefined);
    await escrow?.close().catch(() => undefined);
    if (dbDir) rmSync(dbDir, { recursive: true, force: true });
  });

  const ksUrl = () => `http://127.0.0.1:${ks.port}`;
  const escrowUrl = () => `http://127.0.0.1:${escrow.port}`;

  it('shows the words after the PIN, postpones with a reminder, confirms the asked words and stores the shares', async () => {
    await ui.createIdentity(a, PIN);
    await ui.register(a, { url: ksUrl(), app: ksApp }, 'alice');
    await ui.finishFirstRun(a);
    await ui.newNote(a, 'Spare key', 'under the blue flower pot');
    await ui.goTo(a, 'Settings');
    const reminder = a.getByRole('status', { name: 'Recovery reminder' });
    await reminder.filter({ hasText: 'not confirmed' }).waitFor();
    await screenshot(a, '40-recovery-reminder');

    await a.getByLabel('PIN to show the recovery words').fill('0000');
    await a.getByRole('button', { name: 'Show my recovery words' }).click();
    await a.getByRole('alert').filter({ hasText: 'WrongPin' }).waitFor();

    await a.getByLabel('PIN to show the recovery words').fill(PIN);
    await a.getByRole('button', { name: 'Show my recovery words' }).click();
    const list = a.getByRole('list', { name: 'Recovery words' });
    await list.waitFor();
    words = await list.getByRole('listitem').allTextContents();
    expect(words).toHaveLength(24);
    await a.getByRole('button', { name: 'Later' }).click();
    await reminder.filter({ hasText: 'postponed' }).waitFor();
    expect(await list.count()).toBe(0);
    await screenshot(a, '41-recovery-postponed');

    // Shown again (a new set of asked positions); confirmed by keyboard only.
    await a.getByLabel('PIN to show the recovery words').fill(PIN);
    await a.getByLabel('PIN to show the recovery words').press('Enter');
    await list.waitFor();
    const asked = a.getByRole('textbox', { name: /^Word \d+$/ });
    expect(await asked.count()).toBe(3);
    for (let i = 0; i < 3; i++) {
      const field = asked.nth(i);
      const position = Number(/\d+/.exec(await field.evaluate((el) => el.closest('label')?.textContent ?? ''))![0]);
      await field.fill(words[position - 1]!);
    }
    await asked.nth(2).press('Enter');
    await a.getByText('Recovery words confirmed.').waitFor();
    expect(await list.count()).toBe(0);
    await reminder.filter({ hasText: 'No recovery share backup yet' }).waitFor();

    await a.getByLabel('Escrow service URL').fill(escrowUrl());
    await a.getByLabel('Escrow app id').fill(escrowApp.appId);
    await a.getByLabel('Escrow client key').fill(escrowApp.clientKey);
    await a.getByLabel('PIN to store the shares').fill(PIN);
    await a.getByRole('button', { name: 'Store recovery shares' }).click();
    await a.getByTestId('recovery-backup').filter({ hasText: escrowUrl() }).waitFor();
    expect(await reminder.count()).toBe(0);
    await screenshot(a, '42-recovery-backed-up');
  });

  async function openRestore(name: string): Promise<{ app: RunningApp; page: Page }> {
    const app = await startApp(name);
    opened.push(app);
    const page = await app.open(browser);
    await page.getByRole('heading', { name: 'Create your identity' }).waitFor();
    await page.getByRole('button', { name: 'Restore on this device…' }).click();
    await page.getByRole('heading', { name: 'Restore on this device' }).waitFor();
    await page.getByLabel('Your user name').fill('alice');
    await page.getByLabel('Key service URL').fill(ksUrl());
    await page.getByLabel('App id').fill(ksApp.appId);
    await page.getByLabel('Client key', { exact: true }).fill(ksApp.clientKey);
    return { app, page };
  }

  it('restores with the words on a fresh profile, with a new PIN, registers the device, and the vault syncs back', async () => {
    // The note reaches the key service (the app's 30 s vault timer does this; the test does not wait for it).
    expect(await dispatch(alice.service.handlers, 'items:sync', {})).toMatchObject({ code: 0 });
    const { app, page } = await openRestore('restore-words');
    await page.getByLabel(/^Server key/).fill(ksApp.serverKey);
    await page.getByRole('textbox', { name: 'Recovery words' }).fill(words.join(' '));
    await page.getByLabel('New PIN for this device').fill('2468');
    await page.getByLabel('Repeat the new PIN').fill('2468');
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await ui.finishFirstRun(page);
    expect(await identityOf(app)).toEqual(await identityOf(alice));
    const status = await dispatch(app.service.handlers, 'engine:status', {});
    expect(status).toMatchObject({ code: 0, value: { registered: true } });
    // The Vault syncs when it opens: alice's note is back and opens with the restored keys.
    await page.getByRole('button', { name: /Spare key/ }).click();
    await page.getByRole('heading', { name: 'Spare key', level: 2 }).waitFor();
    await page.getByText('under the blue flower pot').waitFor();
    await ui.goTo(page, 'Settings');
    await page.getByText('Recovery words: confirmed.').waitFor();
    await screenshot(page, '44-restored-with-words');
  });

  it('restores with the shares + PIN; a wrong PIN is refused by the key service first', async () => {
    const { app, page } = await openRestore('restore-shares');
    await page.getByRole('radio', { name: 'The recovery shares and my PIN' }).check();
    await page.getByLabel(/^Escrow service URL/).fill(escrowUrl());
    await page.getByLabel('Escrow client key').fill(escrowApp.clientKey);
    await page.getByLabel('Your PIN').fill('9999');
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'WrongPin' }).waitFor();
    await screenshot(page, '45-restore-shares-wrong-pin');
    expect((await dispatch(app.service.handlers, 'engine:status', {})) as { value: { hasIdentity: boolean } }).toMatchObject({ value: { hasIdentity: false } });

    await page.getByLabel('Your PIN').fill(PIN);
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await ui.finishFirstRun(page);
    expect(await identityOf(app)).toEqual(await identityOf(alice));
    await screenshot(page, '46-restored-with-shares');
  });
});
