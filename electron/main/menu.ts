/**
 * The application menu: the platform's standard roles (so copy/paste, undo,
 * zoom, full screen and quit have their usual shortcuts) plus Lock and Sync.
 * Reload and devtools only in development builds.
 */
import { Menu, shell, type MenuItemConstructorOptions } from 'electron';
import { isAllowedExternal } from './window-security.js';

const DOCS_URL = 'https://github.com/sealpost/sealpost#readme';

export function installMenu(actions: { lock: () => void; syncNow: () => void; packaged: boolean }): void {
  const mac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(mac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        { label: 'Lock now', accelerator: 'CmdOrCtrl+L', click: actions.lock },
        { label: 'Sync now', accelerator: 'CmdOrCtrl+R', click: actions.syncNow },
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: '&View',
      submenu: [
        ...(actions.packaged ? [] : [{ role: 'forceReload' as const }, { role: 'toggleDevTools' as const }, { type: 'separator' as const }]),
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        {
          label: 'Sealpost documentation',
          click: () => {
            if (isAllowedExternal(DOCS_URL)) void shell.openExternal(DOCS_URL);
          },
        },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
