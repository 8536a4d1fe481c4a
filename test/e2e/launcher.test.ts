/**
 * `npm start`'s launcher as a user runs it (the tsc build in dist/, which
 * `npm test` makes first): it starts a key service with its SQLite file in the
 * app data folder, says in one line that there is no Electron runtime (or is
 * told to use browser mode), serves the UI on 127.0.0.1 with a token URL, a
 * new user's first run registers with that key service by a user name alone
 * (no keys copied out of a file), and Ctrl-C stops both.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { ROOT } from './harness.js';

const LAUNCHER = join(ROOT, 'dist', 'electron', 'launcher', 'start.js');

describe('npm start launcher (browser mode)', () => {
  it('starts the key service and the browser UI, and stops both on SIGINT', async () => {
    if (!existsSync(LAUNCHER)) throw new Error(`${LAUNCHER} missing: run \`npm run build:node\` (npm test does) first.`);
    const home = mkdtempSync(join(tmpdir(), 'sealpost-launch-'));
    const child = spawn(process.execPath, [LAUNCHER], {
      env: { ...process.env, XDG_CONFIG_HOME: home, SEALPOST_PROFILE: '', SEALPOST_KEY_SERVICE_PORT: '0', SEALPOST_BROWSER_MODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Open Sealpost in your browser: (http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        void exited.then((code) => reject(new Error(`launcher exited ${code}: ${out} ${err}`)));
      });
      const ks = /Key service: (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(ks).toBeDefined();
      expect((await fetch(`${ks}/health`)).status).toBe(200);
      const page = await fetch(url.split('#')[0]!);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
      const dataDir = join(home, 'Sealpost');
      expect(existsSync(join(dataDir, 'keyservice.db'))).toBe(true);
      expect(statSync(join(dataDir, 'keyservice-app.json')).mode & 0o077).toBe(0);

      // A new user's first run: a PIN, then the key service on this computer takes only a user name.
      const browser = await launchChromium();
      try {
        const ui = await browser.newPage();
        await ui.goto(url);
        await ui.getByRole('heading', { name: 'Create your identity' }).waitFor();
        await ui.getByLabel('PIN', { exact: true }).fill('2468');
        await ui.getByLabel('Repeat the PIN').fill('2468');
        await ui.getByRole('button', { name: 'Create identity' }).click();
        await ui.getByRole('heading', { name: 'Connect to a key service' }).waitFor({ timeout: 120_000 });
        await ui.getByText(`A key service runs on this computer (${ks})`).waitFor();
        expect(await ui.getByLabel('App id').count()).toBe(0);
        await ui.getByLabel('Your user name').fill('dana');
        await ui.getByRole('button', { name: 'Connect', exact: true }).click();
        await ui.getByRole('heading', { name: 'Your identity is ready' }).waitFor({ timeout: 120_000 });
        await ui.getByRole('button', { name: 'Open Sealpost' }).click();
        await ui.getByRole('navigation', { name: 'Main' }).waitFor();
        // Registered: the push stream to that key service is live.
        await ui.getByText('Live', { exact: true }).first().waitFor({ timeout: 120_000 });
      } finally {
        await browser.close();
      }

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toContain('Sealpost stopped.');
      await expect(fetch(`${ks}/health`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(home, { recursive: true, force: true });
    }
  });
});
