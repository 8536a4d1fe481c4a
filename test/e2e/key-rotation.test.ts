/**
 * Key rotation through the UI: alice and bob register and verify each other;
 * alice opens Settings, reads what rotating does, confirms with her PIN and
 * sees the new fingerprint; bob refreshes alice in Contacts and sees "rotated
 * their key" — still verified, no changed-key alarm.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedApp, RunningServer } from '../../server/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { screenshot, startApp, ui, type RunningApp, startE2eKeyService } from './harness.js';

describe('rotating the encryption key in the UI', () => {
  let browser: Browser;
  let dbDir: string;
  let ks: RunningServer;
  let app: CreatedApp;
  let alice: RunningApp;
  let bob: RunningApp;
  let a: Page;
  let b: Page;

  beforeAll(async () => {
    dbDir = mkdtempSync(join(tmpdir(), 'sealpost-e2e-rotate-'));
    ks = await startE2eKeyService(join(dbDir, 'keyservice.db'));
    app = await ks.admin.createApp({ name: 'e2e rotation' });
    browser = await launchChromium();
    [alice, bob] = await Promise.all([startApp('alice'), startApp('bob')]);
    [a, b] = await Promise.all([alice.open(browser), bob.open(browser)]);
  });

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await browser?.close();
    await ks?.close().catch(() => undefined);
    if (dbDir) rmSync(dbDir, { recursive: true, force: true });
  });

  it('alice rotates after a confirmation; bob sees a signed rotation, still verified, no alarm', async () => {
    for (const [page, name] of [
      [a, 'alice'],
      [b, 'bob'],
    ] as const) {
      await ui.firstRunRegistered(page, '2468', { url: ks.url, app }, name);
    }
    await ui.addAndVerify(b, 'alice');

    await ui.goTo(a, 'Settings');
    await a.getByRole('button', { name: 'Rotate encryption key' }).click();
    const confirm = a.getByRole('form', { name: 'Confirm key rotation' });
    await confirm.getByText('Your old key is kept').waitFor();
    await confirm.getByLabel('PIN', { exact: true }).fill('2468');
    await screenshot(a, '60-rotate-confirm');
    await confirm.getByRole('button', { name: 'Rotate now' }).click();
    const result = a.getByTestId('rotation-result');
    await result.getByText('Key rotated. Your contacts will see the signed change').waitFor({ timeout: 60_000 });
    const fingerprint = ((await result.getByText(/New fingerprint/).textContent()) ?? '').replace('New fingerprint ', '');
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);

    await ui.goTo(b, 'Contacts');
    await b.getByLabel('Find someone by user name').fill('alice');
    await b.getByRole('button', { name: 'Add contact' }).click();
    const card = b.getByRole('listitem', { name: 'Contact alice' });
    await card.getByTestId('rotated-alice').waitFor();
    await expect(card.getByTestId('rotated-alice').textContent()).resolves.toMatch(/alice rotated their key on .*so they stay verified/);
    await card.getByText(`Fingerprint ${fingerprint}`).waitFor();
    expect(await card.getByText('Verified', { exact: true }).count()).toBe(1);
    expect(await card.getByRole('alert').count()).toBe(0);
    await screenshot(b, '61-contact-rotated');
  });
});
