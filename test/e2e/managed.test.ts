/**
 * A managed machine (issue 16, docs/deploy.md), in browser mode against a real key
 * service: the policy file presets the key service, app and client key, requires a
 * PIN of 6+ digits, caps auto-lock, forbids identity export and notification text,
 * names the escrow and wants a recovery backup. The admin issues one-time
 * enrollment codes in-process (as `admin enroll` does). Then:
 *  - first run: the user chooses a PIN and types only the user name and the code (or
 *    pastes the sealpost://enroll link, or the OS opened it) and reaches Chats: no URL, no key;
 *  - Settings: locked settings say "Managed by your organization" and are disabled,
 *    PIN 0 is refused by the engine too, the backup reminder cannot be dismissed;
 *  - an invalid policy file: one clear screen naming the file and the problem.
 * axe checks the new screens (no serious or critical violation).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '../../shared/codes.js';
import { dispatch } from '../../electron/engine/dispatch.js';
import { EnrollmentIssuer } from '../../server/enrollment/codes.js';
import type { CreatedApp, RunningServer } from '../../server/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { screenshot, startApp, startE2eKeyService, ui, type RunningApp } from './harness.js';

const MANAGED = 'Managed by your organization';

async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
}

describe('a managed machine', () => {
  let dir: string;
  let ks: RunningServer;
  let ksApp: CreatedApp;
  let issuer: EnrollmentIssuer;
  let browser: Browser;
  let policyFile: string;
  const opened: RunningApp[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-e2e-managed-'));
    ks = await startE2eKeyService(join(dir, 'keyservice.db'));
    ksApp = await ks.admin.createApp({ name: 'e2e managed' });
    issuer = await EnrollmentIssuer.open(ks.store, ks.url);
    policyFile = join(dir, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        keyServiceUrl: ks.url,
        appId: ksApp.appId,
        clientKey: ksApp.clientKey,
        requirePin: true,
        pinMinLength: 6,
        autoLockMaxMs: 15 * 60_000,
        allowIdentityExport: false,
        notificationPreviews: 'off',
        readReceipts: false,
        escrow: { url: ks.url, appId: ksApp.appId, clientKey: ksApp.clientKey },
        recoveryBackupRequiredDays: 14,
      }),
    );
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    for (const app of opened) await app.close();
    await browser?.close();
    await ks?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function managedFirstRun(name: string): Promise<{ app: RunningApp; page: Page }> {
    const app = await startApp(name, { policyFile });
    opened.push(app);
    const page = await app.open(browser);
    await page.getByRole('heading', { name: 'Create your identity' }).waitFor();
    // A PIN is required: no way to skip it, and the policy's 6 digits are asked for.
    await page.getByTestId('pin-required-managed').getByText(MANAGED).waitFor();
    expect(await page.getByRole('button', { name: 'Skip the PIN…' }).count()).toBe(0);
    await page.getByLabel('PIN', { exact: true }).fill('2468');
    await page.getByLabel('Repeat the PIN').fill('2468');
    await page.getByRole('button', { name: 'Create identity' }).click();
    await page.getByText('A PIN is 6 to 12 digits.').waitFor();
    await page.getByLabel('PIN', { exact: true }).fill('246810');
    await page.getByLabel('Repeat the PIN').fill('246810');
    await page.getByRole('button', { name: 'Create identity' }).click();
    await page.getByRole('heading', { name: 'Connect to a key service' }).waitFor();
    // Prefilled from the policy and not editable.
    const url = page.getByRole('textbox', { name: /^Key service URL/ });
    expect(await url.inputValue()).toBe(ks.url);
    expect(await url.getAttribute('readonly')).not.toBeNull();
    expect(await page.getByRole('textbox', { name: /^App id/ }).inputValue()).toBe(ksApp.appId);
    return { app, page };
  }

  async function reachChats(app: RunningApp, page: Page, username: string) {
    await ui.finishFirstRun(page);
    await ui.goTo(page, 'Chats');
    await page.getByRole('heading', { name: 'Chats', level: 1 }).waitFor();
    const status = await dispatch(app.service.handlers, 'sync:status', {});
    expect(status).toMatchObject({ code: 0, value: { registered: true, username, server: ks.url } });
  }

  it('first run with the user name and the enrollment code only reaches Chats; a wrong code says to ask for a new one', async () => {
    const issued = await issuer.issue({ appId: ksApp.appId, username: 'alice' });
    const { app, page } = await managedFirstRun('managed-alice');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('Your user name').fill('alice');
    // A code for someone else is refused in plain words.
    const other = await issuer.issue({ appId: ksApp.appId, username: 'mallory' });
    await page.getByLabel('Enrollment code').fill(other.code);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByText('ask your administrator for a new code').waitFor();
    await page.getByLabel('Enrollment code').fill(issued.code.toLowerCase());
    await screenshot(page, 'managed-connect');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await reachChats(app, page, 'alice');
  });

  it('pasting the sealpost://enroll link fills the user name and the code', async () => {
    const issued = await issuer.issue({ appId: ksApp.appId, username: 'bob' });
    const { app, page } = await managedFirstRun('managed-bob');
    await page.getByLabel('Paste an enrollment link').fill('https://example.invalid/not-a-link');
    await page.getByText('That is not an enrollment link').waitFor();
    await page.getByLabel('Paste an enrollment link').fill(issued.link);
    expect(await page.getByLabel('Your user name').inputValue()).toBe('bob');
    expect(await page.getByLabel('Enrollment code').inputValue()).toBe(issued.code);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await reachChats(app, page, 'bob');
  });

  it('a sealpost://enroll link opened from the OS (the enroll-link event) before Connect shows prefills it', async () => {
    const issued = await issuer.issue({ appId: ksApp.appId, username: 'carol' });
    const app = await startApp('managed-carol', { policyFile });
    opened.push(app);
    const page = await app.open(browser);
    await page.getByRole('heading', { name: 'Create your identity' }).waitFor();
    // What Electron main sends after parsing the link (electron/main/enroll-link.ts): the code in canonical form.
    const code = issued.code.replace(/-/g, '');
    app.sendEvent({ type: 'enroll-link', server: ks.url, appId: ksApp.appId, username: 'carol', code });
    await page.getByLabel('PIN', { exact: true }).fill('135790');
    await page.getByLabel('Repeat the PIN').fill('135790');
    await page.getByRole('button', { name: 'Create identity' }).click();
    await page.getByRole('heading', { name: 'Connect to a key service' }).waitFor();
    await expect.poll(() => page.getByLabel('Enrollment code').inputValue()).toBe(code);
    expect(await page.getByLabel('Your user name').inputValue()).toBe('carol');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await reachChats(app, page, 'carol');
  });

  it('locked settings say Managed by your organization and are disabled; PIN 0 is refused; the backup reminder stays', async () => {
    const [app] = opened;
    // A new window on the same engine, locked first: unlocking re-reads the policy.
    expect(await dispatch(app!.service.handlers, 'session:lock', {})).toMatchObject({ code: 0 });
    const page = await app!.open(browser);
    await ui.unlock(page, '246810');
    const reminder = page.getByTestId('recovery-reminder');
    await reminder.getByText('Your organization requires a recovery backup within 14 days').waitFor();
    expect(await reminder.getByRole('button', { name: /dismiss|close/i }).count()).toBe(0);
    await reminder.getByRole('button', { name: 'Set up recovery' }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await page.getByTestId('managed-escrow').getByText(MANAGED).waitFor();
    expect(await page.getByTestId('managed-escrow').textContent()).toContain(ks.url);

    await page.getByTestId('pin-managed').getByText(MANAGED).waitFor();
    expect(await page.getByLabel(/^Turn the PIN off/).isDisabled()).toBe(true);
    await page.getByTestId('autolock-managed').getByText(MANAGED).waitFor();
    const choices = await page.getByLabel('Lock after').locator('option').allTextContents();
    expect(choices).not.toContain('Never (not recommended)');
    expect(choices).not.toContain('1 hour');
    await page.getByTestId('previews-managed').getByText(MANAGED).waitFor();
    expect(await page.getByLabel('Show sender and message text in notifications').isDisabled()).toBe(true);
    await page.getByTestId('receipts-managed').getByText(MANAGED).waitFor();
    expect(await page.getByLabel('Send read receipts').isDisabled()).toBe(true);
    expect(await page.getByLabel('Send read receipts').isChecked()).toBe(false);
    await page.getByTestId('export-managed').getByText(MANAGED).waitFor();
    expect(await page.getByRole('button', { name: 'Export identity file' }).isDisabled()).toBe(true);
    await screenshot(page, 'managed-settings');
    expect(await seriousViolations(page)).toEqual([]);

    // The engine refuses what the UI does not offer.
    const noPin = await dispatch(app!.service.handlers, 'pin:change', { oldPin: '246810', newPin: '0' });
    expect(noPin).toMatchObject({ code: ResultCode.PolicyForbidden, details: { policy: 'requirePin' } });
  });

  it('restoring and linking on a managed machine take the key service, app id and client key from the policy', async () => {
    const app = await startApp('managed-restore', { policyFile });
    opened.push(app);
    const page = await app.open(browser);
    await page.getByRole('heading', { name: 'Create your identity' }).waitFor();
    await page.getByRole('button', { name: 'Link to an existing device…' }).click();
    await page.getByRole('heading', { name: 'Link to an existing device' }).waitFor();
    const url = page.getByRole('textbox', { name: /^Key service URL/ });
    await expect.poll(() => url.inputValue()).toBe(ks.url);
    expect(await url.getAttribute('readonly')).not.toBeNull();
    expect(await page.getByRole('textbox', { name: /^App id/ }).inputValue()).toBe(ksApp.appId);
    expect(await page.getByLabel(/^Client key/).inputValue()).toBe(ksApp.clientKey);
  });

  it('an invalid policy shows one clear screen naming the file and the problem', async () => {
    const bad = join(dir, 'bad-policy.json');
    writeFileSync(bad, JSON.stringify({ requirePin: 'yes', keyServiceUrl: ks.url }));
    const app = await startApp('managed-invalid', { policyFile: bad });
    opened.push(app);
    const page = await app.open(browser);
    await page.getByRole('heading', { name: /policy is not valid/ }).waitFor();
    expect(await page.getByTestId('policy-sources').textContent()).toContain(bad);
    expect(await page.getByTestId('policy-error').textContent()).toMatch(/requirePin/);
    // Nothing else is usable: no first run, no buttons.
    expect(await page.getByRole('heading', { name: 'Create your identity' }).count()).toBe(0);
    expect(await page.getByRole('button').count()).toBe(0);
    await screenshot(page, 'managed-invalid');
    expect(await seriousViolations(page)).toEqual([]);
  });
});
