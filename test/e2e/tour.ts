/**
 * A populated pair of desktops and a way to bring a page to each screen, for
 * the checks that go over every screen (a11y.test.ts, layout.test.ts) and for
 * `npm run screenshots` (scripts/screenshots.ts).
 *
 * The data is made through the engine's own channels (dispatch, as the
 * webhost calls them) so the tour does not depend on the flows the other
 * tests click through: alice and bob on one local key service, verified
 * contacts, a few messages each way, an image attachment, a shared note, and
 * a group conversation with carol (an engine without a page).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import type { Page } from 'playwright-core';
import type { Channel, Output } from '../../shared/contract.js';
import { TEST_KDF_PARAMS } from '../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../electron/engine/dispatch.js';
import { openService } from '../../electron/engine/service/index.js';
import type { RunningServer, CreatedApp } from '../../server/index.js';
import { startApp, startE2eKeyService, ui, type RunningApp } from './harness.js';

export const PIN = '2468';

export async function ok<C extends Channel>(app: Pick<RunningApp, 'name' | 'service'>, channel: C, input: unknown): Promise<Output<C>> {
  const r = await dispatch(app.service.handlers, channel, input);
  if (r.code !== 0) throw new Error(`${app.name} ${channel}: ${r.code} ${r.message ?? ''}`);
  return r.value as Output<C>;
}

/** A small PNG (a soft diagonal gradient), made here so the repository needs no binary fixture. */
export function samplePng(width = 96, height = 64): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const t = (x + y) / (width + height);
      rows.set([Math.round(40 + 60 * t), Math.round(90 + 100 * t), Math.round(200 - 40 * t)], row + 1 + x * 3);
    }
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

async function attach(app: RunningApp, name: string, bytes: Buffer, contentType: string): Promise<string> {
  const begun = await ok(app, 'attachments:stageBegin', { name, size: bytes.length, contentType });
  for (let i = 0, index = 0; i < bytes.length; i += begun.chunkBytes, index++) {
    await ok(app, 'attachments:stageChunk', { stageId: begun.stageId, index, data: bytes.subarray(i, i + begun.chunkBytes).toString('base64') });
  }
  await ok(app, 'attachments:stageEnd', { stageId: begun.stageId });
  return begun.stageId;
}

export interface Tour {
  dir: string;
  ks: RunningServer;
  keyApp: CreatedApp;
  alice: RunningApp;
  bob: RunningApp;
  /** A desktop with no identity yet (first run). */
  fresh: RunningApp;
  close(): Promise<void>;
}

/** Two registered desktops with conversations, an attachment and a shared note; plus a fresh one. */
export async function startTour(label: string): Promise<Tour> {
  const dir = mkdtempSync(join(tmpdir(), `sealpost-tour-${label}-`));
  const ks = await startE2eKeyService(join(dir, 'keyservice.db'));
  const keyApp = await ks.admin.createApp({ name: `tour ${label}` });
  // alice and bob run their sync as the app does (the push stream: the sidebar says Live).
  const [alice, bob, fresh] = await Promise.all([startApp(`alice-${label}`, { live: true }), startApp(`bob-${label}`, { live: true }), startApp(`fresh-${label}`)]);
  for (const [app, username] of [[alice, 'alice'], [bob, 'bob']] as const) {
    await ok(app, 'identity:create', { pin: PIN, rsaBits: 2048 });
    await ok(app, 'device:register', { server: ks.url, appId: keyApp.appId, serverKey: keyApp.serverKey, clientKey: keyApp.clientKey, username });
  }
  for (const [app, peer] of [[alice, 'bob'], [bob, 'alice']] as const) {
    const contact = await ok(app, 'contacts:lookup', { username: peer });
    await ok(app, 'contacts:verify', { userId: contact.userId, fingerprint: contact.fingerprint });
  }
  const say = async (from: Pick<RunningApp, 'name' | 'service'>, to: string | string[], text: string, extra: { subject?: string; attachments?: string[] } = {}) => {
    await ok(from, 'messages:send', { to: typeof to === 'string' ? [to] : to, text, ...extra });
    await ok(from, 'sync:now', {});
  };
  // carol: a third person, for a group conversation (earlier than the two-person one, which stays on top).
  const carol = { name: 'carol', service: await openService({ profileDir: join(dir, 'carol'), keychain: 'file', kdfParams: TEST_KDF_PARAMS, actor: 'tour' }) };
  await ok(carol, 'identity:create', { pin: PIN, rsaBits: 2048 });
  await ok(carol, 'device:register', { server: ks.url, appId: keyApp.appId, serverKey: keyApp.serverKey, clientKey: keyApp.clientKey, username: 'carol' });
  for (const [app, peer] of [[alice, 'carol'], [bob, 'carol'], [carol, 'alice'], [carol, 'bob']] as const) await ok(app, 'contacts:lookup', { username: peer });
  await say(alice, ['bob', 'carol'], 'Who brings dessert on Thursday?');
  await ok(carol, 'sync:now', {});
  // carol reads it (her read receipt goes with her reply): alice's group screen shows "Read by carol".
  const carolsGroup = (await ok(carol, 'messages:conversations', {})).find((c) => c.group)!;
  await ok(carol, 'messages:markRead', { conversation: carolsGroup.peer });
  await say(carol, ['alice', 'bob'], 'I will: the lemon tart.');
  await ok(bob, 'sync:now', {});
  await say(bob, ['alice', 'carol'], 'Then I bring the wine.');
  await ok(alice, 'sync:now', {});
  await say(alice, 'bob', 'Thursday at 8? I booked the place on the corner.', { subject: 'Dinner' });
  await ok(bob, 'sync:now', {});
  // bob reads it before he answers: the conversation shows it Read, the later ones Delivered.
  await ok(bob, 'messages:markRead', { conversation: (await ok(bob, 'contacts:lookup', { username: 'alice' })).userId });
  await say(bob, 'alice', 'Yes! See you there.');
  await say(alice, 'bob', 'Here is the view from the table they gave us last time.', { attachments: [await attach(alice, 'view.png', samplePng(), 'image/png')] });
  await say(alice, 'bob', 'And the door code is in the vault, shared with you.');
  await ok(bob, 'sync:now', {});
  await ok(alice, 'sync:now', {});

  const note = await ok(alice, 'items:create', { content: { kind: 'note', title: 'Door code', text: 'Side door: 4711#, then the second bell.' } });
  await ok(alice, 'items:create', { content: { kind: 'note', title: 'Trip plans', text: 'Train at 9:12 from platform 4.\nHotel booking ref: QX-2231.' } });
  await ok(alice, 'items:share', { identifier: note.identifier, to: ['bob'], role: 'read' });
  await ok(alice, 'items:sync', {}).catch(() => undefined);
  await ok(bob, 'items:sync', {}).catch(() => undefined);

  return {
    dir,
    ks,
    keyApp,
    alice,
    bob,
    fresh,
    async close() {
      for (const app of [alice, bob, fresh]) await app.close().catch(() => undefined);
      carol.service.close();
      await ks.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type ScreenName = 'first-run' | 'unlock' | 'chats' | 'conversation' | 'group' | 'contacts' | 'vault' | 'item' | 'sharing' | 'audit' | 'settings' | 'recovery' | 'linking';

export const SCREEN_NAMES: ScreenName[] = ['first-run', 'unlock', 'chats', 'conversation', 'group', 'contacts', 'vault', 'item', 'sharing', 'audit', 'settings', 'recovery', 'linking'];

/** The screens a populated, unlocked desktop shows (first-run needs the fresh desktop). */
export const UNLOCKED_SCREENS: Exclude<ScreenName, 'first-run' | 'unlock'>[] = ['chats', 'conversation', 'group', 'contacts', 'vault', 'item', 'sharing', 'audit', 'settings', 'recovery', 'linking'];

/** Waits until the page shows the unlocked app (unlocking with the tour's PIN if it shows the unlock screen). */
export async function ensureUnlocked(page: Page): Promise<void> {
  const nav = page.getByRole('navigation', { name: 'Main' });
  const unlock = page.getByRole('heading', { name: 'Unlock Sealpost' });
  await nav.or(unlock).first().waitFor();
  if (await unlock.isVisible()) await ui.unlock(page, PIN);
  await nav.waitFor();
}

/**
 * Brings an unlocked page of alice's (or bob's, for 'sharing' the owner
 * matters: alice) to a screen and waits until it shows. 'unlock' locks the app.
 */
export async function showScreen(page: Page, screen: Exclude<ScreenName, 'first-run'>): Promise<void> {
  if (screen === 'unlock') {
    await ensureUnlocked(page);
    await page.getByRole('button', { name: 'Lock now' }).click();
    await page.getByRole('heading', { name: 'Unlock Sealpost' }).waitFor();
    return;
  }
  await ensureUnlocked(page);
  // A narrow window shows the vault's list or its open item: back to the list first.
  const back = page.getByRole('button', { name: 'All items' });
  if (await back.isVisible()) await back.click();
  switch (screen) {
    case 'chats':
      await ui.goTo(page, 'Chats');
      await page.getByRole('list', { name: 'Conversations' }).or(page.getByRole('list', { name: 'Messages' })).first().waitFor();
      return;
    case 'conversation':
      await ui.goTo(page, 'Chats');
      await ui.openConversation(page, 'bob');
      return;
    case 'group':
      // alice's view of the group (bob's would be "alice, carol").
      await ui.goTo(page, 'Chats');
      await ui.openConversation(page, 'bob, carol');
      return;
    case 'contacts':
      await ui.goTo(page, 'Contacts');
      await page.getByRole('heading', { name: 'Contacts' }).first().waitFor();
      return;
    case 'vault':
      await ui.goTo(page, 'Vault');
      await page.getByRole('list', { name: 'Items' }).getByRole('button', { name: /Door code/ }).waitFor();
      return;
    case 'item':
      await ui.goTo(page, 'Vault');
      await page.getByRole('list', { name: 'Items' }).getByRole('button', { name: /Trip plans/ }).click();
      await page.getByRole('heading', { name: 'Trip plans', level: 2 }).waitFor();
      return;
    case 'sharing':
      await ui.goTo(page, 'Vault');
      await page.getByRole('list', { name: 'Items' }).getByRole('button', { name: /Door code/ }).click();
      await page.getByRole('tab', { name: 'Sharing' }).click();
      await page.getByRole('list', { name: 'People with access' }).getByText(/bob/).waitFor();
      return;
    case 'audit':
      await ui.goTo(page, 'Audit');
      await page.getByRole('table', { name: 'Audit entries' }).waitFor();
      return;
    case 'settings':
      await ui.goTo(page, 'Settings');
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      return;
    case 'recovery':
      await ui.goTo(page, 'Settings');
      await page.getByLabel('PIN to show the recovery words').fill(PIN);
      await page.getByRole('button', { name: 'Show my recovery words' }).click();
      await page.getByRole('list', { name: 'Recovery words' }).waitFor();
      return;
    case 'linking':
      await ui.goTo(page, 'Settings');
      await page.getByRole('button', { name: 'Link a device…' }).click();
      await page.getByRole('dialog', { name: 'Link a new device' }).waitFor();
      return;
  }
}

/**
 * What scrolls sideways on the page: the document, or one of the app's
 * scrolling boxes (main, the panes). A table may scroll inside its own
 * `.tablewrap`; nothing else may.
 */
export async function sidewaysScrollers(page: Page): Promise<string[]> {
  // A string expression: test/ compiles without the DOM lib.
  return (await page.evaluate(`(() => {
    const boxes = [document.documentElement, ...document.querySelectorAll('main, .pane-list, .pane-list-body, .pane-detail, .sidebar, dialog[open]')];
    return boxes
      .filter((el) => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'hidden')
      .map((el) => (el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')) + ' ' + el.scrollWidth + '>' + el.clientWidth);
  })()`)) as string[];
}
