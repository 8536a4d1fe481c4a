/**
 * `npm start`'s launcher as a user runs it (the tsc build in dist/, which
 * `npm test` makes first): it starts a key service with its SQLite file in the
 * app data folder, says in one line that there is no Electron runtime (or is
 * told to use browser mode), serves the UI on 127.0.0.1 with a token URL, a
 * new user's first run registers with that key service by a user name alone
 * (no keys copied out of a file), and Ctrl-C stops both.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { ROOT } from './harness.js';

const LAUNCHER = join(ROOT, 'dist', 'electron', 'launcher', 'start.js');

describe('npm start launcher', () => {
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

  it('with Electron installed, starts the app and the app registers with the local key service by a user name alone', async () => {
    if (!existsSync(LAUNCHER)) throw new Error(`${LAUNCHER} missing: run \`npm run build:node\` (npm test does) first.`);
    // No Electron binary can be installed here, so a stand-in takes its place (ELECTRON_OVERRIDE_DIST_PATH,
    // as electron-binary.ts reads it): it does what the app's main process does with the launcher's
    // SEALPOST_LOCAL_KEY_SERVICE (electron/main/index.ts), through the same built engine modules.
    const home = mkdtempSync(join(tmpdir(), 'sealpost-launch-app-'));
    const standIn = join(home, 'dist');
    mkdirSync(standIn);
    const dist = (p: string) => JSON.stringify(pathToFileURL(join(ROOT, 'dist', p)).href);
    writeFileSync(
      join(standIn, 'electron'),
      `#!${process.execPath}
(async () => {
  const { localKeyServiceFromEnv, LOCAL_KEY_SERVICE_ENV } = await import(${dist('electron/engine/service/local-key-service-env.js')});
  const { openService } = await import(${dist('electron/engine/service/index.js')});
  const { TEST_KDF_PARAMS } = await import(${dist('electron/engine/crypto/pin-kdf.js')});
  const localKeyService = localKeyServiceFromEnv(process.env);
  delete process.env[LOCAL_KEY_SERVICE_ENV];
  const service = await openService({ profileDir: process.env.STAND_IN_PROFILE, keychain: 'file', kdfParams: TEST_KDF_PARAMS, actor: 'ui', localKeyService });
  const status = await service.handlers['engine:status']({});
  await service.handlers['identity:create']({ pin: '0', rsaBits: 2048 });
  const registered = await service.handlers['device:registerLocal']({ username: 'erin' });
  service.close();
  console.log('STAND-IN ' + JSON.stringify({ app: process.argv[2], local: status.value.localKeyService, registered }));
})().catch((e) => { console.error(e); process.exit(3); });
`,
      { mode: 0o755 },
    );
    const child = spawn(process.execPath, [LAUNCHER], {
      env: { ...process.env, XDG_CONFIG_HOME: home, SEALPOST_PROFILE: '', SEALPOST_KEY_SERVICE_PORT: '0', SEALPOST_BROWSER_MODE: '', ELECTRON_OVERRIDE_DIST_PATH: standIn, STAND_IN_PROFILE: join(home, 'profile') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      // The launcher stops when the app exits, as it does when the user quits the app.
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(code, `${out}\n${err}`).toBe(0);
      expect(out).not.toContain('browser mode');
      const line = /STAND-IN (.*)/.exec(out)?.[1];
      expect(line, `${out}\n${err}`).toBeDefined();
      const ks = /Key service: (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      const seen = JSON.parse(line!) as { app: string; local: { url: string } | null; registered: { code: number; value?: { username: string; server: string } } };
      expect(seen.app).toBe(ROOT);
      expect(seen.local).toEqual({ url: ks });
      expect(seen.registered).toMatchObject({ code: 0, value: { username: 'erin', server: ks } });
      expect(out).toContain('Sealpost stopped.');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(home, { recursive: true, force: true });
    }
  });
});
