/**
 * One ipcMain handler per contract channel (the engine's, and the desktop
 * shell's own in shared/contract-desktop.ts). Each checks that the call comes
 * from our own window's top frame and validates its argument with the
 * channel's schema before the engine (or main) acts on it. Engine events go the other way,
 * to our window only, while it shows our own page.
 */
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { desktopChannels, type DesktopHandlers } from '../../shared/contract-desktop.js';
import { ENGINE_EVENT_CHANNEL } from '../../shared/contract-events.js';
import { channels, type Handlers, type SubscribeEvents } from '../../shared/contract.js';
import { dispatch } from '../engine/dispatch.js';
import { dispatchDesktop } from './desktop-dispatch.js';

function fromOurWindow(event: IpcMainInvokeEvent, win: BrowserWindow | null): boolean {
  const frame = event.senderFrame;
  return !!win && event.sender === win.webContents && !!frame && frame === win.webContents.mainFrame && frame.url.startsWith('file://');
}

const REFUSED = { code: -2, message: 'Call refused: it did not come from the Sealpost window.' } as const;

/** The engine's channels, and the desktop shell's own (shared/contract-desktop.ts: save dialog, file manager), each checked the same way. */
export function registerIpc(handlers: Handlers, desktop: DesktopHandlers, getWindow: () => BrowserWindow | null): void {
  for (const channel of channels) {
    ipcMain.handle(channel, async (event, input: unknown) => (fromOurWindow(event, getWindow()) ? dispatch(handlers, channel, input) : REFUSED));
  }
  for (const channel of desktopChannels) {
    ipcMain.handle(channel, async (event, input: unknown) => (fromOurWindow(event, getWindow()) ? dispatchDesktop(desktop, channel, input) : REFUSED));
  }
}

/** Sends every engine event to the window (webContents.send, so only its own frames get it); returns the unsubscribe. */
export function forwardEvents(subscribe: SubscribeEvents, getWindow: () => BrowserWindow | null): () => void {
  return subscribe((event) => {
    const win = getWindow();
    if (!win || win.isDestroyed() || win.webContents.isDestroyed()) return;
    if (!win.webContents.getURL().startsWith('file://')) return;
    win.webContents.send(ENGINE_EVENT_CHANNEL, event);
  });
}
