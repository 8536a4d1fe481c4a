/**
 * The real Electron app through Playwright's _electron.launch: the same first
 * run as in browser mode (PIN, stay local, safety number, vault), on a
 * throwaway profile, plus the window's isolation seen from inside the page,
 * and an engine event (the lock) reaching the page through window.sealpost.onEvent.
 *
 * Electron's binary is a separate download that this machine cannot make;
 * this is the only test allowed to skip, and only when no binary is installed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { findElectronBinary } from '../../electron/launcher/electron-binary.js';
import { ROOT, screenshot, STEP_MS, ui } from './harness.js';

const binary = findElectronBinary();

describe.skipIf(!binary)('Electron app (needs an installed Electron binary)', () => {
  it('first run with a PIN in the real window, hardened', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'sealpost-electron-'));
    const app = await _electron.launch({
      executablePath: binary!,
      args: [ROOT, '--no-sandbox'],
      env: { ...process.env, SEALPOST_PROFILE: profile, SEALPOST_KEYCHAIN: 'file', SEALPOST_INSECURE_TEST_KDF: '1' },
    });
    try {
      const page = await app.firstWindow();
      page.setDefaultTimeout(STEP_MS);
      // Isolation as the page sees it: no Node, only window.sealpost.
      expect(await page.evaluate('typeof require')).toBe('undefined');
      expect(await page.evaluate('typeof process')).toBe('undefined');
      expect(await page.evaluate('Object.keys(window.sealpost).sort().join(",")')).toContain('vault');
      await ui.createIdentity(page, '2468');
      await ui.stayLocal(page);
      await ui.finishFirstRun(page);
      await screenshot(page, 'electron-vault');
      // window.open is refused by the main process.
      expect(await page.evaluate("window.open('https://example.com') === null")).toBe(true);
      // Engine events reach the page, as the event alone (no IPC event object, no sender).
      await page.evaluate('window.__seen = []; window.sealpost.onEvent((...args) => window.__seen.push(args)); true');
      await page.getByRole('button', { name: 'Lock now' }).click();
      await page.waitForFunction('window.__seen.some((args) => args[0].type === "lock" && args[0].unlocked === false)');
      expect(await page.evaluate('window.__seen.every((args) => args.length === 1)')).toBe(true);
      await page.getByRole('heading', { name: 'Unlock Sealpost' }).waitFor();
    } finally {
      await app.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
