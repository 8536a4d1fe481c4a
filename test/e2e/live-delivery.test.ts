/**
 * Real-time delivery as a user sees it, in real Chromium: two browser-mode
 * desktops on one key service, each engine running its sync (live stream and
 * timer) as the app does. Nobody presses "Sync now" and the receiver never
 * clicks to fetch: bob's list shows alice's first message by itself, and once
 * he has the conversation open, her next message appears in it while alice's
 * copy turns Delivered (or Read). Locking from outside the page (the idle timer, the
 * tray) shows the unlock screen at once, through the `lock` event. With
 * browser notifications allowed in Settings, a message that arrives while
 * bob's page is in the background raises a Web Notification: the count only,
 * then sender and text once he opts in.
 *
 * The app's own safety reload runs once a minute; every wait here is far
 * shorter than that, so what it sees came through the engine's events.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTENTION_AND_NOTICES, noticesShown } from './attention.js';
import { screenshot, startTwoDesktops, ui, type TwoDesktops } from './harness.js';

/** Well inside the app's one-minute safety reload, well beyond a busy machine's delivery time. */
const LIVE_MS = 30_000;

describe('live delivery between two desktops', () => {
  let t: TwoDesktops;
  let a: Page;
  let b: Page;

  beforeAll(async () => {
    t = await startTwoDesktops('live', { live: true });
    ({ a, b } = t);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('both register and the sync bar says Live', async () => {
    await ui.bothRegistered(t, '1357');
    await ui.addAndVerify(a, 'bob');
    await ui.addAndVerify(b, 'alice');
    for (const page of [a, b]) await page.getByTestId('stream-state').filter({ hasText: 'Live' }).waitFor({ timeout: LIVE_MS });
  });

  it("alice's message shows up in bob's inbox and open conversation with no click, and turns Delivered", async () => {
    await ui.goTo(b, 'Chats');
    await ui.goTo(a, 'Chats');
    await a.getByRole('button', { name: 'New conversation' }).first().click();
    await a.getByRole('dialog', { name: 'New conversation' }).getByRole('list', { name: 'Contacts' }).getByRole('button', { name: /bob/ }).click();
    await a.getByRole('textbox', { name: 'Message to bob' }).fill('Are you there?');
    await a.getByRole('button', { name: 'Send', exact: true }).click();

    // Bob's list, open and untouched, gets it.
    const fromAlice = b.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /^alice/ });
    await fromAlice.first().waitFor({ timeout: LIVE_MS });
    await fromAlice.first().click();
    const conversation = b.getByRole('log', { name: 'alice', exact: true });
    await conversation.getByRole('article').filter({ hasText: 'Are you there?' }).waitFor();

    // Alice writes again in her conversation; bob's open conversation shows it by itself.
    await a.getByRole('textbox', { name: 'Message to bob' }).fill('Dinner at 8, on the corner.');
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    await conversation.getByRole('article').filter({ hasText: 'Dinner at 8, on the corner.' }).waitFor({ timeout: LIVE_MS });

    // Bob's device pulled both: alice's copies turn Delivered, without a sync by hand (and Read,
    // since bob has the conversation open and read receipts are on: read-receipts.test.ts).
    const sent = a.getByRole('log', { name: 'bob', exact: true }).locator('article.mine');
    await sent.nth(1).waitFor();
    for (const article of await sent.all()) await article.getByTestId('outbox-state').filter({ hasText: /Delivered|Read/ }).waitFor({ timeout: LIVE_MS });
    await screenshot(b, '70-live-conversation');
    await screenshot(a, '71-live-delivered');
  });

  it('with browser notifications allowed, a message to a page in the background is announced: the count, then who and what after opting in', async () => {
    await b.context().addInitScript(ATTENTION_AND_NOTICES);
    await b.reload();
    await b.getByRole('navigation', { name: 'Main' }).waitFor();
    await ui.goTo(b, 'Settings');
    const allow = b.getByRole('button', { name: 'Allow browser notifications' });
    await allow.waitFor();
    await b.context().grantPermissions(['notifications'], { origin: t.bob.webhost.origin });
    await allow.click();
    await b.getByTestId('browser-notifications').filter({ hasText: 'shows a notification when messages arrive' }).waitFor();
    await screenshot(b, '72-browser-notifications-allowed');

    const reply = a.getByRole('textbox', { name: 'Message to bob' });
    await b.evaluate('window.__setAway(true)');
    await reply.fill('Are you free on Friday?');
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    await b.waitForFunction(noticesShown, 1, { timeout: LIVE_MS });
    expect(await b.evaluate('window.__notices[0]')).toMatchObject({ title: 'Sealpost', body: 'A new message arrived.' });

    await b.evaluate('window.__setAway(false)');
    await b.getByLabel('Show sender and message text in notifications').check();
    await b.getByText('Notifications show who wrote and the start of the message.').waitFor();
    await b.evaluate('window.__setAway(true)');
    await reply.fill('Bring the wine.');
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    await b.waitForFunction(noticesShown, 2, { timeout: LIVE_MS });
    expect(await b.evaluate('window.__notices[1]')).toMatchObject({ title: 'Sealpost · alice', body: 'Bring the wine.' });
    await b.evaluate('window.__setAway(false)');
  });

  it('a lock from outside the page shows the unlock screen at once', async () => {
    const locked = await t.bob.service.handlers['session:lock']({});
    if (locked.code !== 0) throw new Error(`session:lock answered ${locked.code}`);
    await b.getByRole('heading', { name: 'Unlock Sealpost' }).waitFor({ timeout: LIVE_MS });
    await ui.unlock(b, '1357');
    await b.getByRole('navigation', { name: 'Main' }).waitFor();
  });
});
