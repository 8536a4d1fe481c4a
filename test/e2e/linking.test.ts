/**
 * Device linking in the UI, two webhosts (two profiles) against a real key
 * service on loopback: alice creates her identity, registers and saves a note;
 * a fresh profile chooses "Link to an existing device…" and shows a code; in
 * alice's Settings, "Link a device…" refuses a wrong code with a readable
 * message, takes the right one, and both screens show the same verification
 * code; alice confirms with the keyboard; the new profile finishes as a new,
 * registered device with alice's identity and her note. A second attempt where
 * alice sees different codes and cancels leaves the new profile without an
 * identity.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../electron/engine/dispatch.js';
import type { CreatedApp, RunningServer } from '../../server/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { screenshot, startApp, ui, type RunningApp, startE2eKeyService } from './harness.js';

const PIN = '1357';

async function status(app: RunningApp): Promise<{ hasIdentity: boolean; registered: boolean; did?: string; fingerprint?: string }> {
  const r = await dispatch(app.service.handlers, 'engine:status', {});
  if (r.code !== 0) throw new Error(`engine:status: ${r.message}`);
  return r.value as { hasIdentity: boolean; registered: boolean; did?: string; fingerprint?: string };
}

describe('link a new device in the UI', () => {
  let browser: Browser;
  let dbDir: string;
  let ks: RunningServer;
  let ksApp: CreatedApp;
  let alice: RunningApp;
  let a: Page;
  const opened: RunningApp[] = [];
  const ksUrl = () => `http://127.0.0.1:${ks.port}`;

  beforeAll(async () => {
    dbDir = mkdtempSync(join(tmpdir(), 'sealpost-e2e-link-'));
    ks = await startE2eKeyService(join(dbDir, 'keyservice.db'));
    ksApp = await ks.admin.createApp({ name: 'e2e link' });
    browser = await launchChromium();
    alice = await startApp('alice');
    a = await alice.open(browser);
    await ui.createIdentity(a, PIN);
    await ui.register(a, { url: ksUrl(), app: ksApp }, 'alice');
    await ui.finishFirstRun(a);
    await ui.newNote(a, 'Door code', '4711 then hash');
    expect(await dispatch(alice.service.handlers, 'items:sync', {})).toMatchObject({ code: 0 });
  });

  afterAll(async () => {
    for (const app of opened) await app.close();
    await alice?.close();
    await browser?.close();
    await ks?.close().catch(() => undefined);
    if (dbDir) rmSync(dbDir, { recursive: true, force: true });
  });

  /** A fresh profile on "Link to an existing device"; returns the code it shows. */
  async function startLinking(name: string): Promise<{ app: RunningApp; page: Page; code: string }> {
    const app = await startApp(name);
    opened.push(app);
    const page = await app.open(browser);
    await page.getByRole('heading', { name: 'Create your identity' }).waitFor();
    await page.getByRole('button', { name: 'Link to an existing device…' }).click();
    await page.getByRole('heading', { name: 'Link to an existing device' }).waitFor();
    await page.getByLabel('Your user name').fill('alice');
    await page.getByLabel('Key service URL').fill(ksUrl());
    await page.getByLabel('App id').fill(ksApp.appId);
    await page.getByLabel('Client key', { exact: true }).fill(ksApp.clientKey);
    await page.getByLabel(/^Server key/).fill(ksApp.serverKey);
    await page.getByLabel('New PIN for this device').fill('2468');
    await page.getByLabel('Repeat the new PIN').fill('2468');
    await page.getByLabel('Repeat the new PIN').press('Enter');
    const code = (await page.getByTestId('link-code').textContent())!.trim();
    expect(code).toMatch(/^\d{4}-\d{4}$/);
    return { app, page, code };
  }

  async function openLinkDialog(): Promise<void> {
    await ui.goTo(a, 'Settings');
    await a.getByRole('button', { name: 'Link a device…' }).click();
    await a.getByRole('dialog', { name: 'Link a new device' }).waitFor();
  }

  it('links with matching codes: the new device gets alice\'s identity, registers, and her note syncs back', async () => {
    const { app, page, code } = await startLinking('laptop');
    await screenshot(page, '60-link-code-shown');

    await openLinkDialog();
    const codeInput = a.getByLabel('Code shown on the new device');
    await codeInput.fill(code === '0000-0000' ? '0000-0001' : '0000-0000');
    await codeInput.press('Enter');
    await a.getByRole('alert').filter({ hasText: 'No link request with this code' }).waitFor();

    await codeInput.fill(code);
    await codeInput.press('Enter');
    const shownOld = (await a.getByTestId('link-verification-code').textContent())!.trim();
    const shownNew = (await page.getByTestId('link-verification-code').textContent())!.trim();
    expect(shownOld).toMatch(/^\d{3} \d{3}$/);
    expect(shownNew).toBe(shownOld);
    await screenshot(a, '61-link-compare-existing');
    await screenshot(page, '62-link-compare-new');

    // Keyboard only: the focus is on the code (not on a button); Tab reaches "They match", Enter confirms.
    await a.keyboard.press('Tab');
    expect(await a.evaluate('document.activeElement?.textContent')).toBe('They match: link the device');
    await a.keyboard.press('Enter');
    await a.getByText('Sent. The new device finishes setting up by itself.').waitFor();
    await a.getByRole('button', { name: 'Close' }).click();

    await ui.finishFirstRun(page);
    const [mine, linked] = await Promise.all([status(alice), status(app)]);
    expect(linked).toMatchObject({ hasIdentity: true, registered: true, did: mine.did, fingerprint: mine.fingerprint });
    await page.getByRole('button', { name: /Door code/ }).click();
    await page.getByText('4711 then hash').waitFor();
    await screenshot(page, '63-linked-vault');
  });

  it('different codes: alice cancels, nothing is sent, and the new device says the request ended', async () => {
    const { app, page, code } = await startLinking('tablet');
    await openLinkDialog();
    await a.getByLabel('Code shown on the new device').fill(code);
    await a.getByLabel('Code shown on the new device').press('Enter');
    await a.getByTestId('link-verification-code').waitFor();
    await a.getByRole('button', { name: 'They differ: cancel' }).click();
    await a.getByRole('button', { name: 'Link a device…' }).waitFor();
    await page.getByRole('alert').filter({ hasText: 'expired or was cancelled' }).waitFor();
    expect((await status(app)).hasIdentity).toBe(false);
  });
});
