/**
 * Where window.sealpost comes from. In Electron the preload exposes it. In
 * browser mode (webhost) the same contract runs over a loopback WebSocket;
 * the one-time token comes from the page URL's fragment.
 *
 * Browser mode's socket carries both the replies (`{ id, result }`) and the
 * engine's events (`{ event }`, pushed to every open socket). While anything
 * listens for events the socket is kept open: after it closes (webhost
 * restarted, laptop asleep) it reconnects with backoff, and the listeners get
 * one refresh event of each kind, since events sent meanwhile were missed.
 */
import type { EngineEvent } from '../../shared/contract-events';
import { buildApi, type Channel, type SealpostApi } from '../../shared/contract';

declare global {
  interface Window {
    sealpost?: SealpostApi;
  }
}

/** True when the page runs in a browser against the webhost (no Electron preload). */
export const browserMode = !window.sealpost;

const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 10_000;
/** What a listener may have missed while the socket was down: every kind that asks screens to reload. */
const AFTER_RECONNECT: EngineEvent[] = [{ type: 'sync' }, { type: 'messages', received: 0, changed: 0 }, { type: 'items' }, { type: 'contacts' }, { type: 'link' }];

type Frame = { id?: unknown; result?: unknown; event?: unknown };

function parseFrame(data: unknown): Frame | null {
  try {
    const frame: unknown = JSON.parse(String(data));
    return typeof frame === 'object' && frame !== null && !Array.isArray(frame) ? (frame as Frame) : null;
  } catch {
    return null;
  }
}

function webSocketApi(): SealpostApi {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';
  const url = `ws://${window.location.host}/bridge?token=${encodeURIComponent(token)}`;
  let socket: WebSocket | null = null;
  let opening: Promise<WebSocket> | null = null;
  let nextId = 1;
  let everOpened = false;
  let retryMs = RECONNECT_FIRST_MS;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  const pending = new Map<number, (value: unknown) => void>();
  const listeners = new Set<(raw: unknown) => void>();

  const emit = (raw: unknown) => {
    for (const listener of [...listeners]) listener(raw);
  };

  function scheduleReconnect(): void {
    if (listeners.size === 0 || retryTimer) return;
    // Jitter, so many tabs (or a restarted webhost) do not all come back at the same instant.
    const delay = retryMs / 2 + Math.random() * (retryMs / 2);
    retryMs = Math.min(retryMs * 2, RECONNECT_MAX_MS);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect().catch(scheduleReconnect);
    }, delay);
  }

  function connect(): Promise<WebSocket> {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    if (opening) return opening;
    opening = new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => {
        socket = ws;
        opening = null;
        retryMs = RECONNECT_FIRST_MS;
        if (everOpened) for (const event of AFTER_RECONNECT) emit(event);
        everOpened = true;
        resolve(ws);
      };
      ws.onerror = () => reject(new Error('The Sealpost engine is not reachable.'));
      ws.onclose = () => {
        if (socket === ws) socket = null;
        opening = null;
        for (const settle of pending.values()) settle({ code: -1, message: 'Connection to the engine closed.' });
        pending.clear();
        scheduleReconnect();
      };
      ws.onmessage = (message) => {
        const frame = parseFrame(message.data);
        if (!frame) return;
        if ('event' in frame) return emit(frame.event);
        if (typeof frame.id !== 'number') return;
        pending.get(frame.id)?.(frame.result);
        pending.delete(frame.id);
      };
    });
    return opening;
  }

  return buildApi(
    async (channel: Channel, input: unknown) => {
      try {
        const ws = await connect();
        const id = nextId++;
        return await new Promise((resolve) => {
          pending.set(id, resolve);
          ws.send(JSON.stringify({ id, channel, input }));
        });
      } catch (error) {
        return { code: -1, message: error instanceof Error ? error.message : 'Engine unreachable.' };
      }
    },
    (listener) => {
      listeners.add(listener);
      connect().catch(scheduleReconnect);
      return () => void listeners.delete(listener);
    },
  );
}

export const sealpost: SealpostApi = window.sealpost ?? webSocketApi();
