/**
 * Preload: exposes exactly one object, window.sealpost, with one named
 * function per contract channel. No raw ipcRenderer, no logic.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { buildApi } from '../../shared/contract.js';

contextBridge.exposeInMainWorld(
  'sealpost',
  buildApi((channel, input) => ipcRenderer.invoke(channel, input)),
);
