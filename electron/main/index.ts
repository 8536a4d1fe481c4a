/**
 * Electron main process: lifecycle, the window, and IPC registration. Thin on
 * purpose: everything that matters lives in electron/engine (plain Node).
 */
import { app, BrowserWindow, powerMonitor } from 'electron';
import { join } from 'node:path';
import { defaultProfileDir } from '../engine/paths.js';
import { openService } from '../engine/service/index.js';
import { registerIpc } from './ipc.js';
import { hardenWindow, hardenedWebPreferences } from './window-security.js';

const hasLock = app.requestSingleInstanceLock();
if (!hasLock) app.quit();

let mainWindow: BrowserWindow | null = null;

async function createWindow(): Promise<void> {
  const service = await openService({ profileDir: defaultProfileDir(), actor: 'ui' });
  registerIpc(service.handlers, () => mainWindow);

  // Lock on OS lock and suspend: keys leave memory when the user walks away.
  powerMonitor.on('lock-screen', () => void service.handlers['session:lock']({}));
  powerMonitor.on('suspend', () => void service.handlers['session:lock']({}));
  app.on('before-quit', () => service.close());

  mainWindow = new BrowserWindow({
    width: 1100,
    height: 760,
    show: false,
    title: 'Sealpost',
    webPreferences: hardenedWebPreferences(join(import.meta.dirname, '../preload/index.cjs')),
  });
  hardenWindow(mainWindow, app.isPackaged);
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  await mainWindow.loadFile(join(import.meta.dirname, '../renderer/index.html'));
}

app.on('second-instance', () => {
  if (mainWindow) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  }
});

app.on('window-all-closed', () => app.quit());
void app.whenReady().then(createWindow);
