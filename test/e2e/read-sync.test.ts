/**
 * Read state across one person's desktops, in real Chromium (docs/sync.md "Read on
 * our other devices"): alice and bob on two browser-mode desktops, and bob's second
 * desktop set up from his identity file, every engine syncing as the app does (live
 * stream and timer). A message from alice shows unread on both of bob's desktops;
 * bob opens it on one, and the other's chat list drops the unread count by itself,
 * without a click or a Sync now, and the notification it showed in the background
 * is withdrawn.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../electron/engine/dispatch.js';
import { ATTENTION_AND_NOTICES, noticeClosed, noticesShown } from './attention.js';
import { screenshot, startApp, startTwoDesktops, ui, type RunningApp, type TwoDesktops } from './harness.js';

/** Well beyond a busy machine's delivery time. */
const LIVE_MS = 30_000;
const PASSPHRASE = 'correct horse battery staple';

describe("read state follows bob from one of his desktops to the other", () => {
  let t: TwoDesktops;
  let bob2: RunningApp;
  let b2: Page;
  const rowOn = (page: Page, name: RegExp) => page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name });

  beforeAll(async () => {
    t = await startTwoDesktops('read-sync', { live: true });
    await ui.bothRegistered(t, '1357');
    await ui.addAndVerify(t.a, 'bob');
    // bob's second desktop: his identity from the file he exported, registered as bob.
    const exported = await dispatch(t.bob.service.handlers, 'identity:export', { passphrase: PASSPHRASE });
    if (exported.code !== 0) throw new Error(exported.message);
    bob2 = await startApp('bob2-read-sync', { live: true });
    for (const [channel, input] of [
      ['identity:import', { file: (exported.value as { file: string }).file, passphrase: PASSPHRASE, pin: '2468' }],
      ['device:register', { server: t.ks.url, appId: t.app.appId, serverKey: t.app.serverKey, username: 'bob' }],
    ] as const) {
      const r = await dispatch(bob2.service.handlers, channel, input);
      if (r.code !== 0) throw new Error(`${channel}: ${r.message}`);
    }
    b2 = await bob2.open(t.browser);
    await b2.context().addInitScript(ATTENTION_AND_NOTICES);
    await b2.reload();
    await b2.getByRole('navigation', { name: 'Main' }).waitFor();
    // Browser notifications allowed on the second desktop, as its user would in Settings.
    await ui.goTo(b2, 'Settings');
    await b2.context().grantPermissions(['notifications'], { origin: bob2.webhost.origin });
    await b2.getByRole('button', { name: 'Allow browser notifications' }).click();
    await b2.getByTestId('browser-notifications').filter({ hasText: 'shows a notification when messages arrive' }).waitFor();
  });

  afterAll(async () => {
    await bob2?.close();
    await t?.close();
  });

  it("bob reads alice's message on one desktop, and the other's unread count and notification go by themselves", async () => {
    // The second desktop is in the background (bob is at the first).
    await ui.goTo(b2, 'Chats');
    await b2.evaluate('window.__setAway(true)');
    const sent = await dispatch(t.alice.service.handlers, 'messages:send', { to: ['bob'], text: 'Lunch at noon?' });
    expect(sent.code).toBe(0);

    // Both of bob's desktops show it unread (live: no Sync now); the one in the background notifies.
    await b2.waitForFunction(noticesShown, 1, { timeout: LIVE_MS });
    await rowOn(b2, /^alice, 1 unread/).waitFor({ timeout: LIVE_MS });
    await ui.goTo(t.b, 'Chats');
    const onFirst = rowOn(t.b, /^alice, 1 unread/);
    await onFirst.waitFor({ timeout: LIVE_MS });

    // He opens the conversation on the first desktop.
    await onFirst.click();
    await t.b.getByRole('log', { name: 'alice', exact: true }).getByText('Lunch at noon?').waitFor();

    // The second desktop, untouched, drops the count and withdraws its notification.
    await rowOn(b2, /^alice: /).waitFor({ timeout: LIVE_MS });
    expect(await rowOn(b2, /unread/).count()).toBe(0);
    await b2.waitForFunction(noticeClosed, 0, { timeout: LIVE_MS });
    await b2.evaluate('window.__setAway(false)');
    await screenshot(b2, 'read-sync-second-desktop');
  });
});
