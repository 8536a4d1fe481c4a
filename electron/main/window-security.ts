/**
 * Window hardening (design.md §6) at run time: no navigation away from the
 * bundled page, no new windows, no <webview>, no permission prompts (camera,
 * notifications from the page, ...), and only allow-listed http(s) links go to
 * the system browser. Applied to every web contents the app ever creates,
 * not only to the main window. The webPreferences themselves (isolation,
 * sandbox, no Node) are in index.ts.
 */
import { shell, type App, type BrowserWindow, type WebContents } from 'electron';

/** Hosts the app may open in the system browser. */
const EXTERNAL_ALLOWLIST = new Set(['github.com', 'sealpost.app']);

/** True for an http(s) URL whose host is on the allowlist. */
export function isAllowedExternal(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && EXTERNAL_ALLOWLIST.has(parsed.hostname);
  } catch {
    return false;
  }
}

function guard(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternal(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

/** Guards every web contents created from now on (windows, and anything a bug might open). */
export function guardAllContents(app: App): void {
  app.on('web-contents-created', (_event, contents) => guard(contents));
}

export function hardenWindow(win: BrowserWindow, packaged: boolean): void {
  const contents = win.webContents;
  guard(contents);
  contents.session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  contents.session.setPermissionCheckHandler(() => false);
  // devTools: false in webPreferences already; this also closes them if something opens them.
  if (packaged) contents.on('devtools-opened', () => contents.closeDevTools());
}
