/**
 * End-to-end harness: a real engine on a throwaway profile (file keychain,
 * cheap KDF so a PIN check takes milliseconds), served by the real webhost
 * over loopback, driven in real Chromium (Debian's, via playwright-core).
 *
 *   const app = await startApp('alice');
 *   const page = await app.open(browser);
 *   await screenshot(page, 'first-run');
 *   await app.close();
 *
 * The UI is the built renderer in out/renderer (`npm test` builds it first).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { TEST_KDF_PARAMS } from '../../electron/engine/crypto/pin-kdf.js';
import type { EngineEvent, EngineEventListener } from '../../shared/contract-events.js';
import { loadPolicy } from '../../electron/engine/policy/load.js';
import { openService, type Service } from '../../electron/engine/service/index.js';
import { startWebhost, type Webhost } from '../../electron/webhost/server.js';
import { startServer, type CreatedApp, type RunningServer } from '../../server/index.js';
import { launchChromium } from '../helpers/chromium.js';

/** The checkout, whether this runs from test/ (vitest) or from its tsc build in dist/test/ (npm run screenshots). */
const ABOVE = resolve(import.meta.dirname, '../..');
export const ROOT = basename(ABOVE) === 'dist' ? dirname(ABOVE) : ABOVE;
export const RENDERER_DIR = join(ROOT, 'out', 'renderer');
export const SCREENSHOT_DIR = join(ROOT, 'test-results', 'screenshots');
/**
 * How long one page step (a click, a wait for text) may take before it fails: far
 * above what it needs, for a machine whose two cores other jobs share, yet well
 * inside the test's own limit so a step that cannot happen says which it was.
 */
export const STEP_MS = 45_000;

export function requireBuiltUi(): void {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new Error(`No built UI in ${RENDERER_DIR}: run \`npx electron-vite build\` (npm test does) first.`);
}

export interface RunningApp {
  name: string;
  profileDir: string;
  service: Service;
  webhost: Webhost;
  /** A new browser context (own storage) with the app loaded. */
  open(browser: Browser, options?: { colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number } }): Promise<Page>;
  /** Stops the webhost and the engine; the profile stays until dispose(). */
  stop(): Promise<void>;
  /** Sends an engine event to the open pages as the Electron shell does for what the engine does not emit (e.g. an 'enroll-link' the OS opened). */
  sendEvent(event: EngineEvent): void;
  /** Starts a new engine + webhost on the same profile (an app restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface AppOptions {
  /** Runs the engine's sync as the app does (timer and live stream); off by default, so tests sync by hand. */
  live?: boolean;
  /** A managed policy file for the engine (SEALPOST_POLICY_FILE, as the app takes it); without it the engine reads this machine's managed place as usual. */
  policyFile?: string;
}

export async function startApp(name: string, options: AppOptions = {}): Promise<RunningApp> {
  requireBuiltUi();
  const profileDir = mkdtempSync(join(tmpdir(), `sealpost-e2e-${name}-`));
  const contexts: BrowserContext[] = [];
  const shellListeners = new Set<EngineEventListener>();
  const boot = async () => {
    const policy = options.policyFile ? await loadPolicy({ env: { SEALPOST_POLICY_FILE: options.policyFile } }) : undefined;
    const service = await openService({ profileDir, actor: 'webhost', keychain: 'file', kdfParams: TEST_KDF_PARAMS, ...(policy && { policy }) });
    // The engine's events plus the shell's own (sendEvent), as Electron main forwards both.
    const onEvent = (listener: EngineEventListener) => {
      const off = service.onEvent(listener);
      shellListeners.add(listener);
      return () => {
        off();
        shellListeners.delete(listener);
      };
    };
    const webhost = await startWebhost({ handlers: service.handlers, onEvent, rendererDir: RENDERER_DIR });
    if (options.live) service.messaging.sync.start();
    return { service, webhost };
  };
  let running = await boot();
  const app: RunningApp = {
    name,
    profileDir,
    get service() {
      return running.service;
    },
    get webhost() {
      return running.webhost;
    },
    async open(browser, options = {}) {
      const context = await browser.newContext({
        colorScheme: options.colorScheme ?? 'light',
        viewport: options.viewport ?? { width: 1200, height: 860 },
        acceptDownloads: true,
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(STEP_MS);
      await page.goto(running.webhost.url);
      return page;
    },
    sendEvent(event) {
      for (const listener of [...shellListeners]) listener(event);
    },
    async stop() {
      await running.webhost.close();
      running.service.close();
    },
    async restart() {
      running = await boot();
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await running.webhost.close().catch(() => undefined);
      running.service.close();
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
  return app;
}

/** Rate limits far above what a test reaches: a limit is never what a UI test checks. */
export const E2E_RATE_LIMIT = { perIp: 1_000_000, perDevice: 1_000_000, secretFailures: 1000 };

/** A real key service on loopback with its SQLite file `db` (`port` 0 = any free one; a restart passes the old one). */
export function startE2eKeyService(db: string, port = 0): Promise<RunningServer> {
  return startServer({ host: '127.0.0.1', port, db, rsaBits: 2048, rateLimit: E2E_RATE_LIMIT });
}

/**
 * The two-user set-up: one real key service (SQLite in a throwaway folder)
 * with one app, and alice's and bob's desktops, each open in its own browser
 * context. The key service can be stopped and started again on the same port
 * and database, which is how the tests take the desktops offline.
 */
export interface TwoDesktops {
  browser: Browser;
  /** The throwaway folder: the key service's database, and room for test files. */
  dir: string;
  /** The running key service (replaced by restartKeyService). */
  ks: RunningServer;
  app: CreatedApp;
  alice: RunningApp;
  bob: RunningApp;
  a: Page;
  b: Page;
  stopKeyService(): Promise<void>;
  restartKeyService(): Promise<void>;
  close(): Promise<void>;
}

export async function startTwoDesktops(label: string, options: AppOptions = {}): Promise<TwoDesktops> {
  const dir = mkdtempSync(join(tmpdir(), `sealpost-e2e-${label}-`));
  const dbFile = join(dir, 'keyservice.db');
  const ks = await startE2eKeyService(dbFile);
  const port = ks.port;
  const app = await ks.admin.createApp({ name: `e2e ${label}` });
  const browser = await launchChromium();
  const [alice, bob] = await Promise.all([startApp(`alice-${label}`, options), startApp(`bob-${label}`, options)]);
  const [a, b] = await Promise.all([alice.open(browser), bob.open(browser)]);
  const t: TwoDesktops = {
    browser,
    dir,
    ks,
    app,
    alice,
    bob,
    a,
    b,
    stopKeyService: () => t.ks.close(),
    async restartKeyService() {
      t.ks = await startE2eKeyService(dbFile, port);
    },
    async close() {
      await alice.close();
      await bob.close();
      await browser.close();
      await t.ks.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** Saves a full-page screenshot as test-results/screenshots/<name>.png (test artifact). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * `screenshot` at the sizes and schemes every screen is looked at in (800x600 and
 * 1920x1080, light and dark): `<name>-<scheme>-<w>x<h>.png`; the page is put back
 * as it was.
 */
export async function screenshotEverySize(page: Page, name: string): Promise<void> {
  const before = page.viewportSize();
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    for (const [width, height] of [
      [800, 600],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width, height });
      await screenshot(page, `${name}-${colorScheme}-${width}x${height}`);
    }
  }
  await page.emulateMedia({ colorScheme: null });
  if (before) await page.setViewportSize(before);
}

/** Typed steps a user takes, so tests read as the flow they check. */
export const ui = {
  async createIdentity(page: Page, pin: string | null) {
    await page.getByRole('heading', { name: 'Create your identity' }).waitFor();
    if (pin === null) {
      await page.getByRole('button', { name: 'Skip the PIN…' }).click();
      // The warning names where the unprotected keys go (the harness's profiles use the file keychain).
      await page.getByText('The keys are kept in a file in your profile, and nothing else protects them.').waitFor();
      await page.getByRole('button', { name: 'Continue without a PIN' }).click();
    } else {
      await page.getByLabel('PIN', { exact: true }).fill(pin);
      await page.getByLabel('Repeat the PIN').fill(pin);
      await page.getByRole('button', { name: 'Create identity' }).click();
    }
  },
  async stayLocal(page: Page) {
    await page.getByRole('heading', { name: 'Connect to a key service' }).waitFor();
    await page.getByRole('button', { name: 'Stay local for now' }).click();
  },
  async finishFirstRun(page: Page) {
    await page.getByRole('heading', { name: 'Your identity is ready' }).waitFor();
    await page.getByRole('button', { name: 'Open Sealpost' }).click();
    await page.getByRole('heading', { name: 'Vault' }).waitFor();
  },
  /** First run from start to end: identity with `pin`, registered as `username`, app open. */
  async firstRunRegistered(page: Page, pin: string, ks: { url: string; app: { appId: string; serverKey: string; clientKey: string } }, username: string) {
    await ui.createIdentity(page, pin);
    await ui.register(page, ks, username);
    await ui.finishFirstRun(page);
  },
  async unlock(page: Page, pin: string) {
    await page.getByRole('heading', { name: 'Unlock Sealpost' }).waitFor();
    await page.getByLabel('PIN', { exact: true }).fill(pin);
    await page.getByRole('button', { name: 'Unlock' }).click();
  },
  /** A screen from the sidebar (its buttons are named even when the narrow sidebar shows only icons). */
  async goTo(page: Page, screen: 'Chats' | 'Contacts' | 'Vault' | 'Audit' | 'Settings') {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: new RegExp(`^${screen}\\b`) }).click();
  },
  /** Opens the conversation with `peer` from the Chats list. */
  async openConversation(page: Page, peer: string) {
    await page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: new RegExp(`^${peer}\\b`) }).first().click();
    const log = page.getByRole('log', { name: peer, exact: true });
    await log.getByRole('article').first().or(page.getByRole('heading', { name: `No messages with ${peer} yet` })).waitFor();
  },
  /** Registers in first run's "Connect to a key service" step. */
  async register(page: Page, ks: { url: string; app: { appId: string; serverKey: string; clientKey: string } }, username: string) {
    await page.getByRole('heading', { name: 'Connect to a key service' }).waitFor();
    await page.getByLabel('Key service URL').fill(ks.url);
    await page.getByLabel('App id').fill(ks.app.appId);
    // The server key is the developer's path, folded away under the enrollment code.
    await page.getByText('Advanced: register with the app’s server key').click();
    await page.getByLabel('Server key').fill(ks.app.serverKey);
    await page.getByLabel('Client key').fill(ks.app.clientKey);
    await page.getByLabel('Your user name').fill(username);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
  },
  /** Settings → export the identity file with `passphrase`, saved as `file`. */
  async exportIdentity(page: Page, file: string, passphrase: string) {
    await ui.goTo(page, 'Settings');
    await page.getByLabel('Passphrase for the file').fill(passphrase);
    await page.getByLabel('Repeat the passphrase').fill(passphrase);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export identity file' }).click()]);
    await download.saveAs(file);
    await page.getByText('Saved sealpost-identity.spid.').waitFor();
  },
  /** First run of a new desktop from an identity file, with a new PIN. */
  async importIdentity(page: Page, file: string, passphrase: string, pin: string) {
    await page.getByRole('heading', { name: 'Create your identity' }).waitFor();
    await page.getByRole('button', { name: 'Import an identity file…' }).click();
    await page.getByLabel('Identity file', { exact: true }).setInputFiles(file);
    await page.getByLabel('Passphrase of the file').fill(passphrase);
    await page.getByLabel('New PIN for this desktop', { exact: true }).fill(pin);
    await page.getByLabel('Repeat the new PIN').fill(pin);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
  },
  /** alice's and bob's first run with `pin`, each registered with the key service of `t` as their name. */
  async bothRegistered(t: Pick<TwoDesktops, 'a' | 'b' | 'ks' | 'app'>, pin: string) {
    for (const [page, name] of [
      [t.a, 'alice'],
      [t.b, 'bob'],
    ] as const) {
      await ui.firstRunRegistered(page, pin, { url: t.ks.url, app: t.app }, name);
    }
  },
  /** Adds a contact and marks it verified; returns the safety number shown. */
  async addAndVerify(page: Page, username: string): Promise<string> {
    await ui.goTo(page, 'Contacts');
    await page.getByLabel('Find someone by user name').fill(username);
    await page.getByRole('button', { name: 'Add contact' }).click();
    const card = page.getByRole('group', { name: `Contact ${username}` });
    await card.waitFor();
    const safety = (await card.getByTestId(`safety-${username}`).textContent()) ?? '';
    await card.getByRole('button', { name: 'The numbers match: mark verified' }).click();
    await card.getByText('Verified', { exact: true }).waitFor();
    return safety;
  },
  /** "Sync now" in the sync bar, and waits until it is done. */
  async syncNow(page: Page) {
    const bar = page.getByRole('status', { name: 'Sync status' });
    await bar.getByRole('button', { name: 'Sync now' }).click();
    await bar.getByRole('button', { name: 'Sync now' }).waitFor();
  },
  async newNote(page: Page, title: string, text: string) {
    await page.getByRole('button', { name: 'New note' }).click();
    await page.getByLabel('Title', { exact: true }).fill(title);
    await page.getByLabel('Note', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Seal and save' }).click();
    await page.getByRole('heading', { name: title, level: 2 }).waitFor();
  },
};
