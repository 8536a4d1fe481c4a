/**
 * One ipcMain handler per contract channel. Each checks that the call comes
 * from our own window's top frame and validates its argument with the
 * channel's schema before the engine sees it.
 */
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { channels, type Handlers } from '../../shared/contract.js';
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
