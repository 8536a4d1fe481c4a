/**
 * One ipcMain handler per contract channel. Each checks that the call comes
 * from our own window's top frame and validates its argument with the
 * channel's schema before the engine sees it. Engine events go the other way,
 * to our window only, while it shows our own page.
 */
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { ENGINE_EVENT_CHANNEL } from '../../shared/contract-events.js';
import { channels, type Handlers, type SubscribeEvents } from '../../shared/contract.js';
import { dispatch } from '../engine/dispatch.js';

function fromOurWindow(event: IpcMainInvokeEvent, win: BrowserWindow | null): boolean {
  const frame = event.senderFrame;
  return !!win && event.sender === win.webContents && !!frame && frame === win.webContents.mainFrame && frame.url.startsWith('file://');
}

export function registerIpc(handlers: Handlers, getWindow: () => BrowserWindow | null): void {
  for (const channel of channels) {
    ipcMain.handle(channel, async (event, input: unknown) => {
      if (!fromOurWindow(event, getWindow())) {
        return { code: -2, message: 'Call refused: it did not come from the Sealpost window.' };
      }
      return dispatch(handlers, channel, input);
    });
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
