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
    for (const [page, name] of [
      [a, 'alice'],
      [b, 'bob'],
    ] as const) {
      await ui.firstRunRegistered(page, '1357', { url: t.ks.url, app: t.app }, name);
    }
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
    await a.getByRole('button', { name: 'New message' }).click();
    await a.getByLabel('To (user names, separated by commas)').fill('bob');
    await a.getByLabel('Subject').fill('Dinner');
    await a.getByLabel('Message', { exact: true }).fill('Thursday at 8? I booked the place on the corner.');
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    await a.getByRole('list', { name: 'Messages' }).getByText('Queued').waitFor();
    await ui.syncNow(a);
    await a.getByTestId('online-state').filter({ hasText: 'Offline' }).waitFor();
    expect(await a.getByTestId('outbox-pending').textContent()).toContain('1 waiting to send');
    await a.getByRole('alert').filter({ hasText: 'NoInternetAccess (-200)' }).waitFor();
    await screenshot(a, '22-queued-offline');

    await t.restartKeyService();
    // The outbox backs off after the failed attempt; "Send now" makes it due at once.
    await a.getByRole('list', { name: 'Messages' }).getByRole('button', { name: /To bob/ }).click();
    const sent = a.getByRole('article', { name: /Sent message Dinner/ });
    await sent.getByRole('button', { name: 'Send now' }).click();
    // The harness runs no sync timer (the app does), so the test syncs by hand.
    await ui.syncNow(a);
    await sent.getByTestId('outbox-state').filter({ hasText: 'Sent' }).waitFor();
    await a.getByTestId('online-state').filter({ hasText: 'Online' }).waitFor();
    expect(await a.getByTestId('outbox-pending').textContent()).toContain('0 waiting to send');
  });

  it('bob receives it from a verified sender and replies; alice gets the reply', async () => {
    await ui.goTo(b, 'Chats');
    await ui.syncNow(b);
    const item = b.getByRole('list', { name: 'Messages' }).getByRole('button', { name: /alice/ });
    await item.waitFor();
    expect(await item.textContent()).toContain('unread');
    expect(await item.textContent()).toContain('Verified sender');
    await item.click();
    await b.getByRole('heading', { name: 'Conversation with alice' }).waitFor();
    await b.getByRole('article', { name: /Received message Dinner/ }).getByText('Thursday at 8? I booked the place on the corner.').waitFor();
    await screenshot(b, '23-bob-conversation');
    await b.getByLabel('Your reply').fill('Yes! See you there.');
    await b.getByRole('button', { name: 'Send', exact: true }).click();
    await ui.syncNow(b);
    await b.getByRole('article', { name: /Sent message/ }).getByText('Sent', { exact: true }).waitFor();

    await ui.syncNow(a);
    await a.getByRole('list', { name: 'Messages' }).getByRole('button', { name: /^bob/ }).click();
    const reply = a.getByRole('article', { name: /Received message/ });
    await reply.getByText('Yes! See you there.').waitFor();
    expect(await reply.getByText('Verified sender').count()).toBe(1);
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
