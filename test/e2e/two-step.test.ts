/**
 * Two-step verification in Settings, end to end in real Chromium against a real key
 * service (issue 16): the user turns it on by scanning (here: reading) the secret the
 * card shows once, confirms with a code computed from it (otpauth, as an authenticator
 * app does), and gets ten recovery codes shown once. Revoking another device then asks
 * for a code: refused without one, done with a recovery code; a recovery code turns it
 * off again. axe checks the card while the QR code and the recovery codes are shown.
 * With a managed policy that requires it (SEALPOST_POLICY_FILE), a banner that cannot
 * be dismissed leads to the card, and goes once it is on.
 */
import { AxeBuilder } from '@axe-core/playwright';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as OTPAuth from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../electron/engine/dispatch.js';
import type { RunningServer } from '../../server/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { screenshot, startApp, startE2eKeyService, ui, type RunningApp } from './harness.js';

const PIN = '2580';

const totpNow = (secret: string) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate();

async function serious(page: Page, selector: string): Promise<string[]> {
  const result = await new AxeBuilder({ page }).include(selector).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
}

describe('two-step verification in Settings', () => {
  let dir: string;
  let ks: RunningServer;
  let desktop: RunningApp;
  let second: RunningApp;
  let browser: Browser;
  let page: Page;
  let secondDeviceId: string;
  let recoveryCodes: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-e2e-totp-'));
    ks = await startE2eKeyService(join(dir, 'keyservice.db'));
    const app = await ks.admin.createApp({ name: 'e2e totp' });
    const run = async (on: RunningApp, channel: Parameters<typeof dispatch>[1], input: unknown) => {
      const r = await dispatch(on.service.handlers, channel, input);
      if (r.code !== 0) throw new Error(`${channel}: ${r.message}`);
      return r.value;
    };
    desktop = await startApp('alice-totp');
    await run(desktop, 'identity:create', { pin: PIN, rsaBits: 2048 });
    await run(desktop, 'device:register', { server: ks.url, appId: app.appId, serverKey: app.serverKey, username: 'alice' });
    // A second desktop of the same user, to revoke later (registered before TOTP is on).
    const exported = (await run(desktop, 'identity:export', { passphrase: 'correct horse battery staple' })) as { file: string };
    second = await startApp('alice2-totp');
    await run(second, 'identity:import', { file: exported.file, passphrase: 'correct horse battery staple', pin: '1470' });
    await run(second, 'device:register', { server: ks.url, appId: app.appId, serverKey: app.serverKey, username: 'alice' });
    const devices = (await run(desktop, 'devices:list', {})) as { devices: { deviceId: string; current: boolean }[] };
    secondDeviceId = devices.devices.find((d) => !d.current)!.deviceId;

    browser = await launchChromium();
    page = await desktop.open(browser);
    await ui.goTo(page, 'Settings');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await second?.close();
    await desktop?.close();
    await ks?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const card = () => page.getByTestId('two-step');

  it('turns on with the shown secret and a first code, and shows ten recovery codes once', async () => {
    await card().getByRole('button', { name: 'Turn on' }).click();
    await card().getByTestId('totp-qr').waitFor();
    const secret = await card().getByTestId('totp-secret').getAttribute('data-secret');
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    // What the card shows for typing is the same key, in groups of four.
    expect((await card().getByTestId('totp-secret').textContent())!.replace(/\s/g, '')).toBe(secret);
    expect(await serious(page, '[data-testid="two-step"]')).toEqual([]);
    await card().scrollIntoViewIfNeeded();
    await screenshot(page, 'two-step-setup');

    // A wrong first code is refused and the setup stays.
    await card().getByLabel('2. The code your app shows now').fill('000000');
    await card().getByRole('button', { name: 'Turn on' }).click();
    await card().getByRole('alert').waitFor();
    await card().getByTestId('totp-qr').waitFor();

    const code = totpNow(secret!);
    await card().getByLabel('2. The code your app shows now').fill(code);
    await card().getByRole('button', { name: 'Turn on' }).click();
    const list = card().getByRole('list', { name: 'Recovery codes' });
    await list.waitFor();
    recoveryCodes = (await list.getByRole('listitem').allTextContents()).map((c) => c.trim());
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    await card().getByText('Two-step verification is on.').waitFor();
    expect(await card().getByTestId('totp-qr').count()).toBe(0);
    expect(await serious(page, '[data-testid="two-step"]')).toEqual([]);
    await card().scrollIntoViewIfNeeded();
    await screenshot(page, 'two-step-recovery-codes');

    await card().getByRole('button', { name: 'I saved them' }).click();
    await card().getByText('10 of 10 recovery codes left.').waitFor();
    expect(await list.count()).toBe(0);
    const status = await dispatch(desktop.service.handlers, 'totp:status', {});
    expect(status.code === 0 && (status.value as { enabled: boolean }).enabled).toBe(true);
  });

  it('revoking another device asks for a code: refused without one, done with a recovery code', async () => {
    // The Devices card on the same page heard that TOTP went on: its question has the field.
    const short = `${secondDeviceId.slice(0, 4)}…${secondDeviceId.slice(-4)}`;
    await page.getByRole('button', { name: `Revoke device ${short}` }).click();
    const question = page.getByRole('alertdialog', { name: `Revoke device ${short}?` });
    await question.getByLabel('Authenticator code').waitFor();
    await question.getByRole('button', { name: 'Revoke it' }).click();
    await page.getByText(/totp_required/).waitFor();
    await question.getByLabel('Authenticator code').fill(recoveryCodes[0]!);
    await question.getByRole('button', { name: 'Revoke it' }).click();
    await page.getByText(`Device ${short} is revoked.`).waitFor();
  });

  it('a recovery code turns it off', async () => {
    await card().getByLabel('Code from your app (or a recovery code)').fill(recoveryCodes[1]!);
    await card().getByRole('button', { name: 'Turn off' }).click();
    await card().getByText('Two-step verification is off.').waitFor();
    await card().getByRole('button', { name: 'Turn on' }).waitFor();
    const status = await dispatch(desktop.service.handlers, 'totp:status', {});
    expect(status.code === 0 && (status.value as { enabled: boolean }).enabled).toBe(false);
  });
});

describe('two-step verification required by policy', () => {
  const saved = process.env.SEALPOST_POLICY_FILE;
  let dir: string;
  let ks: RunningServer;
  let desktop: RunningApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-e2e-totp-policy-'));
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ requireTotp: true }));
    // Read by the engine when it opens (startApp), as /etc/sealpost/policy.json would be.
    process.env.SEALPOST_POLICY_FILE = policy;
    ks = await startE2eKeyService(join(dir, 'keyservice.db'));
    const app = await ks.admin.createApp({ name: 'e2e totp policy' });
    desktop = await startApp('bob-totp-policy');
    for (const [channel, input] of [
      ['identity:create', { pin: PIN, rsaBits: 2048 }],
      ['device:register', { server: ks.url, appId: app.appId, serverKey: app.serverKey, username: 'bob' }],
    ] as const) {
      const r = await dispatch(desktop.service.handlers, channel, input);
      if (r.code !== 0) throw new Error(`${channel}: ${r.message}`);
    }
    browser = await launchChromium();
    page = await desktop.open(browser);
  }, 120_000);

  afterAll(async () => {
    if (saved === undefined) delete process.env.SEALPOST_POLICY_FILE;
    else process.env.SEALPOST_POLICY_FILE = saved;
    await browser?.close();
    await desktop?.close();
    await ks?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows a banner that cannot be dismissed until TOTP is on, and it cannot be turned off', async () => {
    const banner = page.getByTestId('totp-required');
    await banner.waitFor();
    // Its only button leads to the card; nothing closes it.
    expect(await banner.getByRole('button').allTextContents()).toEqual(['Set it up']);
    await banner.getByRole('button', { name: 'Set it up' }).click();
    const card = page.getByTestId('two-step');
    await card.getByText('Your organization requires two-step verification.').waitFor();
    await card.getByRole('button', { name: 'Turn on' }).click();
    const secret = await card.getByTestId('totp-secret').getAttribute('data-secret');
    await card.getByLabel('2. The code your app shows now').fill(totpNow(secret!));
    await card.getByRole('button', { name: 'Turn on' }).click();
    await card.getByRole('list', { name: 'Recovery codes' }).waitFor();
    await banner.waitFor({ state: 'detached' });
    await card.getByRole('button', { name: 'I saved them' }).click();
    await card.getByText('Your organization requires it: it cannot be turned off here.').waitFor();
    expect(await card.getByRole('button', { name: 'Turn off' }).count()).toBe(0);
  });
});
