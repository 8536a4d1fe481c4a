/**
 * Read receipts as people see them, in real Chromium: two browser-mode desktops
 * on one key service, each engine syncing as the app does (live stream and
 * timer). bob opening the conversation turns alice's message Read on her open
 * conversation without a click, with the time in its tooltip; a message that
 * arrives while bob's window is behind another app is not marked read (so no
 * receipt says he saw it) until he comes back; with "Send read receipts" off in
 * Settings, reading sends none (a later receipt, once they are on again, shows
 * none came before it); in a group, the copy its member read says "Read by".
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineOf } from '../helpers/seed-conversation.js';
import { listOutbox } from '../../electron/engine/vault/outbox.js';
import { openService, type Service } from '../../electron/engine/service/index.js';
import { TEST_KDF_PARAMS } from '../../electron/engine/crypto/pin-kdf.js';
import { screenshot, startTwoDesktops, ui, type TwoDesktops } from './harness.js';
import { ok } from './tour.js';

/** Well beyond a busy machine's delivery time. */
const LIVE_MS = 30_000;

/** Stands in for bob's window going behind another app and coming back (headless pages are always focused). */
const ATTENTION = `(() => {
  let away = false;
  window.__setAway = (value) => { away = value; window.dispatchEvent(new Event(value ? 'blur' : 'focus')); };
  Document.prototype.hasFocus = () => !away;
})()`;

describe('read receipts between two desktops', () => {
  let t: TwoDesktops;
  let a: Page;
  let b: Page;
  const unread = async () => {
    const r = await t.bob.service.handlers['messages:conversations']({});
    if (r.code !== 0) throw new Error(r.message);
    return r.value.reduce((n, c) => n + c.unread, 0);
  };
  const bobsReceipts = () => listOutbox(engineOf(t.bob.service).db).filter((e) => e.kind === 'receipt');
  const send = async (text: string) => {
    await a.getByRole('textbox', { name: 'Message to bob' }).fill(text);
    await a.getByRole('button', { name: 'Send', exact: true }).click();
  };
  const stateOf = (text: string) => a.getByRole('log', { name: 'bob', exact: true }).getByRole('article').filter({ hasText: text }).getByTestId('outbox-state');

  beforeAll(async () => {
    t = await startTwoDesktops('receipts', { live: true });
    ({ a, b } = t);
    await b.context().addInitScript(ATTENTION);
    await b.reload();
    await ui.bothRegistered(t, '1357');
    await ui.addAndVerify(a, 'bob');
    await ui.addAndVerify(b, 'alice');
  });

  afterAll(async () => {
    await t?.close();
  });

  it("bob opening the conversation turns alice's message Read, live, with when in its tooltip", async () => {
    await ui.goTo(a, 'Chats');
    await a.getByRole('button', { name: 'New conversation' }).first().click();
    await a.getByRole('dialog', { name: 'New conversation' }).getByRole('list', { name: 'Contacts' }).getByRole('button', { name: /bob/ }).click();
    await send('Did you see the plan?');
    await stateOf('Did you see the plan?').filter({ hasText: 'Delivered' }).waitFor({ timeout: LIVE_MS });

    await ui.goTo(b, 'Chats');
    const fromAlice = b.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /^alice/ });
    await fromAlice.first().waitFor({ timeout: LIVE_MS });
    await fromAlice.first().click();
    const read = stateOf('Did you see the plan?').filter({ hasText: 'Read' });
    await read.waitFor({ timeout: LIVE_MS });
    expect(await read.getAttribute('title')).toMatch(/^Read \S/);
    await screenshot(a, '73-read-receipt');
  });

  it('a message that arrives while bob is in another app is read (and receipted) only when he comes back', async () => {
    const conversation = b.getByRole('log', { name: 'alice', exact: true });
    await b.evaluate('window.__setAway(true)');
    await send('Are you still there?');
    await conversation.getByRole('article').filter({ hasText: 'Are you still there?' }).waitFor({ timeout: LIVE_MS });
    await stateOf('Are you still there?').filter({ hasText: 'Delivered' }).waitFor({ timeout: LIVE_MS });
    // On screen but not looked at: still unread, and no receipt written.
    expect(await unread()).toBe(1);
    expect(bobsReceipts()).toEqual([]);
    await b.evaluate('window.__setAway(false)');
    await stateOf('Are you still there?').filter({ hasText: 'Read' }).waitFor({ timeout: LIVE_MS });
    expect(await unread()).toBe(0);
  });

  it('with "Send read receipts" off, reading sends none and alice sees Delivered', async () => {
    await ui.goTo(b, 'Settings');
    const toggle = b.getByLabel('Send read receipts');
    await toggle.waitFor();
    expect(await toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await b.getByText('No read receipts go out, and your messages stop at Delivered.').waitFor();
    await screenshot(b, '74-read-receipts-off');

    await ui.goTo(b, 'Chats');
    await ui.openConversation(b, 'alice');
    await send('This one stays unread to me.');
    await b.getByRole('log', { name: 'alice', exact: true }).getByRole('article').filter({ hasText: 'This one stays unread to me.' }).waitFor({ timeout: LIVE_MS });
    // bob's open, focused conversation marked it read: wait for that, then no receipt may exist.
    await expect.poll(unread, { timeout: LIVE_MS }).toBe(0);
    expect(bobsReceipts()).toEqual([]);
    await stateOf('This one stays unread to me.').filter({ hasText: 'Delivered' }).waitFor({ timeout: LIVE_MS });
    // The earlier ones keep what alice learnt: her own receipts are still on.
    await stateOf('Did you see the plan?').filter({ hasText: 'Read' }).waitFor();

    // Receipts on again: the next message bob reads turns Read. Receipts travel in
    // order, so once that one has arrived, any for the earlier message would have too.
    await ui.goTo(b, 'Settings');
    await b.getByLabel('Send read receipts').check();
    await b.getByText('People you write to see when you have read their messages, and you see when they read yours.').waitFor();
    await ui.goTo(b, 'Chats');
    await ui.openConversation(b, 'alice');
    await send('And this one?');
    await stateOf('And this one?').filter({ hasText: 'Read' }).waitFor({ timeout: LIVE_MS });
    expect(await stateOf('This one stays unread to me.').textContent()).toBe('Delivered');
  });

  it('in a group, the copy one member read says "Read by" her, the other "Delivered to"', async () => {
    const carol: Service = await openService({ profileDir: `${t.dir}/carol`, keychain: 'file', kdfParams: TEST_KDF_PARAMS, actor: 'test' });
    const c = { name: 'carol', service: carol };
    try {
      await ok(c, 'identity:create', { pin: '0', rsaBits: 2048 });
      await ok(c, 'device:register', { server: t.ks.url, appId: t.app.appId, serverKey: t.app.serverKey, clientKey: t.app.clientKey, username: 'carol' });
      for (const peer of ['alice', 'bob']) await ok(c, 'contacts:lookup', { username: peer });
      await ok(t.alice, 'contacts:lookup', { username: 'carol' });
      await ok(t.bob, 'contacts:lookup', { username: 'carol' });

      await ui.goTo(a, 'Chats');
      await a.getByRole('button', { name: 'New conversation' }).first().click();
      await a.getByRole('dialog', { name: 'New conversation' }).getByRole('button', { name: 'New group' }).click();
      const picker = a.getByRole('dialog', { name: 'New group' });
      await picker.getByRole('checkbox', { name: /bob/ }).click();
      await picker.getByRole('checkbox', { name: /carol/ }).click();
      await picker.getByRole('button', { name: /^Start group/ }).click();
      await a.getByRole('textbox', { name: 'Message to bob, carol' }).fill('Lunch on Friday?');
      await a.getByRole('button', { name: 'Send', exact: true }).click();
      const bubble = a.getByRole('log', { name: 'bob, carol', exact: true }).getByRole('article').filter({ hasText: 'Lunch on Friday?' });
      await bubble.waitFor();

      // carol's engine (no page) fetches it and reads it; bob stays in his conversation with alice.
      const carolsGroup = async () => {
        await ok(c, 'sync:now', {});
        return (await ok(c, 'messages:conversations', {})).find((g) => g.group && g.unread > 0) ?? null;
      };
      await expect.poll(carolsGroup, { timeout: LIVE_MS }).not.toBeNull();
      await ok(c, 'messages:markRead', { conversation: (await carolsGroup())!.peer });
      await ok(c, 'sync:now', {});

      const copies = bubble.getByTestId('copy-states');
      await copies.filter({ hasText: 'Delivered to bob · Read by carol' }).waitFor({ timeout: LIVE_MS });
      // Not every copy is read, so the bubble says Delivered; its tooltip says when carol read hers.
      const state = bubble.getByTestId('outbox-state');
      expect(await state.textContent()).toBe('Delivered');
      expect(await state.getAttribute('title')).toMatch(/^bob: Delivered.*\ncarol: Read \S/);
      await screenshot(a, '75-group-read-by');
    } finally {
      carol.close();
    }
  });
});
