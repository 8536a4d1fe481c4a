/**
 * The desktop shell's calls (shared/contract-desktop.ts) bound to Electron:
 * the system's save dialog (on our window, the attachment's name suggested in
 * the Downloads folder, asking before it replaces a file) and the file manager
 * for "Open folder". The logic and its checks are in save-attachment.ts.
 */
import { app, dialog, shell, type BrowserWindow, type SaveDialogOptions } from 'electron';
import { join } from 'node:path';
import type { Handlers } from '../../shared/contract.js';
import type { DesktopHandlers } from '../../shared/contract-desktop.js';
import { desktopCalls } from './save-attachment.js';

function suggestedPath(name: string): string {
  try {
    return join(app.getPath('downloads'), name);
  } catch {
    // No Downloads folder known (some Linux desktops): the dialog opens where it likes.
    return name;
  }
}

async function chooseSavePath(getWindow: () => BrowserWindow | null, name: string): Promise<string | null> {
  const options: SaveDialogOptions = {
    title: 'Save attachment',
    defaultPath: suggestedPath(name),
    properties: ['createDirectory', 'showOverwriteConfirmation'],
  };
  const win = getWindow();
  const result = win && !win.isDestroyed() ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
  return result.canceled || !result.filePath ? null : result.filePath;
}

export function desktopHandlers(engine: Handlers, getWindow: () => BrowserWindow | null): DesktopHandlers {
  return desktopCalls({
    read: engine['attachments:read'],
    choosePath: (name) => chooseSavePath(getWindow, name),
    reveal: (file) => shell.showItemInFolder(file),
  });
}
