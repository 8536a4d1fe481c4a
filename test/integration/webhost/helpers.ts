/**
 * Helpers for the webhost tests: an event source the test drives (the
 * webhost's `onEvent`), and a bridge socket that queues what it receives.
 */
import { WebSocket } from 'ws';
import type { EngineEventListener } from '../../../shared/contract-events.js';
import type { Webhost } from '../../../electron/webhost/server.js';

export interface EventSource {
  subscribe(listener: EngineEventListener): () => void;
  /** Sends anything, an invalid event too, to the current listeners. */
  emit(raw: unknown): void;
  listeners(): number;
}

export function eventSource(): EventSource {
  const listeners = new Set<(raw: unknown) => void>();
  return {
    subscribe(listener) {
      const raw = listener as (raw: unknown) => void;
      listeners.add(raw);
      return () => void listeners.delete(raw);
    },
    emit(raw) {
      for (const listener of listeners) listener(raw);
    },
    listeners: () => listeners.size,
  };
}

export interface BridgeSocket {
  /** The next frame received (parsed), waiting up to a generous deadline. */
  next(): Promise<unknown>;
  sendRaw(text: string): void;
  close(): void;
}

const DEADLINE_MS = 30_000;

/** Opens an authenticated bridge socket (token and the webhost's own Origin). */
export function openBridge(host: Webhost): Promise<BridgeSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${new URL(host.origin).port}/bridge?token=${host.token}`, { headers: { Origin: host.origin } });
  const frames: unknown[] = [];
  const waiting: ((frame: unknown) => void)[] = [];
  ws.on('message', (data) => {
    const frame: unknown = JSON.parse(String(data));
    const waiter = waiting.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  const socket: BridgeSocket = {
    next: () =>
      frames.length > 0
        ? Promise.resolve(frames.shift())
        : new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no frame from the webhost')), DEADLINE_MS);
            waiting.push((frame) => {
              clearTimeout(timer);
              resolve(frame);
            });
          }),
    sendRaw: (text) => ws.send(text),
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(socket));
    ws.once('error', reject);
  });
}
