/**
 * Electron main process: lifecycle, the one window, menu, tray, notifications
 * and IPC registration. Thin on purpose: everything that matters lives in
 * electron/engine (plain Node), reached only through the contract.
 *
 * The window's webPreferences are written out here, literally, rather than
 * built by a helper: that is where a reviewer (and electronegativity, which
 * reads the source) looks for them. window-security.ts adds the runtime
 * guards (navigation, window.open, permissions, devtools).
 *
 * sealpost://enroll links (docs/deploy.md) open the app: macOS says so with
 * open-url, Windows and Linux start it with the link as an argument (or hand it
 * to the running instance through second-instance). enroll-link.ts validates it;
 * the page gets it as an 'enroll-link' event so Connect can prefill.
 */
import { app, BrowserWindow, powerMonitor } from 'electron';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ENGINE_EVENT_CHANNEL } from '../../shared/contract-events.js';
import { TEST_KDF_PARAMS } from '../engine/crypto/pin-kdf.js';
import { dispatch } from '../engine/dispatch.js';
import { defaultProfileDir } from '../engine/paths.js';
import { openService, type Service } from '../engine/service/index.js';
import type { LocalKeyService } from '../engine/service/local-key-service.js';
import { LOCAL_KEY_SERVICE_ENV, localKeyServiceFromEnv } from '../engine/service/local-key-service-env.js';
import { desktopHandlers } from './desktop.js';
import { ENROLL_SCHEME, findLinkArgument, PendingEnrollLink } from './enroll-link.js';
import { forwardEvents, registerIpc } from './ipc.js';
import { installMenu } from './menu.js';
import { notifyNewMessages } from './notifications.js';
import { notifyApprovals } from './approval-notifications.js';
import { createTray } from './tray.js';
import { guardAllContents, hardenWindow } from './window-security.js';

// One instance per profile: a second start focuses the first (two engines on one
// vault would race on the PIN counter and the audit chain).
if (!app.requestSingleInstanceLock()) app.quit();

let mainWindow: BrowserWindow | null = null;
let service: Service | null = null;
const enrollLinks = new PendingEnrollLink();

// Started with `electron .` (development), the OS must start Electron with the app's path.
if (process.defaultApp && process.argv[1]) app.setAsDefaultProtocolClient(ENROLL_SCHEME, process.execPath, [resolve(process.argv[1])]);
else app.setAsDefaultProtocolClient(ENROLL_SCHEME);

const iconPath = () => (app.isPackaged ? join(process.resourcesPath, 'icon.png') : join(app.getAppPath(), 'resources', 'icon.png'));

function showWindow(): void {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

/** Hands a held enrollment link to our page once it shows (the link holds a secret: only to our own page). */
function deliverEnrollLink(): void {
  const win = mainWindow;
  if (!win || win.isDestroyed() || win.webContents.isLoading() || !win.webContents.getURL().startsWith('file://')) return;
  const event = enrollLinks.take();
  if (event) win.webContents.send(ENGINE_EVENT_CHANNEL, event);
}

function openEnrollLink(raw: string): void {
  const result = enrollLinks.offer(raw);
  // The reason only: never the link, which carries the enrollment code.
  if (!result.ok) console.warn(`Sealpost: an enrollment link was refused: ${result.error}`);
  else deliverEnrollLink();
  showWindow();
}

async function createWindow(): Promise<void> {
  // Same environment as the CLI: SEALPOST_PROFILE, SEALPOST_KEYCHAIN, and the cheap
  // test KDF only when a test suite asks for it explicitly.
  const keychain = z.enum(['auto', 'file', 'secret-service']).catch('auto').parse(process.env.SEALPOST_KEYCHAIN ?? 'auto');
  // Started by `npm start`: the key service it runs, offered on first run by a user name alone.
  // Read once and removed, so nothing this process starts inherits the launcher's token.
  let localKeyService: LocalKeyService | undefined;
  try {
    localKeyService = localKeyServiceFromEnv(process.env);
  } catch (e) {
    console.warn(`Sealpost: ${e instanceof Error ? e.message : String(e)}; first run asks for the key service's address instead.`);
  }
  delete process.env[LOCAL_KEY_SERVICE_ENV];
  service = await openService({
    profileDir: defaultProfileDir(),
    actor: 'ui',
    keychain,
    ...(localKeyService && { localKeyService }),
    ...(process.env.SEALPOST_INSECURE_TEST_KDF === '1' && { kdfParams: TEST_KDF_PARAMS }),
  });
  const handlers = service.handlers;
  // Sync on a timer (the engine backs off while offline and syncs only while unlocked).
  service.messaging.sync.start();
  registerIpc(handlers, desktopHandlers(handlers, () => mainWindow), () => mainWindow);
  const lock = () => void handlers['session:lock']({});
  // Unknown channels (sync:now before the sync engine exists) answer InvalidParameter; never throw.
  const syncNow = () => void dispatch(handlers, 'sync:now', {});

  // Lock on OS lock and suspend: keys leave memory when the user walks away.
  powerMonitor.on('lock-screen', lock);
  powerMonitor.on('suspend', lock);
  // After sleep the network is usually back: try at once instead of waiting out the backoff.
  powerMonitor.on('resume', () => service?.messaging.sync.setNetworkOnline(true));

  mainWindow = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 420,
    minHeight: 400,
    show: false,
    title: 'Sealpost',
    icon: iconPath(),
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      disableBlinkFeatures: 'Auxclick',
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: !app.isPackaged,
    },
  });
  hardenWindow(mainWindow, app.isPackaged);
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  mainWindow.on('closed', () => (mainWindow = null));

  installMenu({ lock, syncNow, packaged: app.isPackaged });
  createTray(iconPath(), { show: showWindow, lock, syncNow, quit: () => app.quit() });
  // Engine events: to the page (screens update live) and to new-message notifications.
  const onEvent = service.onEvent;
  forwardEvents(onEvent, () => mainWindow);
  notifyNewMessages({
    subscribe: onEvent,
    isFocused: () => mainWindow?.isFocused() ?? false,
    onClick: showWindow,
    preview: () => service?.messaging.notificationPreview() ?? null,
    unread: async () => {
      const r = await service?.handlers['sync:status']({});
      return r?.code === 0 ? r.value.unread : null;
    },
  });
  notifyApprovals({
    subscribe: onEvent,
    isFocused: () => mainWindow?.isFocused() ?? false,
    onClick: showWindow,
    pending: async () => {
      const r = await service!.handlers['approvals:list']({});
      return r.code === 0 ? r.value.requests : null;
    },
  });

  await mainWindow.loadFile(join(import.meta.dirname, '../renderer/index.html'));
  deliverEnrollLink();
}

guardAllContents(app);
// A link that started the app (Windows, Linux) waits for the window.
const startLink = findLinkArgument(process.argv);
if (startLink) openEnrollLink(startLink);
// macOS: before 'ready' too, for the link that starts the app.
app.on('open-url', (event, url) => {
  event.preventDefault();
  openEnrollLink(url);
});
app.on('second-instance', (_event, argv) => {
  const link = findLinkArgument(argv);
  if (link) openEnrollLink(link);
  else showWindow();
});
app.on('window-all-closed', () => app.quit());
app.on('before-quit', () => service?.close());
void app.whenReady().then(createWindow);
