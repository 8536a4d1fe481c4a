/**
 * Preload: exposes exactly one object, window.sealpost, with one named
 * function per contract channel, onEvent for the engine's events, and
 * `desktop` with the shell's own calls (shared/contract-desktop.ts: the save
 * dialog and "Open folder"; browser mode has no `desktop`). No raw
 * ipcRenderer, no logic: the page's listener receives only the event object
 * (never the IpcRendererEvent, whose `sender` is ipcRenderer itself), and
 * buildApi drops anything that is not an EngineEvent.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { ENGINE_EVENT_CHANNEL } from '../../shared/contract-events.js';
import { buildApi } from '../../shared/contract.js';
import { buildDesktopApi } from '../../shared/contract-desktop.js';

const invoke = (channel: string, input: unknown) => ipcRenderer.invoke(channel, input);

contextBridge.exposeInMainWorld('sealpost', {
  ...buildApi(invoke, (listener) => {
    const onMessage = (_event: IpcRendererEvent, raw: unknown) => listener(raw);
    ipcRenderer.on(ENGINE_EVENT_CHANNEL, onMessage);
    return () => void ipcRenderer.removeListener(ENGINE_EVENT_CHANNEL, onMessage);
  }),
  desktop: buildDesktopApi(invoke),
});
