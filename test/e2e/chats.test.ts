/**
 * The chat screens in real Chromium, three desktops' engines on one real key
 * service (alice and bob with pages, carol engine-only): conversation order by
 * the sender's signed time (two of bob's messages stored in the opposite order
 * to the one he wrote them in), Enter sends and Shift+Enter makes a new line,
 * a draft kept per conversation, a pasted image and a dropped file attached,
 * the image previewed inline from memory (a blob: URL the CSP allows) on both
 * sides, the safety number as digits and QR code in Contacts, and a group
 * started from New conversation where everyone's replies meet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openService, type Service } from '../../electron/engine/service/index.js';
import { TEST_KDF_PARAMS } from '../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../electron/engine/dispatch.js';
import { seedConversation } from '../helpers/seed-conversation.js';
import { screenshot, startTwoDesktops, ui, type TwoDesktops } from './harness.js';
import { ensureUnlocked, ok, PIN, samplePng } from './tour.js';

describe('chats', () => {
  let t: TwoDesktops;
  let a: Page;
  let b: Page;
  let carol: Service;
  let bobId: string;

  const log = (page: Page, name: string) => page.getByRole('log', { name, exact: true });
  const composer = (page: Page, name: string) => page.getByRole('textbox', { name: `Message to ${name}` });

  beforeAll(async () => {
    t = await startTwoDesktops('chats');
    ({ a, b } = t);
    const ks = { server: t.ks.url, appId: t.app.appId, serverKey: t.app.serverKey, clientKey: t.app.clientKey };
    for (const [app, username] of [
      [t.alice, 'alice'],
      [t.bob, 'bob'],
    ] as const) {
      await ok(app, 'identity:create', { pin: PIN, rsaBits: 2048 });
      await ok(app, 'device:register', { ...ks, username });
    }
    carol = await openService({ profileDir: `${t.dir}/carol`, keychain: 'file', kdfParams: TEST_KDF_PARAMS, actor: 'test' });
    for (const [channel, input] of [
      ['identity:create', { pin: '0', rsaBits: 2048 }],
      ['device:register', { ...ks, username: 'carol' }],
    ] as const) {
      const r = await dispatch(carol.handlers, channel, input);
      if (r.code !== 0) throw new Error(`carol ${channel}: ${r.message}`);
    }
    for (const [app, peer] of [
      [t.alice, 'bob'],
      [t.bob, 'alice'],
      [t.alice, 'carol'],
    ] as const) {
      const contact = await ok(app, 'contacts:lookup', { username: peer });
      if (peer !== 'carol') await ok(app, 'contacts:verify', { userId: contact.userId, fingerprint: contact.fingerprint });
      if (peer === 'bob') bobId = contact.userId;
    }
    for (const page of [a, b]) {
      await page.reload();
      await ensureUnlocked(page);
    }
  });

  afterAll(async () => {
    carol?.close();
    await t?.close();
  });

  it("shows bob's messages in the order he wrote them, not the order they arrived in", async () => {
    const at = new Date();
    at.setHours(6, 7, 26, 0);
    // 6:07:26 is stored first (it reached the key service first), 6:07:25 after it.
    seedConversation(t.alice.service, t.bob.service, { username: 'bob', userId: bobId, count: 2, sentAt: (i) => at.getTime() - i * 1000, text: (i) => (i === 0 ? 'second, at :26' : 'first, at :25'), verified: true });
    await ui.goTo(a, 'Chats');
    await ui.openConversation(a, 'bob');
    const texts = log(a, 'bob').locator('.bubble-text');
    await texts.nth(1).waitFor();
    expect(await texts.allTextContents()).toEqual(['first, at :25', 'second, at :26']);
    const times = await log(a, 'bob').locator('time').evaluateAll((els) => els.map((e) => e.getAttribute('datetime')));
    expect(times).toEqual([new Date(at.getTime() - 1000).toISOString(), at.toISOString()]);
    // One day separator above them.
    expect(await log(a, 'bob').getByRole('separator').count()).toBe(1);
  });

  it('Enter sends, Shift+Enter starts a new line', async () => {
    const box = composer(a, 'bob');
    await box.click();
    await box.pressSequentially('Line one');
    await box.press('Shift+Enter');
    await box.pressSequentially('line two');
    expect(await box.inputValue()).toBe('Line one\nline two');
    expect(await log(a, 'bob').getByRole('article').count()).toBe(2);
    await box.press('Enter');
    const sent = log(a, 'bob').getByRole('article').filter({ hasText: 'Line one' });
    await sent.waitFor();
    expect(await sent.locator('.bubble-text').textContent()).toBe('Line one\nline two');
    expect(await sent.getAttribute('class')).toContain('mine');
    expect(await box.inputValue()).toBe('');
    // Newest last, after bob's two.
    expect(await log(a, 'bob').locator('.bubble-text').allTextContents()).toEqual(['first, at :25', 'second, at :26', 'Line one\nline two']);
  });

  it('keeps a draft per conversation', async () => {
    await composer(a, 'bob').fill('Half a thought for bob');
    await a.getByRole('button', { name: 'New conversation' }).first().click();
    await a.getByRole('dialog', { name: 'New conversation' }).getByRole('button', { name: /carol/ }).click();
    await log(a, 'carol').or(a.getByRole('heading', { name: 'No messages with carol yet' })).first().waitFor();
    expect(await composer(a, 'carol').inputValue()).toBe('');
    await composer(a, 'carol').fill('Something for carol');
    await ui.openConversation(a, 'bob');
    expect(await composer(a, 'bob').inputValue()).toBe('Half a thought for bob');
    // Another screen and back: still there.
    await ui.goTo(a, 'Contacts');
    await ui.goTo(a, 'Chats');
    await ui.openConversation(a, 'bob');
    expect(await composer(a, 'bob').inputValue()).toBe('Half a thought for bob');
    await a.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /^carol/ }).or(a.getByRole('button', { name: 'New conversation' }).first()).first().waitFor();
    await composer(a, 'bob').fill('');
  });

  it('attaches a pasted image and a dropped file; the image shows inline from memory on both sides', async () => {
    await ui.openConversation(a, 'bob');
    const png = samplePng(120, 80).toString('base64');
    // Paste: an image on the clipboard, into the composer.
    // (Strings run in the page: this file is compiled without the DOM's types.)
    await a.evaluate(`(() => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(png)}), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
      const paste = new ClipboardEvent('paste', { bubbles: true, cancelable: true });
      Object.defineProperty(paste, 'clipboardData', { value: dt });
      document.querySelector('textarea.composer-input').dispatchEvent(paste);
    })()`);
    // Drop: a text file onto the conversation.
    const dataTransfer = await a.evaluateHandle(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['agenda: 1. dinner 2. door code'], 'agenda.txt', { type: 'text/plain' }));
      return dt;
    })()`);
    await a.locator('.conversation').dispatchEvent('dragover', { dataTransfer });
    await a.locator('.conversation').dispatchEvent('drop', { dataTransfer });
    const files = a.getByRole('list', { name: 'Attached files' });
    await files.getByTestId('attach-state').filter({ hasText: 'Ready' }).nth(1).waitFor();
    expect(await files.getByText(/^pasted-.*\.png$/).count()).toBe(1);
    expect(await files.getByText('agenda.txt').count()).toBe(1);
    await composer(a, 'bob').fill('The view, and the agenda');
    await composer(a, 'bob').press('Enter');

    // Alice's own copy: the image opens from memory and shows (decoded, so the CSP let the blob: URL through).
    const mine = log(a, 'bob').getByRole('article').filter({ hasText: 'The view, and the agenda' });
    const img = mine.getByRole('img', { name: /^pasted-.*\.png$/ });
    await img.waitFor();
    await expect.poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(120);
    expect(await img.getAttribute('src')).toMatch(/^blob:/);
    await screenshot(a, '40-image-preview');

    await ui.syncNow(a);
    await ui.goTo(b, 'Chats');
    await ui.syncNow(b);
    await ui.openConversation(b, 'alice');
    const got = log(b, 'alice').getByRole('article').filter({ hasText: 'The view, and the agenda' });
    const theirs = got.getByRole('img', { name: /^pasted-.*\.png$/ });
    await theirs.waitFor();
    await expect.poll(() => theirs.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(120);
    expect(await got.getByRole('button', { name: 'Save agenda.txt' }).count()).toBe(1);
    // Nothing was written to bob's disk to show it: no download happened.
    await screenshot(b, '41-image-received');
  });

  it('shows the safety number as digits and as a QR code in Contacts, the same on both sides', async () => {
    const numbers: string[] = [];
    for (const [page, peer] of [
      [a, 'bob'],
      [b, 'alice'],
    ] as const) {
      await ui.goTo(page, 'Contacts');
      await page.getByRole('list', { name: 'Contacts' }).getByRole('button', { name: new RegExp(`^${peer}`) }).click();
      const card = page.getByRole('group', { name: `Contact ${peer}` });
      const digits = ((await card.getByTestId(`safety-${peer}`).textContent()) ?? '').replace(/\D/g, '');
      expect(digits).toHaveLength(60);
      const qr = card.getByRole('img', { name: `QR code of the safety number with ${peer}` });
      await qr.waitFor();
      expect(await qr.getAttribute('data-qr-text')).toBe(digits);
      expect(((await qr.locator('path').getAttribute('d')) ?? '').length).toBeGreaterThan(100);
      numbers.push(digits);
    }
    expect(numbers[0]).toBe(numbers[1]);
    await screenshot(a, '42-contact-qr');
  });

  it("starts a group from New conversation; everyone's replies meet in it, each with who wrote it", async () => {
    await ok(t.bob, 'contacts:lookup', { username: 'carol' });
    for (const peer of ['alice', 'bob']) {
      const r = await dispatch(carol.handlers, 'contacts:lookup', { username: peer });
      if (r.code !== 0) throw new Error(`carol lookup ${peer}: ${r.message}`);
    }
    await ui.goTo(a, 'Chats');
    await a.getByRole('button', { name: 'New conversation' }).first().click();
    await a.getByRole('dialog', { name: 'New conversation' }).getByRole('button', { name: 'New group' }).click();
    const picker = a.getByRole('dialog', { name: 'New group' });
    const start = picker.getByRole('button', { name: /^Start group/ });
    expect(await start.isDisabled()).toBe(true);
    await picker.getByRole('checkbox', { name: /bob/ }).click();
    await picker.getByRole('checkbox', { name: /carol/ }).click();
    expect(await picker.getByRole('checkbox', { name: /carol/ }).getAttribute('aria-checked')).toBe('true');
    await start.click();
    await a.getByRole('heading', { name: 'No messages with bob, carol yet' }).waitFor();
    await composer(a, 'bob, carol').fill('Group hello');
    await composer(a, 'bob, carol').press('Enter');
    await log(a, 'bob, carol').getByRole('article').filter({ hasText: 'Group hello' }).waitFor();
    await ui.syncNow(a);

    // carol answers everyone from her desktop's engine.
    for (const [channel, input] of [
      ['sync:now', {}],
      ['messages:send', { to: ['alice', 'bob'], text: 'Hi both' }],
      ['sync:now', {}],
    ] as const) {
      const r = await dispatch(carol.handlers, channel, input);
      if (r.code !== 0) throw new Error(`carol ${channel}: ${r.message}`);
    }

    await ui.goTo(b, 'Chats');
    await ui.syncNow(b);
    await ui.openConversation(b, 'alice, carol');
    const bobs = log(b, 'alice, carol');
    await bobs.getByRole('article').filter({ hasText: 'Hi both' }).waitFor();
    expect(await bobs.locator('.bubble-text').allTextContents()).toEqual(['Group hello', 'Hi both']);
    expect(await bobs.locator('.bubble-sender').allTextContents()).toEqual(['alice', 'carol']);
    await composer(b, 'alice, carol').fill('Count me in');
    await composer(b, 'alice, carol').press('Enter');
    await bobs.getByRole('article').filter({ hasText: 'Count me in' }).waitFor();
    await ui.syncNow(b);

    await ui.syncNow(a);
    const alices = log(a, 'bob, carol');
    await alices.getByRole('article').filter({ hasText: 'Count me in' }).waitFor();
    expect(await alices.locator('.bubble-text').allTextContents()).toEqual(['Group hello', 'Hi both', 'Count me in']);
    expect(await alices.locator('.bubble-sender').allTextContents()).toEqual(['carol', 'bob']);
    // One row for the group in the list, beside the two-person ones.
    const row = a.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /^bob, carol/ });
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain('bob: Count me in');
    await screenshot(a, '43-group');
  });
});
