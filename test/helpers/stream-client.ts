/**
 * A push-stream client for tests (GET /v1/stream, a real `ws` WebSocket):
 * collects the events, remembers how the stream closed, and waits for states
 * with a generous deadline (never a fixed sleep).
 *
 *   const s = await openStream(ks.url, { jwt: bob.jwt });   // resolves after the hello
 *   await s.next((e) => e.type === 'message');
 *   expect((await s.closed).code).toBe(4403);
 */
import WebSocket from 'ws';
import { StreamEvent } from '../../shared/stream-wire.js';

/** Long enough for a busy 2-core machine; a test that needs it is failing anyway. */
export const WAIT_MS = 60_000;

export interface StreamClient {
  ws: WebSocket;
  events: StreamEvent[];
  /** Resolves once the stream closed: the close code and reason the client saw. */
  closed: Promise<{ code: number; reason: string }>;
  isClosed(): boolean;
  /** The first event (received so far or later) matching `match` that `next` has not returned before. */
  next(match: (e: StreamEvent) => boolean, what?: string): Promise<StreamEvent>;
  close(): Promise<void>;
}

export interface StreamAuth {
  jwt?: string;
  clientKey?: string;
  headers?: Record<string, string>;
}

function headersFor(auth: StreamAuth): Record<string, string> {
  return {
    ...(auth.jwt ? { authorization: `Bearer ${auth.jwt}` } : {}),
    ...(auth.clientKey ? { 'x-client-key': auth.clientKey } : {}),
    ...(auth.headers ?? {}),
  };
}

const wsUrl = (base: string) => `${base.replace(/^http/, 'ws')}/v1/stream`;

/** Polls `condition` until it holds; throws naming `what` after the deadline. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, deadlineMs = WAIT_MS): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Opens a stream and waits for its hello. @throws when the upgrade is refused (see refusedUpgrade) */
export async function openStream(baseUrl: string, auth: StreamAuth, options: { autoPong?: boolean } = {}): Promise<StreamClient> {
  const ws = new WebSocket(wsUrl(baseUrl), { headers: headersFor(auth), autoPong: options.autoPong ?? true });
  const events: StreamEvent[] = [];
  const taken = new Set<number>();
  let done = false;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      done = true;
      resolve({ code, reason: reason.toString() });
    });
  });
  ws.on('error', () => undefined);
  ws.on('message', (data) => events.push(StreamEvent.parse(JSON.parse(String(data)))));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  const client: StreamClient = {
    ws,
    events,
    closed,
    isClosed: () => done,
    async next(match, what = 'a stream event') {
      let found = -1;
      await waitUntil(() => {
        found = events.findIndex((e, i) => !taken.has(i) && match(e));
        return found >= 0;
      }, what);
      taken.add(found);
      return events[found]!;
    },
    async close() {
      if (!done) ws.close();
      await closed;
    },
  };
  await client.next((e) => e.type === 'hello', 'the hello');
  return client;
}

/** Tries an upgrade that should be refused: the HTTP status and JSON error body. */
export function refusedUpgrade(baseUrl: string, auth: StreamAuth): Promise<{ status: number; body: { code?: string; message?: string } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(baseUrl), { headers: headersFor(auth) });
    ws.on('error', () => undefined);
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body = {};
        try {
          body = JSON.parse(text) as object;
        } catch {
          body = {};
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
  });
}

/** One upgrade attempt: 101 and the open socket, or the refusal's status. */
export function attemptUpgrade(baseUrl: string, auth: StreamAuth): Promise<{ status: number; ws: WebSocket | null }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl(baseUrl), { headers: headersFor(auth) });
    ws.on('error', () => resolve({ status: 0, ws: null }));
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, ws: null });
    });
  });
}
