/** Tray icon: show the window, lock, sync now, quit — reachable while the window is hidden. */
import { Menu, nativeImage, Tray } from 'electron';

let tray: Tray | null = null;

export function createTray(icon: string, actions: { show: () => void; lock: () => void; syncNow: () => void; quit: () => void }): void {
  const image = nativeImage.createFromPath(icon);
  // Some Linux desktops have no tray; the app works the same without it.
  if (image.isEmpty()) return;
  tray = new Tray(image.resize({ width: 22, height: 22 }));
  tray.setToolTip('Sealpost');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Show Sealpost', click: actions.show },
      { label: 'Lock now', click: actions.lock },
      { label: 'Sync now', click: actions.syncNow },
      { type: 'separator' },
      { label: 'Quit', click: actions.quit },
    ]),
  );
  tray.on('click', actions.show);
}
