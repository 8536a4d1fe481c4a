/**
 * Attachments in the UI, two desktops and one real key service: alice attaches
 * files in compose (read by the page with the File API, staged in chunks with
 * progress) while the key service is stopped; the message is sealed and queued
 * with its upload progress and the staged plaintext is gone from disk; the key
 * service starts, the message goes out; bob receives it from a verified sender
 * and saves the attachments, byte for byte (SHA-256 compared): in browser mode
 * as downloads (no "Open folder"), and as the desktop app does it (the page as
 * Electron's preload builds it, main's save handlers, the system's dialog and
 * file manager played by the test: test/e2e/desktop-shell.ts), where main
 * writes the checked bytes where the dialog said and "Open folder" shows the
 * file. On the way: the notification text opt-in (off by default), the staging
 * channels' edge checks, and staged files removed on lock and on restart.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../electron/engine/dispatch.js';
import { dispatchDesktop } from '../../electron/main/desktop-dispatch.js';
import { desktopCalls } from '../../electron/main/save-attachment.js';
import { notificationContent } from '../../shared/notification-text.js';
import { ATTACHMENT_LIMITS } from '../../shared/contract-messaging.js';
import type { Channel, Output } from '../../shared/contract.js';
import { openAsDesktop } from './desktop-shell.js';
import { screenshot, startTwoDesktops, ui, type RunningApp, type TwoDesktops } from './harness.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('attachments between two desktops', () => {
  let t: TwoDesktops;
  let alice: RunningApp;
  let bob: RunningApp;
  let a: Page;
  let b: Page;
  // 2.5 MiB of random bytes: three upload chunks, several parts at the key service.
  const report = randomBytes(2.5 * 1024 * 1024);
  const notes = Buffer.from(`meeting notes ${randomBytes(16).toString('hex')}\n`);

  const call = async <C extends Channel>(who: RunningApp, channel: C, input: unknown) => dispatch(who.service.handlers, channel, input);
  async function ok<C extends Channel>(who: RunningApp, channel: C, input: unknown): Promise<Output<C>> {
    const r = await call(who, channel, input);
    if (r.code !== 0) throw new Error(`${channel}: ${r.code} ${r.message}`);
    return r.value as Output<C>;
  }
  const stagingOf = (who: RunningApp) => join(who.profileDir, 'attachments', 'staging');
  const staged = (who: RunningApp) => (existsSync(stagingOf(who)) ? filesUnder(stagingOf(who)) : []);

  beforeAll(async () => {
    t = await startTwoDesktops('attachments');
    ({ alice, bob, a, b } = t);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('both register and verify each other', async () => {
    await ui.bothRegistered(t, '2468');
    await ui.addAndVerify(a, 'bob');
    await ui.addAndVerify(b, 'alice');
  });

  it('alice attaches two files while the key service is stopped: staged with progress, then sealed and queued; no staged plaintext stays', async () => {
    await t.stopKeyService();
    await ui.goTo(a, 'Chats');
    await a.getByRole('button', { name: 'New conversation' }).first().click();
    await a.getByRole('dialog', { name: 'New conversation' }).getByRole('list', { name: 'Contacts' }).getByRole('button', { name: /bob/ }).click();
    const box = a.getByRole('textbox', { name: 'Message to bob' });
    await box.fill('The report and my notes, as promised.');
    // The paper clip opens the system's file picker; its input takes the files here.
    const [chooser] = await Promise.all([a.waitForEvent('filechooser'), a.getByRole('button', { name: 'Attach files' }).click()]);
    await chooser.setFiles([
      { name: 'report.bin', mimeType: 'application/octet-stream', buffer: report },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: notes },
    ]);
    const list = a.getByRole('list', { name: 'Attached files' });
    await list.getByTestId('attach-state').filter({ hasText: 'Ready' }).nth(1).waitFor();
    expect(await list.getByTestId('attach-state').allTextContents()).toEqual(['Ready', 'Ready']);
    // Staged: the progress bar gives way to the size.
    expect(await a.getByRole('progressbar', { name: 'Attaching report.bin' }).count()).toBe(0);
    await list.getByText(/2\.6 MB/).waitFor();
    // Staged in the profile (0600), plaintext until the message is sealed.
    const stagedFiles = staged(alice);
    expect(stagedFiles).toHaveLength(2);
    for (const f of stagedFiles) expect(statSync(f).mode & 0o077).toBe(0);
    expect(stagedFiles.map((f) => statSync(f).size).sort((x, y) => x - y)).toEqual([notes.length, report.length]);
    await screenshot(a, '30-compose-attachments');

    await a.getByRole('button', { name: 'Send', exact: true }).click();
    const log = a.getByRole('log', { name: 'bob', exact: true });
    const sent = log.getByRole('article').filter({ hasText: 'The report and my notes, as promised.' });
    await sent.getByTestId('outbox-state').filter({ hasText: 'Queued' }).waitFor();
    // Sealed into the outbox: the staged files are gone (removed right after the message's
    // commit, which the page may show first), and no file of the profile holds the plaintext.
    await expect.poll(() => staged(alice), { timeout: 60_000 }).toEqual([]);
    const needles = [report.subarray(0, 64), report.subarray(report.length - 64), notes];
    for (const f of filesUnder(alice.profileDir)) {
      const bytes = readFileSync(f);
      for (const n of needles) expect(bytes.includes(n), `${f} holds attachment plaintext`).toBe(false);
    }

    await ui.syncNow(a);
    await a.getByTestId('online-state').filter({ hasText: 'Offline' }).waitFor();
    await sent.getByTestId('outbox-state').filter({ hasText: 'Queued' }).waitFor();
    const progress = sent.getByTestId('upload-progress');
    expect(await progress.textContent()).toMatch(/^0 of \d+ parts at the key service$/);
    const total = Number((await progress.textContent())!.match(/of (\d+)/)![1]);
    expect(total).toBeGreaterThan(3); // report.bin alone is more than one 256 KiB part
    await sent.getByText('report.bin').waitFor();
    await screenshot(a, '31-queued-with-attachments');
  });

  it('the key service starts and the message goes out', async () => {
    await t.restartKeyService();
    const sent = a.getByRole('log', { name: 'bob', exact: true }).getByRole('article').filter({ hasText: 'The report and my notes, as promised.' });
    await sent.getByRole('button', { name: 'Send now' }).click();
    await ui.syncNow(a);
    await sent.getByTestId('outbox-state').filter({ hasText: /Sent|Delivered|Read/ }).waitFor();
    expect(await sent.getByTestId('upload-progress').count()).toBe(0);
    await a.getByTestId('online-state').filter({ hasText: 'Online' }).waitFor();
  });

  it('notifications show message text only after bob opts in', async () => {
    await ui.goTo(b, 'Chats');
    await ui.syncNow(b);
    await b.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /^alice/ }).waitFor();
    // Off by default: the notification says how many, nothing else.
    expect(await ok(bob, 'notifications:get', {})).toEqual({ showText: false });
    expect(bob.service.messaging.notificationPreview()).toBeNull();
    expect(notificationContent(1, null)).toEqual({ title: 'Sealpost', body: 'A new message arrived.' });

    await ui.goTo(b, 'Settings');
    const box = b.getByLabel('Show sender and message text in notifications');
    await box.check();
    await b.getByText('Notifications show who wrote and the start of the message.').waitFor();
    expect(await ok(bob, 'notifications:get', {})).toEqual({ showText: true });
    const preview = bob.service.messaging.notificationPreview();
    expect(preview).toEqual([{ from: 'alice', subject: null, text: 'The report and my notes, as promised.' }]);
    expect(notificationContent(1, preview)).toEqual({ title: 'Sealpost · alice', body: 'The report and my notes, as promised.' });
    await screenshot(b, '33-settings-notifications');

    await box.uncheck();
    await b.getByText('Notifications say only how many messages arrived.').waitFor();
    expect(bob.service.messaging.notificationPreview()).toBeNull();
  });

  it('bob receives it from a verified sender and saves both attachments byte for byte', async () => {
    await ui.goTo(b, 'Chats');
    const item = b.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /^alice/ });
    expect(await item.getAttribute('aria-label')).toMatch(/^alice, 1 unread, verified: The report and my notes/);
    await item.click();
    const got = b.getByRole('log', { name: 'alice', exact: true }).getByRole('article').filter({ hasText: 'The report and my notes, as promised.' });
    await got.waitFor();
    await b.getByTestId('sender-check').filter({ hasText: 'Verified' }).waitFor();
    await got.getByRole('list', { name: 'Attachments' }).getByText(/checked/).nth(1).waitFor();
    expect(await got.getByText('report.bin', { exact: true }).count()).toBe(1);
    await screenshot(b, '32-bob-conversation-attachments');

    for (const [name, original] of [
      ['report.bin', report],
      ['notes.txt', notes],
    ] as const) {
      const [download] = await Promise.all([b.waitForEvent('download'), got.getByRole('button', { name: `Save ${name}` }).click()]);
      expect(download.suggestedFilename()).toBe(name);
      const saved = readFileSync((await download.path())!);
      expect(saved.length).toBe(original.length);
      expect(sha256(saved)).toBe(sha256(original));
      await got.getByText(`Saved ${name} (checked).`).waitFor();
    }
    // The browser keeps its downloads to itself: nothing to open a folder with.
    expect(await got.getByRole('button', { name: 'Open folder' }).count()).toBe(0);
    // Alice can save her own sent copy too (sealed for her as well).
    const own = await ok(alice, 'messages:list', { limit: 1 });
    const att = own[0]!.attachments.find((x) => x.name === 'notes.txt')!;
    const chunk = await ok(alice, 'attachments:read', { messageId: own[0]!.id, attachmentId: att.id, offset: 0 });
    expect(chunk).toMatchObject({ name: 'notes.txt', contentType: 'text/plain', size: notes.length, offset: 0, done: true, sha256: sha256(notes) });
    expect(Buffer.from(chunk.data, 'base64').equals(notes)).toBe(true);
  });

  it('in the desktop app, Save asks where in the system dialog, main writes the checked bytes there, and Open folder shows the file', async () => {
    const shell = await openAsDesktop(bob, t.browser);
    try {
      const p = shell.page;
      let downloads = 0;
      p.on('download', () => downloads++);
      await ui.goTo(p, 'Chats');
      await p.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /^alice/ }).click();
      const got = p.getByRole('log', { name: 'alice', exact: true }).getByRole('article').filter({ hasText: 'The report and my notes, as promised.' });
      await got.getByRole('list', { name: 'Attachments' }).getByText(/checked/).nth(1).waitFor();
      const folder = join(t.dir, 'saved by bob');
      mkdirSync(folder);

      // Cancel in the dialog: nothing saved, nothing said.
      shell.answers.push(null);
      await got.getByRole('button', { name: 'Save report.bin' }).click();
      await expect.poll(() => shell.asked).toEqual(['report.bin']);
      await got.getByRole('button', { name: 'Save report.bin' }).waitFor();
      expect(await got.getByText(/^Saved /).count()).toBe(0);
      expect(readdirSync(folder)).toEqual([]);

      // The name the user gave in the dialog: the checked bytes land there (0600), and nothing else does.
      const target = join(folder, 'Q3 report.bin');
      shell.answers.push(target);
      await got.getByRole('button', { name: 'Save report.bin' }).click();
      await got.getByText('Saved Q3 report.bin (checked).').waitFor();
      expect(sha256(readFileSync(target))).toBe(sha256(report));
      expect(statSync(target).mode & 0o077).toBe(0);
      expect(readdirSync(folder)).toEqual(['Q3 report.bin']);
      await screenshot(p, '34-desktop-saved-open-folder');
      await got.getByRole('button', { name: 'Open folder' }).click();
      await expect.poll(() => shell.shown).toEqual([target]);

      // Over an existing file (the dialog asked first): replaced by the attachment.
      writeFileSync(join(folder, 'notes.txt'), 'older notes');
      shell.answers.push(join(folder, 'notes.txt'));
      await got.getByRole('button', { name: 'Save notes.txt' }).click();
      await got.getByText('Saved notes.txt (checked).').waitFor();
      expect(readFileSync(join(folder, 'notes.txt')).equals(notes)).toBe(true);

      // A folder that is gone: said in words; no partial file anywhere.
      shell.answers.push(join(folder, 'gone', 'notes.txt'));
      await got.getByRole('button', { name: 'Save notes.txt' }).click();
      await got.getByText('The file could not be saved: the folder does not exist (any more).').waitFor();
      expect(readdirSync(folder).sort()).toEqual(['Q3 report.bin', 'notes.txt']);

      // The saved file moved away: Open folder says so instead of opening nothing.
      rmSync(target);
      await got.getByRole('button', { name: 'Open folder' }).click();
      await got.getByText(/Q3 report\.bin is no longer in .*: it was moved or deleted\./).waitFor();
      expect(shell.shown).toEqual([target]);
      expect(downloads).toBe(0);

      // Main checks what a page sends: the attachment's own name only, its ids, no path; the engine's refusals pass through.
      const [m] = await ok(bob, 'messages:list', { limit: 1 });
      const att = m!.attachments.find((x) => x.name === 'notes.txt')!;
      shell.answers.push(join(folder, 'renamed.exe'));
      expect(await shell.call('desktop:saveAttachment', { messageId: m!.id, attachmentId: att.id, name: 'invoice.pdf' })).toMatchObject({ code: -29 });
      shell.answers.push(join(folder, 'x.bin'));
      expect(await shell.call('desktop:saveAttachment', { messageId: m!.id, attachmentId: '0'.repeat(32), name: 'x.bin' })).toMatchObject({ code: -404 });
      expect(await shell.call('desktop:saveAttachment', { messageId: m!.id, attachmentId: att.id, name: '../notes.txt' })).toMatchObject({ code: -29 });
      expect(await shell.call('desktop:saveAttachment', { messageId: m!.id, attachmentId: att.id, name: 'notes.txt', path: '/tmp/notes.txt' })).toMatchObject({ code: -29 });
      expect(shell.answers).toEqual([]);
      expect(readdirSync(folder).sort()).toEqual(['notes.txt']);
    } finally {
      await shell.close();
    }
  });

  it('attachments:read hands out bounded chunks of the checked file', async () => {
    const [m] = await ok(bob, 'messages:list', { limit: 1 });
    const att = m!.attachments.find((x) => x.name === 'report.bin')!;
    const parts: Buffer[] = [];
    for (let offset = 0; ; ) {
      const c = await ok(bob, 'attachments:read', { messageId: m!.id, attachmentId: att.id, offset });
      const bytes = Buffer.from(c.data, 'base64');
      expect(bytes.length).toBeLessThanOrEqual(ATTACHMENT_LIMITS.chunkBytes);
      parts.push(bytes);
      offset += bytes.length;
      if (c.done) break;
    }
    expect(parts).toHaveLength(3);
    expect(sha256(Buffer.concat(parts))).toBe(sha256(report));
    expect((await call(bob, 'attachments:read', { messageId: m!.id, attachmentId: '0'.repeat(32), offset: 0 })).code).toBe(-404);
    expect((await call(bob, 'attachments:read', { messageId: 999_999, attachmentId: att.id, offset: 0 })).code).toBe(-404);
    expect((await call(bob, 'attachments:read', { messageId: m!.id, attachmentId: '../etc/passwd', offset: 0 })).code).toBe(-29);
  });

  it('staging checks every input at the edge', async () => {
    const bad = async (channel: Channel, input: unknown) => (await call(bob, channel, input)).code;
    expect(await bad('attachments:stageBegin', { name: '../secret', size: 1 })).toBe(-29);
    expect(await bad('attachments:stageBegin', { name: 'a\\b', size: 1 })).toBe(-29);
    expect(await bad('attachments:stageBegin', { name: '..', size: 1 })).toBe(-29);
    expect(await bad('attachments:stageBegin', { name: 'x\u0000y', size: 1 })).toBe(-29);
    expect(await bad('attachments:stageBegin', { name: 'big.bin', size: ATTACHMENT_LIMITS.maxFileBytes + 1 })).toBe(-29);
    expect(await bad('attachments:stageBegin', { name: 'a.txt', size: 1, path: '/etc/passwd' })).toBe(-29);
    expect(await bad('messages:send', { to: ['alice'], text: 'x', attachments: ['/etc/passwd'] })).toBe(-29);
    expect(await bad('messages:send', { to: ['alice'], text: 'x', attachments: ['f'.repeat(32)] })).toBe(-404);

    const { stageId, chunkBytes } = await ok(bob, 'attachments:stageBegin', { name: 'b.bin', size: 10, contentType: 'application/octet-stream' });
    expect(chunkBytes).toBe(ATTACHMENT_LIMITS.chunkBytes);
    const tooBig = Buffer.alloc(ATTACHMENT_LIMITS.chunkBytes + 3).toString('base64');
    expect(await bad('attachments:stageChunk', { stageId, index: 0, data: tooBig })).toBe(-29);
    expect(await bad('attachments:stageChunk', { stageId, index: 0, data: 'not base64!' })).toBe(-29);
    expect(await bad('attachments:stageChunk', { stageId, index: 1, data: Buffer.from('abc').toString('base64') })).toBe(-2);
    expect(await bad('attachments:stageChunk', { stageId, index: 0, data: Buffer.alloc(11).toString('base64') })).toBe(-29);
    expect(await ok(bob, 'attachments:stageChunk', { stageId, index: 0, data: Buffer.from('01234').toString('base64') })).toEqual({ received: 5, size: 10 });
    // A repeated chunk is acknowledged, not written twice.
    expect(await ok(bob, 'attachments:stageChunk', { stageId, index: 0, data: Buffer.from('01234').toString('base64') })).toEqual({ received: 5, size: 10 });
    expect(await bad('attachments:stageEnd', { stageId })).toBe(-2);
    expect(await bad('messages:send', { to: ['alice'], text: 'x', attachments: [stageId] })).toBe(-2);
    await ok(bob, 'attachments:stageChunk', { stageId, index: 1, data: Buffer.from('56789').toString('base64') });
    expect(await ok(bob, 'attachments:stageEnd', { stageId })).toEqual({ stageId, name: 'b.bin', size: 10, sha256: sha256(Buffer.from('0123456789')) });
    expect(await bad('messages:send', { to: ['alice'], text: 'x', attachments: [stageId, stageId] })).toBe(-29);
    expect(await ok(bob, 'attachments:stageCancel', { stageId })).toEqual({ removed: true });
    expect(staged(bob)).toEqual([]);
    expect(await ok(bob, 'attachments:stageCancel', { stageId })).toEqual({ removed: false });
  });

  it('staged files are removed when the keys lock and, left over, when the engine starts again', async () => {
    const [m] = await ok(bob, 'messages:list', { limit: 1 });
    const att = m!.attachments.find((x) => x.name === 'notes.txt')!;
    const { stageId } = await ok(bob, 'attachments:stageBegin', { name: 'draft.txt', size: 4 });
    await ok(bob, 'attachments:stageChunk', { stageId, index: 0, data: Buffer.from('wxyz').toString('base64') });
    expect(staged(bob)).toHaveLength(1);
    await ok(bob, 'session:lock', {});
    await bob.service.messaging.attachments.sweep();
    expect(staged(bob)).toEqual([]);
    // Locked: nothing can be staged or read.
    expect((await call(bob, 'attachments:stageBegin', { name: 'x.txt', size: 1 })).code).toBe(-104);
    expect((await call(bob, 'attachments:stageChunk', { stageId, index: 1, data: 'AA==' })).code).toBe(-104);
    // Nor saved by the desktop app: Locked from the engine, and no file, whole or partial, where the dialog said.
    const lockedFolder = join(t.dir, 'saved while locked');
    mkdirSync(lockedFolder);
    const main = desktopCalls({ read: (input) => bob.service.handlers['attachments:read'](input), choosePath: async () => join(lockedFolder, 'notes.txt'), reveal: () => undefined });
    expect((await dispatchDesktop(main, 'desktop:saveAttachment', { messageId: m!.id, attachmentId: att.id, name: 'notes.txt' })).code).toBe(-104);
    expect(readdirSync(lockedFolder)).toEqual([]);
    // Unlocked again, the staged file is gone for good.
    await ok(bob, 'session:authenticate', { pin: '2468' });
    expect((await call(bob, 'attachments:stageChunk', { stageId, index: 1, data: 'AA==' })).code).toBe(-404);

    // A crash leaves staged files behind: the next engine on the profile removes them.
    const dead = join(stagingOf(bob), '2147483646');
    const own = join(stagingOf(bob), String(process.pid));
    for (const d of [dead, own]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'left.stage'), 'plaintext left by a crash');
    }
    await bob.stop();
    await bob.restart();
    expect(staged(bob)).toEqual([]);
  });
});
