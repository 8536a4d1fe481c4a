/**
 * Read receipts as people see them, in real Chromium: two browser-mode desktops
 * on one key service, each engine syncing as the app does (live stream and
 * timer). bob opening the conversation turns alice's message Read on her open
 * conversation without a click, with the time in its tooltip; a message that
 * arrives while bob's window is behind another app is not marked read (so no
 * receipt says he saw it) until he comes back; with "Send read receipts" off in
 * Settings, reading sends none.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineOf } from '../helpers/seed-conversation.js';
import { listOutbox } from '../../electron/engine/vault/outbox.js';
import { screenshot, startTwoDesktops, ui, type TwoDesktops } from './harness.js';

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
    for (const [page, name] of [
      [a, 'alice'],
      [b, 'bob'],
    ] as const) {
      await ui.firstRunRegistered(page, '1357', { url: t.ks.url, app: t.app }, name);
    }
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
  });
});
