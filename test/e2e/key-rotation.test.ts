/**
 * Key rotation through the UI: alice and bob register and verify each other;
 * alice opens Settings, reads what rotating does, confirms with her PIN and
 * sees the new fingerprint; bob refreshes alice in Contacts and sees "rotated
 * their key" — still verified, no changed-key alarm. A third desktop set up
 * from an identity file exported before the rotation is told, when it
 * connects, that it lacks the newer key.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, startApp, startTwoDesktops, ui, type TwoDesktops } from './harness.js';

describe('rotating the encryption key in the UI', () => {
  let t: TwoDesktops;
  let olderFile: string;
  let a: Page;
  let b: Page;

  beforeAll(async () => {
    t = await startTwoDesktops('rotation');
    ({ a, b } = t);
    olderFile = join(t.dir, 'alice-before-rotation.spid');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('alice rotates after a confirmation; bob sees a signed rotation, still verified, no alarm', async () => {
    await ui.bothRegistered(t, '2468');
    await ui.addAndVerify(b, 'alice');
    // An identity file made before the rotation (used by the next test).
    await ui.exportIdentity(a, olderFile, 'correct horse battery');

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
    const card = b.getByRole('group', { name: 'Contact alice' });
    await card.getByTestId('rotated-alice').waitFor();
    await expect(card.getByTestId('rotated-alice').textContent()).resolves.toMatch(/alice rotated their key on .*so they stay verified/);
    await card.getByText(`Fingerprint ${fingerprint}`).waitFor();
    expect(await card.getByText('Verified', { exact: true }).count()).toBe(1);
    expect(await card.getByRole('alert').count()).toBe(0);
    await screenshot(b, '61-contact-rotated');
  });

  it('a desktop set up from the identity file made before the rotation is told it has an older key', async () => {
    const desktop = await startApp('alice-older-file');
    try {
      const page = await desktop.open(t.browser);
      await ui.importIdentity(page, olderFile, 'correct horse battery', '1357');
      await ui.register(page, { url: t.ks.url, app: t.app }, 'alice');
      const warning = page.getByRole('alertdialog', { name: 'This desktop has an older key' });
      await warning.getByText('Messages sealed to the newer key are read on your desktops that have it, not here.', { exact: false }).waitFor();
      await screenshot(page, '62-older-identity-file');
      await warning.getByRole('button', { name: 'I understand' }).click();
      await ui.finishFirstRun(page);
    } finally {
      await desktop.close();
    }
  });
});
