/**
 * Window hardening (design.md §6): every window is isolated and sandboxed,
 * cannot navigate or open windows, and sends only allow-listed http(s) links
 * to the system browser.
 */
import { shell, type BrowserWindow, type WebPreferences } from 'electron';

/** Hosts the app may open in the system browser. */
const EXTERNAL_ALLOWLIST = new Set(['github.com', 'sealpost.app']);

export function hardenedWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    spellcheck: false,
  };
}

/** True for an http(s) URL whose host is on the allowlist. */
export function isAllowedExternal(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && EXTERNAL_ALLOWLIST.has(parsed.hostname);
  } catch {
    return false;
  }
}

export function hardenWindow(win: BrowserWindow, packaged: boolean): void {
  const contents = win.webContents;
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternal(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  if (packaged) contents.on('devtools-opened', () => contents.closeDevTools());
}
