/**
 * The push stream's client against a plain WebSocket server on loopback that
 * plays the key service's side of the wire (shared/stream-wire.ts): the cases
 * the real service produces only rarely or slowly (a refused upgrade, a server
 * that stops pinging, revocation, garbage frames). The real key service is
 * exercised in test/integration/sync/live-delivery.test.ts.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { StreamClient, type StreamPhase, streamUrl } from '../../../electron/engine/sync/stream.js';
import type { StreamEvent } from '../../../shared/stream-wire.js';

interface Fake {
  url: string;
  http: Server;
  wss: WebSocketServer;
  upgrades: { authorization: string | undefined }[];
  sockets: WebSocket[];
  /** Answers the next upgrades with this HTTP status instead of accepting them. */
  refuse: number | null;
  close(): Promise<void>;
}

async function fakeService(onOpen: (ws: WebSocket) => void): Promise<Fake> {
  const http = createServer();
  const wss = new WebSocketServer({ noServer: true });
  const fake: Fake = {
    url: '',
    http,
    wss,
    upgrades: [],
    sockets: [],
    refuse: null,
    close: async () => {
      for (const s of fake.sockets) s.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
  http.on('upgrade', (req, socket, head) => {
    fake.upgrades.push({ authorization: req.headers.authorization });
    if (fake.refuse !== null) {
      socket.end(`HTTP/1.1 ${fake.refuse} Refused\r\nContent-Length: 0\r\nRetry-After: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      fake.sockets.push(ws);
      onOpen(ws);
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  fake.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return fake;
}

async function until(check: () => boolean, what: string, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function client(fake: Fake, token = 'jwt-1') {
  const events: StreamEvent[] = [];
  const phases: { phase: StreamPhase; reason: string | null }[] = [];
  const renews: boolean[] = [];
  const c = new StreamClient({
    server: fake.url,
    auth: async (renew) => {
      renews.push(renew);
      return { jwt: renew ? `${token}-renewed` : token };
    },
    onEvent: (e) => events.push(e),
    onPhase: (phase, reason) => phases.push({ phase, reason }),
    backoff: { baseMs: 20, capMs: 100 },
  });
  return { c, events, phases, renews };
}

const hello = (heartbeatMs = 30_000) => JSON.stringify({ type: 'hello', deviceId: 'd1', heartbeatMs });

describe('push stream client', () => {
  let fake: Fake | null = null;
  let stop: (() => void) | null = null;
  afterEach(async () => {
    stop?.();
    await fake?.close();
    fake = null;
    stop = null;
  });

  it('maps the key service URL to its stream', () => {
    expect(streamUrl('http://127.0.0.1:8787')).toBe('ws://127.0.0.1:8787/v1/stream');
    expect(streamUrl('https://keys.example.org/base/')).toBe('wss://keys.example.org/v1/stream');
  });

  it('goes live on hello, sends the bearer credential, hands valid events on and skips the rest', async () => {
    fake = await fakeService((ws) => {
      ws.send(hello());
      ws.send('not json');
      ws.send(JSON.stringify({ type: 'message', inbox: 'nothex', messageId: 1 }));
      ws.send(JSON.stringify({ type: 'future-event' }));
      ws.send(JSON.stringify({ type: 'message', inbox: '0123456789abcdef', messageId: 7 }));
    });
    const { c, events, phases } = client(fake);
    stop = () => c.stop();
    c.start();
    await until(() => events.length >= 2, 'two events');
    expect(events.map((e) => e.type)).toEqual(['hello', 'message']);
    expect(phases.map((p) => p.phase)).toEqual(['connecting', 'live']);
    expect(fake.upgrades[0]!.authorization).toBe('Bearer jwt-1');
    c.stop();
    expect(c.phase).toBe('off');
  });

  it('after a refused upgrade (401) waits, then retries with renewed credentials', async () => {
    fake = await fakeService((ws) => ws.send(hello()));
    fake.refuse = 401;
    const { c, phases, renews } = client(fake);
    stop = () => c.stop();
    c.start();
    await until(() => phases.some((p) => p.phase === 'waiting'), 'waiting');
    expect(phases.find((p) => p.phase === 'waiting')!.reason).toMatch(/401/);
    fake.refuse = null;
    await until(() => c.phase === 'live', 'live again');
    expect(renews[0]).toBe(false);
    expect(renews.at(-1)).toBe(true);
    expect(fake.upgrades.at(-1)!.authorization).toBe('Bearer jwt-1-renewed');
  });

  it('a refused upgrade with 403 (revoked) stops reconnecting', async () => {
    fake = await fakeService((ws) => ws.send(hello()));
    fake.refuse = 403;
    const { c } = client(fake);
    stop = () => c.stop();
    c.start();
    await until(() => c.phase === 'revoked', 'revoked');
    const tries = fake.upgrades.length;
    await new Promise((r) => setTimeout(r, 300)); // several backoff periods: no new attempt may come
    expect(fake.upgrades.length).toBe(tries);
  });

  it('close 4403 stops reconnecting; close 1001 (restart) reconnects', async () => {
    let n = 0;
    fake = await fakeService((ws) => {
      ws.send(hello());
      n++;
      if (n === 1) setTimeout(() => ws.close(1001, 'restarting'), 20);
      if (n === 2) setTimeout(() => ws.close(4403, 'device revoked'), 20);
    });
    const { c, phases } = client(fake);
    stop = () => c.stop();
    c.start();
    await until(() => c.phase === 'revoked', 'revoked');
    expect(n).toBe(2);
    expect(phases.filter((p) => p.phase === 'live')).toHaveLength(2);
    expect(phases.at(-1)!.reason).toMatch(/revoked/);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.upgrades.length).toBe(2);
  });

  it('a server that stops pinging is dropped and the stream reconnects', async () => {
    let n = 0;
    fake = await fakeService((ws) => {
      n++;
      ws.send(hello(50)); // announces 50 ms pings and never sends one
    });
    const { c, phases } = client(fake);
    stop = () => c.stop();
    c.start();
    await until(() => n >= 2, 'a second connection');
    expect(phases.some((p) => p.phase === 'waiting' && /no ping/.test(p.reason ?? ''))).toBe(true);
  });

  it('a server that pings in time keeps the stream', async () => {
    fake = await fakeService((ws) => {
      ws.send(hello(50));
      const t = setInterval(() => ws.readyState === ws.OPEN && ws.ping(), 20);
      ws.on('close', () => clearInterval(t));
    });
    const { c } = client(fake);
    stop = () => c.stop();
    c.start();
    await until(() => c.phase === 'live', 'live');
    await new Promise((r) => setTimeout(r, 1500)); // past the 1.1 s a silent server is given
    expect(c.phase).toBe('live');
    expect(fake.upgrades).toHaveLength(1);
  });

  it('a client key cannot open a stream: unavailable, no attempt', async () => {
    fake = await fakeService(() => undefined);
    const phases: StreamPhase[] = [];
    const c = new StreamClient({ server: fake.url, auth: async () => ({ clientKey: 'ck' }), onEvent: () => undefined, onPhase: (p) => phases.push(p) });
    c.start();
    await until(() => c.phase === 'unavailable', 'unavailable');
    expect(fake.upgrades).toHaveLength(0);
    c.stop();
  });
});
