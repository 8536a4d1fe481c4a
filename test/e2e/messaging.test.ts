/**
 * Two desktops, one real key service: alice and bob each go through first run
 * and register in the UI, find and verify each other by safety number; alice
 * writes while the key service is down (the message waits in her outbox, the
 * UI says offline), the key service comes back, the message goes out, bob
 * receives it from a verified sender and replies. Then alice shares a vault
 * item with bob (read only), bob opens it and sees who shared it, alice revokes
 * it (the item key is rotated; the UI says bob may keep what he opened), bob's
 * next sync is refused the new version, alice reads the key service's log of
 * it, and her audit view shows all of it. Last, alice exports her identity file
 * and a second desktop imports it, connects as alice and opens her item.
 *
 * Each profile's engine runs behind its own webhost; the key service is a
 * real startServer() on loopback with its own SQLite file, stopped and
 * started again on the same port and database.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, startApp, startTwoDesktops, ui, type TwoDesktops } from './harness.js';

describe('two desktops through one key service', () => {
  let t: TwoDesktops;
  let a: Page;
  let b: Page;

  beforeAll(async () => {
    t = await startTwoDesktops('messaging');
    ({ a, b } = t);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('both register during first run and verify each other by safety number', async () => {
    await ui.bothRegistered(t, '1357');
    await a.getByRole('status', { name: 'Sync status' }).waitFor();
    await screenshot(a, '20-registered');
    const bobAsSeenByAlice = await ui.addAndVerify(a, 'bob');
    const aliceAsSeenByBob = await ui.addAndVerify(b, 'alice');
    // The safety number is the same on both sides: that is what they compare.
    expect(bobAsSeenByAlice.replace(/\D/g, '')).toBe(aliceAsSeenByBob.replace(/\D/g, ''));
    await screenshot(a, '21-contacts');
  });

  it('a message written while the key service is down waits in the outbox, then goes out', async () => {
    await t.stopKeyService();
    await ui.goTo(a, 'Chats');
    await a.getByRole('button', { name: 'New conversation' }).first().click();
    const picker = a.getByRole('dialog', { name: 'New conversation' });
    await picker.getByRole('list', { name: 'Contacts' }).getByRole('button', { name: /bob/ }).click();
    const box = a.getByRole('textbox', { name: 'Message to bob' });
    await box.fill('Thursday at 8? I booked the place on the corner.');
    await box.press('Enter');
    const log = a.getByRole('log', { name: 'bob', exact: true });
    const sent = log.getByRole('article').filter({ hasText: 'Thursday at 8?' });
    await sent.getByTestId('outbox-state').filter({ hasText: 'Queued' }).waitFor();
    expect(await box.inputValue()).toBe('');
    await a.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /^bob.*You: Thursday at 8\?/ }).waitFor();
    await ui.syncNow(a);
    await a.getByTestId('online-state').filter({ hasText: 'Offline' }).waitFor();
    expect(await a.getByTestId('outbox-pending').textContent()).toContain('1 waiting to send');
    await a.getByRole('alert').filter({ hasText: 'NoInternetAccess (-200)' }).waitFor();
    await screenshot(a, '22-queued-offline');

    await t.restartKeyService();
    // The outbox backs off after the failed attempt; "Send now" makes it due at once.
    await sent.getByRole('button', { name: 'Send now' }).click();
    // The harness runs no sync timer (the app does), so the test syncs by hand.
    await ui.syncNow(a);
    await sent.getByTestId('outbox-state').filter({ hasText: /Sent|Delivered|Read/ }).waitFor();
    await a.getByTestId('online-state').filter({ hasText: 'Online' }).waitFor();
    expect(await a.getByTestId('outbox-pending').textContent()).toContain('Nothing waiting to send');
  });

  it('bob receives it from a verified sender and replies; alice gets the reply', async () => {
    await ui.goTo(b, 'Chats');
    await ui.syncNow(b);
    const row = b.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /^alice/ });
    await row.waitFor();
    expect(await row.getAttribute('aria-label')).toMatch(/^alice, 1 unread, verified: Thursday at 8\?/);
    await row.click();
    const log = b.getByRole('log', { name: 'alice', exact: true });
    await log.getByRole('article').filter({ hasText: 'Thursday at 8? I booked the place on the corner.' }).waitFor();
    // The sender check, once for the conversation.
    await b.getByTestId('sender-check').filter({ hasText: 'Verified: you compared safety numbers with alice' }).waitFor();
    // Opened while the page is visible: read.
    await b.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /^alice, verified/ }).waitFor();
    await screenshot(b, '23-bob-conversation');
    const reply = b.getByRole('textbox', { name: 'Message to alice' });
    await reply.fill('Yes! See you there.');
    await reply.press('Enter');
    await ui.syncNow(b);
    await log.getByRole('article').filter({ hasText: 'Yes! See you there.' }).getByTestId('outbox-state').filter({ hasText: /Sent|Delivered|Read/ }).waitFor();

    await ui.syncNow(a);
    const aliceLog = a.getByRole('log', { name: 'bob', exact: true });
    await aliceLog.getByRole('article').filter({ hasText: 'Yes! See you there.' }).waitFor();
    await a.getByTestId('sender-check').filter({ hasText: 'Verified' }).waitFor();
    // Mine right, theirs left, in the order they were written.
    const order = await aliceLog.getByRole('article').evaluateAll((els) => els.map((e) => `${e.className.includes('mine') ? 'me' : 'bob'}: ${e.querySelector('.bubble-text')?.textContent ?? ''}`));
    expect(order).toEqual(['me: Thursday at 8? I booked the place on the corner.', 'bob: Yes! See you there.']);
    await screenshot(a, '24-alice-conversation');
  });

  it('alice shares a vault item with bob; bob opens it and sees who shared it; after the revoke bob cannot get the new version', async () => {
    await ui.goTo(a, 'Vault');
    await ui.newNote(a, 'Door code', '4711#');
    await a.getByRole('tab', { name: 'Sharing' }).click();
    await a.getByLabel('Share with (a user name)').fill('bob');
    await a.getByLabel('Role').selectOption('read');
    await a.getByRole('button', { name: 'Share', exact: true }).click();
    // bob was verified by safety number: no confirmation needed.
    await a.getByText('Shared with bob (read only).').waitFor();
    const access = a.getByRole('list', { name: 'People with access' });
    await access.getByText(/bob · read only/).waitFor();
    await screenshot(a, '25-sharing');

    await ui.goTo(b, 'Vault');
    await b.getByRole('button', { name: 'Sync items' }).click();
    const shared = b.getByRole('list', { name: 'Items' }).getByRole('button', { name: /Door code/ });
    await shared.getByText('Shared by alice · read only').waitFor();
    await shared.click();
    await b.getByTestId('shared-by').filter({ hasText: 'Shared with you by alice' }).waitFor();
    expect(await b.getByTestId('note-text').inputValue()).toBe('4711#');
    expect(await b.getByRole('button', { name: 'Save', exact: true }).count()).toBe(0);
    await screenshot(b, '25b-bob-shared-item');

    await a.getByRole('button', { name: 'Revoke access for bob' }).click();
    await a.getByRole('alertdialog').getByText(/They may keep what they already opened/).waitFor();
    await a.getByRole('button', { name: 'Revoke access', exact: true }).click();
    await a.getByText(/bob can no longer open this item from version 2 on/).waitFor();
    expect(await access.getByText(/bob/).count()).toBe(0);
    await a.getByRole('list', { name: 'Items' }).getByText('v2').first().waitFor();

    await b.getByRole('button', { name: 'Sync items' }).click();
    await shared.getByText('Access revoked').waitFor();
    await b.getByRole('alert').filter({ hasText: 'alice revoked your access' }).waitFor();
    // bob keeps the version he opened; the re-encrypted version 2 never reaches him.
    expect(await shared.textContent()).toContain('v1');
    expect(await b.getByTestId('note-text').inputValue()).toBe('4711#');
    await screenshot(b, '25c-bob-revoked');

    await a.getByRole('button', { name: 'Key service log' }).click();
    const log = a.getByLabel('Key service log');
    await log.getByText(/bob · items\.get · refused \(403\)/).first().waitFor();
  });

  it("alice's audit view shows registration, verification, the message and the sharing", async () => {
    await ui.goTo(a, 'Audit');
    const table = a.getByRole('table', { name: 'Audit entries' });
    for (const action of ['device.register', 'contact.verify', 'message.send', 'grant', 'revoke']) {
      await table.getByRole('cell', { name: action, exact: true }).first().waitFor();
    }
    await a.getByTestId('chain-badge').filter({ hasText: 'Chain verified' }).waitFor();
    await screenshot(a, '26-audit-after-messaging');
  });

  it('alice exports her identity in Settings; a second desktop imports it, connects as alice and sees her item', async () => {
    const file = join(t.dir, 'alice.spid');
    await ui.exportIdentity(a, file, 'correct horse battery');

    const laptop = await startApp('alice-laptop');
    try {
      const l = await laptop.open(t.browser);
      await ui.importIdentity(l, file, 'correct horse battery', '2468');
      await ui.register(l, { url: t.ks.url, app: t.app }, 'alice');
      await ui.finishFirstRun(l);
      const item = l.getByRole('list', { name: 'Items' }).getByRole('button', { name: /Door code/ });
      await item.waitFor();
      await item.click();
      expect(await l.getByTestId('note-text').inputValue()).toBe('4711#');
      await screenshot(l, '27-second-desktop');
    } finally {
      await laptop.close();
    }
  });
});
