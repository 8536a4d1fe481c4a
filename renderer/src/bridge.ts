/**
 * Where window.sealpost comes from. In Electron the preload exposes it. In
 * browser mode (webhost) the same contract runs over a loopback WebSocket;
 * the one-time token comes from the page URL's fragment.
 */
import { buildApi, type Channel, type SealpostApi } from '../../shared/contract';

declare global {
  interface Window {
    sealpost?: SealpostApi;
  }
}

function webSocketApi(): SealpostApi {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';
  const url = `ws://${window.location.host}/bridge?token=${encodeURIComponent(token)}`;
  let socket: WebSocket | null = null;
  let nextId = 1;
  const pending = new Map<number, (value: unknown) => void>();

  function connect(): Promise<WebSocket> {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => {
        socket = ws;
        resolve(ws);
      };
      ws.onerror = () => reject(new Error('The Sealpost engine is not reachable.'));
      ws.onclose = () => {
        socket = null;
        for (const settle of pending.values()) settle({ code: -1, message: 'Connection to the engine closed.' });
        pending.clear();
      };
      ws.onmessage = (event) => {
        const reply = JSON.parse(String(event.data)) as { id: number; result: unknown };
        pending.get(reply.id)?.(reply.result);
        pending.delete(reply.id);
      };
    });
  }

  return buildApi(async (channel: Channel, input: unknown) => {
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
  });
}

export const sealpost: SealpostApi = window.sealpost ?? webSocketApi();
