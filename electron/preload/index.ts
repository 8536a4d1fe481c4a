/**
 * Preload: exposes exactly one object, window.sealpost, with one named
 * function per contract channel and onEvent for the engine's events. No raw
 * ipcRenderer, no logic: the page's listener receives only the event object
 * (never the IpcRendererEvent, whose `sender` is ipcRenderer itself), and
 * buildApi drops anything that is not an EngineEvent.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { ENGINE_EVENT_CHANNEL } from '../../shared/contract-events.js';
import { buildApi } from '../../shared/contract.js';

contextBridge.exposeInMainWorld(
  'sealpost',
  buildApi(
    (channel, input) => ipcRenderer.invoke(channel, input),
    (listener) => {
      const onMessage = (_event: IpcRendererEvent, raw: unknown) => listener(raw);
      ipcRenderer.on(ENGINE_EVENT_CHANNEL, onMessage);
      return () => void ipcRenderer.removeListener(ENGINE_EVENT_CHANNEL, onMessage);
    },
  ),
);
