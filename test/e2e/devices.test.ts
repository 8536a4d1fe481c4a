/**
 * "Your devices" in Settings, in real Chromium against a real key service on
 * loopback: alice sets up her desk in the UI; a second desktop (her identity
 * file imported, registered) appears in the list; she revokes it after the
 * confirmation; the row says revoked, and the laptop's next request is refused
 * by the key service (403 device_revoked).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel, Output } from '../../shared/contract.js';
import { dispatch } from '../../electron/engine/dispatch.js';
import type { CreatedApp, RunningServer } from '../../server/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { screenshot, startApp, ui, type RunningApp, startE2eKeyService } from './harness.js';

const PIN = '2468';

async function ok<C extends Channel>(app: RunningApp, channel: C, input: unknown): Promise<Output<C>> {
  const r = await dispatch(app.service.handlers, channel, input);
  if (r.code !== 0) throw new Error(`${channel}: ${r.code} ${r.message}`);
  return r.value as Output<C>;
}

describe('devices list and revoke in the UI', () => {
  let browser: Browser;
  let dbDir: string;
  let ks: RunningServer;
  let ksApp: CreatedApp;
  let desk: RunningApp;
  let laptop: RunningApp;
  let page: Page;

  beforeAll(async () => {
    dbDir = mkdtempSync(join(tmpdir(), 'sealpost-e2e-devices-'));
    ks = await startE2eKeyService(join(dbDir, 'keyservice.db'));
    ksApp = await ks.admin.createApp({ name: 'e2e devices' });
    browser = await launchChromium();
    desk = await startApp('desk');
    laptop = await startApp('laptop');
    page = await desk.open(browser);
  });

  afterAll(async () => {
    await desk?.close();
    await laptop?.close();
    await browser?.close();
    await ks?.close().catch(() => undefined);
    if (dbDir) rmSync(dbDir, { recursive: true, force: true });
  });

  it('lists both desktops and revokes the other one after a confirmation', async () => {
    const url = `http://127.0.0.1:${ks.port}`;
    await ui.firstRunRegistered(page, PIN, { url, app: ksApp }, 'alice');

    const file = await ok(desk, 'identity:export', { passphrase: 'a long identity passphrase' });
    await ok(laptop, 'identity:import', { file: file.file, passphrase: 'a long identity passphrase', pin: PIN });
    await ok(laptop, 'device:register', { server: url, appId: ksApp.appId, serverKey: ksApp.serverKey, clientKey: ksApp.clientKey, username: 'alice' });
    const laptopId = (await ok(laptop, 'devices:list', {})).devices.find((d) => d.current)!.deviceId;

    await ui.goTo(page, 'Settings');
    const card = page.getByRole('region', { name: 'Your devices' });
    await card.getByRole('button', { name: 'Refresh' }).click();
    const rows = card.getByTestId('device-row');
    await expect.poll(() => rows.count()).toBe(2);
    await expect.poll(() => card.getByText('This device', { exact: true }).count()).toBe(1);
    expect(await card.getByText('short-lived tokens signed by its own device key').count()).toBe(1);
    const other = card.locator(`[data-device-id="${laptopId}"]`);
    expect(await other.getByText('Active').count()).toBe(1);

    await other.getByRole('button', { name: /Revoke device/ }).click();
    const dialog = page.getByRole('alertdialog');
    expect(await dialog.getByText('What it already downloaded stays on it').count()).toBe(1);
    await screenshot(page, 'devices-revoke-confirm');
    await dialog.getByRole('button', { name: 'Revoke it' }).click();
    await card.getByRole('status').filter({ hasText: 'is revoked' }).waitFor();
    await expect.poll(() => other.getByText(/^Revoked /).count()).toBe(1);
    expect(await other.getByRole('button', { name: /Revoke device/ }).count()).toBe(0);

    const refused = await dispatch(laptop.service.handlers, 'devices:list', {});
    expect(refused).toMatchObject({ code: -1, details: { server: 'device_revoked', status: 403 } });
  });
});
