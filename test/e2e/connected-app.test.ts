/**
 * Sign in with Sealpost, end to end in real Chromium (issue 17): the key service,
 * the example application (examples/connected-app, in this process) and a
 * browser-mode desktop whose engine runs its sync and live stream as the app does.
 * The user asks the example application to sign them in, the approval card shows
 * on the desktop at once, they approve with their PIN, and the application signs
 * them in; they ask for their key and encrypt a note with it; a second sign-in
 * brings the same key, and so does an approval on a second desktop of the same
 * user (its identity restored from the identity file); a denied request stays
 * denied; one that expires while shown turns into an expired card that cannot be approved.
 */
import { AxeBuilder } from '@axe-core/playwright';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../electron/engine/dispatch.js';
import { ConnectedAdmin } from '../../server/connected/admin.js';
import type { RunningServer } from '../../server/index.js';
import { RelyingParty } from '../../examples/connected-app/relying-party.js';
import { startExampleApp, type ExampleApp } from '../../examples/connected-app/server.js';
import { launchChromium } from '../helpers/chromium.js';
import { screenshot, screenshotEverySize, startApp, startE2eKeyService, STEP_MS, ui, type RunningApp } from './harness.js';

const PIN = '1357';

/** axe-core's serious or critical findings inside `selector`. */
async function serious(page: Page, selector: string): Promise<string[]> {
  const result = await new AxeBuilder({ page }).include(selector).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
}
/** Far above a busy machine's delivery time; the card's own timer fallback is 10 s. */
const LIVE_MS = 30_000;

describe('connected app: sign in by approving on the desktop', () => {
  let dir: string;
  let ks: RunningServer;
  let desktop: RunningApp;
  let second: RunningApp | undefined;
  let registration: { appId: string; serverKey: string };
  let example: ExampleApp;
  let rp: RelyingParty;
  let browser: Browser;
  let d: Page;
  let w: Page;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-e2e-connected-'));
    ks = await startE2eKeyService(join(dir, 'keyservice.db'));
    const app = await ks.admin.createApp({ name: 'e2e connected' });
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const ca = await (await ConnectedAdmin.open(ks.store)).add({ appId: app.appId, name: 'Acme Notes', mode: 'always', keyBits: 256, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    const options = { keyService: ks.url, appId: ca.id, secret: ca.secret, privateKeyPem };
    example = await startExampleApp(options);
    rp = new RelyingParty(options);

    desktop = await startApp('alice-connected', { live: true });
    const call = async (channel: Parameters<typeof dispatch>[1], input: unknown) => {
      const r = await dispatch(desktop.service.handlers, channel, input);
      if (r.code !== 0) throw new Error(`${channel}: ${r.message}`);
    };
    await call('identity:create', { pin: PIN, rsaBits: 2048 });
    await call('device:register', { server: ks.url, appId: app.appId, serverKey: app.serverKey, username: 'alice' });
    registration = { appId: app.appId, serverKey: app.serverKey };

    browser = await launchChromium();
    d = await desktop.open(browser);
    w = await (await browser.newContext()).newPage();
    w.setDefaultTimeout(STEP_MS);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await second?.close();
    await desktop?.close();
    await example?.close();
    await ks?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The approval card for the request the example application just made. */
  const card = () => d.getByTestId('approval-card');

  async function approveOnDesktop() {
    await card().first().waitFor({ timeout: LIVE_MS });
    await card().first().getByLabel('PIN (if you use one)').fill(PIN);
    await card().first().getByRole('button', { name: 'Approve' }).click();
    await card().first().waitFor({ state: 'detached' });
  }

  it('signs in to the example application by approving on the desktop', async () => {
    await d.getByRole('navigation', { name: 'Main' }).waitFor(); // unlocked; the request cards appear when a request does
    await w.goto(example.url);
    await w.getByLabel('Your Sealpost user name').fill('alice');
    await w.getByRole('button', { name: 'Sign in with Sealpost' }).click();
    await w.getByText('Open Sealpost on your desktop and approve the request.').waitFor();
    await card().first().waitFor({ timeout: LIVE_MS });
    await expect(card().first().textContent()).resolves.toMatch(/Acme Notes asks to sign you in, with your personal encryption key/);
    expect(await card().first().getByTestId('transit-fingerprint').textContent()).toBe(rp.transitKeyId);
    expect(await serious(d, '[data-testid="approvals"]')).toEqual([]);
    await screenshot(d, 'connected-app-approval-card');
    await approveOnDesktop();
    await w.getByText('Signed in as alice').waitFor({ timeout: LIVE_MS });
    await screenshot(w, 'connected-app-signed-in');
  });

  it('encrypts a note with the personal key, and a second sign-in brings the same key', async () => {
    const first = await w.locator('#key-fingerprint').textContent();
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    await w.getByLabel('Note').fill('The quarterly numbers');
    await w.getByRole('button', { name: 'Encrypt with my key' }).click();
    await expect(w.locator('#reopened').textContent()).resolves.toBe('The quarterly numbers');
    expect((await w.locator('#ciphertext').textContent())!.length).toBeGreaterThan(40);

    await w.getByRole('button', { name: 'Sign out' }).click();
    await w.getByLabel('Your Sealpost user name').fill('alice');
    await w.getByRole('button', { name: 'Sign in with Sealpost' }).click();
    await approveOnDesktop();
    await w.getByText('Signed in as alice').waitFor({ timeout: LIVE_MS });
    expect(await w.locator('#key-fingerprint').textContent()).toBe(first);
  });

  it("a second desktop of the same user approves, and the application gets the same key", async () => {
    const first = await w.locator('#key-fingerprint').textContent();
    const exported = await dispatch(desktop.service.handlers, 'identity:export', { passphrase: 'correct horse battery staple' });
    if (exported.code !== 0) throw new Error(exported.message);
    second = await startApp('alice2-connected', { live: true });
    for (const [channel, input] of [
      ['identity:import', { file: (exported.value as { file: string }).file, passphrase: 'correct horse battery staple', pin: '2468' }],
      ['device:register', { server: ks.url, ...registration, username: 'alice' }],
    ] as const) {
      const r = await dispatch(second.service.handlers, channel, input);
      if (r.code !== 0) throw new Error(`${channel}: ${r.message}`);
    }
    const d2 = await second.open(browser);
    await d2.getByRole('navigation', { name: 'Main' }).waitFor();

    await w.getByRole('button', { name: 'Sign out' }).click();
    await w.getByLabel('Your Sealpost user name').fill('alice');
    await w.getByRole('button', { name: 'Sign in with Sealpost' }).click();
    const card2 = d2.getByTestId('approval-card').first();
    await card2.waitFor({ timeout: LIVE_MS });
    await card2.getByLabel('PIN (if you use one)').fill('2468');
    await card2.getByRole('button', { name: 'Approve' }).click();
    await w.getByText('Signed in as alice').waitFor({ timeout: LIVE_MS });
    expect(await w.locator('#key-fingerprint').textContent()).toBe(first);
    // The first desktop's card goes too: the request was decided (the approval event).
    await card().first().waitFor({ state: 'detached', timeout: LIVE_MS });
    await second.close();
    second = undefined;
  });

  it('Settings lists the application under Connected apps, with its keys and sign-ins', async () => {
    await ui.goTo(d, 'Settings');
    const row = d.getByTestId('connected-apps').getByTestId('connected-app-row').filter({ hasText: 'Acme Notes' });
    await row.waitFor();
    // Two approvals on this desktop (the second desktop's is its own record).
    await expect(row.textContent()).resolves.toMatch(/2 keys .* 2 sign-ins/);
    await d.getByTestId('connected-apps').getByText(/cannot be taken back/).waitFor();
    expect(await serious(d, '[data-testid="connected-apps"]')).toEqual([]);
    await d.getByTestId('connected-apps').scrollIntoViewIfNeeded();
    await screenshot(d, 'connected-apps-settings');
  });

  it('a denied request stays denied', async () => {
    await w.getByRole('button', { name: 'Sign out' }).click();
    await w.getByLabel('Your Sealpost user name').fill('alice');
    await w.getByRole('button', { name: 'Sign in with Sealpost' }).click();
    await card().first().waitFor({ timeout: LIVE_MS });
    await card().first().getByRole('button', { name: 'Deny' }).click();
    await w.getByText('The request was denied on the desktop.').waitFor({ timeout: LIVE_MS });
    await card().first().waitFor({ state: 'detached' });
  });

  it('a request that expires while shown turns into an expired card: no Approve, and the application reads "expired"', async () => {
    // The shortest wait an application may ask for, so the request expires during the test.
    const created = await rp.requestKey('alice', 'Too late', 30);
    const shown = d.locator(`[data-testid="approval-card"][data-request="${created.id}"]`);
    await shown.getByRole('button', { name: 'Approve' }).waitFor({ timeout: LIVE_MS });
    // The card's own timer turns it at the expiry; refreshes after that keep it (the key service no longer lists it).
    await shown.getByTestId('approval-expired').waitFor({ timeout: 30_000 + LIVE_MS });
    await shown.getByRole('heading', { name: 'Acme Notes asked for your personal encryption key for this application' }).waitFor();
    expect(await shown.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect((await rp.read(created.id)).state).toBe('expired');
    await screenshotEverySize(d, 'connected-apps-expired');
    await shown.getByRole('button', { name: 'Dismiss' }).click();
    await shown.waitFor({ state: 'detached' });
  });

  it('blocking the application in Settings says delivered keys stay delivered, and its next request can only be denied', async () => {
    const section = d.getByTestId('connected-apps');
    await section.getByRole('button', { name: 'Block Acme Notes' }).click();
    const dialog = d.getByRole('dialog', { name: 'Block Acme Notes?' });
    await dialog.getByText(/cannot be taken back/).waitFor();
    await dialog.getByRole('button', { name: 'Block', exact: true }).click();
    await section.getByText(/Acme Notes is blocked\. .*cannot be taken back/).waitFor();
    await section.getByTestId('connected-app-row').filter({ hasText: 'Acme Notes' }).getByText('Blocked').waitFor();
    const created = await rp.requestKey('alice', 'After the block');
    const blocked = d.locator(`[data-testid="approval-card"][data-request="${created.id}"]`);
    await blocked.waitFor({ timeout: LIVE_MS });
    await blocked.getByText('You stopped approvals for this application: it can only be denied.').waitFor();
    expect(await blocked.getByRole('button', { name: 'Approve' }).isDisabled()).toBe(true);
    await blocked.getByRole('button', { name: 'Deny' }).click();
    await blocked.waitFor({ state: 'detached' });
    expect((await rp.read(created.id)).state).toBe('denied');
  });
});
