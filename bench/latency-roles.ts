/**
 * The child processes of bench:latency (bench/latency.ts), each driven over
 * the Node IPC channel:
 *
 *   node dist/bench/latency-roles.js server <port> <sqlite file | postgres url> [create-app]
 *   node dist/bench/latency-roles.js client <profileDir> <stream: on|off> <intervalMs>
 *   node dist/bench/latency-roles.js idle <serverUrl> <appId> <serverKey> <count>
 *
 * server: the key service (startServer) with rate and stream limits raised so
 * the idle streams fit; answers `rss` (after a GC) and `stop`.
 * client: one profile of the real engine, unlocked, its scheduler started (the
 * push stream on or off); `send` queues a message and answers when send
 * returned (with when it was called); every message it opens and stores is reported (`got`) when the
 * engine's `messages` event says so: what the UI would see.
 * idle: registers `count` devices and holds one open stream each.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import type { Result } from '../shared/codes.js';
import type { Channel, Input, Output } from '../shared/contract.js';
import { dispatch } from '../electron/engine/dispatch.js';
import { openService } from '../electron/engine/service/index.js';
import { startServer } from '../server/index.js';
import { apiRequest, makeDevice, makeIdentity } from '../test/helpers/key-service.js';

export type ToChild = { cmd: 'rss' } | { cmd: 'stop' } | { cmd: 'send'; to: string; text: string } | { cmd: 'texts' } | { cmd: 'stream' };
export type FromChild =
  | { type: 'ready'; app?: { appId: string; serverKey: string }; open?: number }
  | { type: 'rss'; rss: number; streams: number }
  | { type: 'sent'; calledAt: number; at: number }
  | { type: 'got'; text: string; at: number; pulledAt: number | null }
  | { type: 'texts'; texts: string[] }
  | { type: 'stream'; state: string }
  | { type: 'error'; message: string };

/** Wall-clock ms with sub-ms precision, comparable between processes on one machine. */
export const now = (): number => performance.timeOrigin + performance.now();

const reply = (m: FromChild): void => {
  process.send?.(m);
};

function onCommand(handler: (m: ToChild) => Promise<void> | void): void {
  process.on('message', (m: ToChild) => {
    Promise.resolve(handler(m)).catch((e: unknown) => reply({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
  });
}

async function server(port: number, store: string, createApp: boolean): Promise<void> {
  const running = await startServer({
    host: '127.0.0.1',
    port,
    ...(store.startsWith('postgres') ? { databaseUrl: store } : { db: store }),
    rsaBits: 2048,
    rateLimit: { perIp: 1_000_000_000, perDevice: 1_000_000_000, secretFailures: 1_000_000 },
    stream: { perIp: 1_000_000, perDevice: 1_000_000 },
  });
  const app = createApp ? await running.admin.createApp({ name: 'bench-latency' }) : undefined;
  onCommand(async (m) => {
    if (m.cmd === 'rss') {
      const gc = (globalThis as { gc?: () => void }).gc;
      for (let i = 0; i < 3; i++) gc?.();
      reply({ type: 'rss', rss: process.memoryUsage().rss, streams: running.streams.size });
    } else if (m.cmd === 'stop') {
      await running.close();
      process.exit(0);
    }
  });
  reply({ type: 'ready', ...(app && { app: { appId: app.appId, serverKey: app.serverKey } }) });
}

async function client(dir: string, stream: boolean, intervalMs: number): Promise<void> {
  const service = await openService({ profileDir: dir, keychain: 'file', actor: 'bench' });
  const ok = async <C extends Channel>(channel: C, input: Input<C>): Promise<Output<C>> => {
    const r = (await dispatch(service.handlers, channel, input)) as Result<Output<C>>;
    if (r.code !== 0) throw new Error(`${channel}: ${r.code} ${r.message}`);
    return r.value;
  };
  await ok('session:authenticate', { pin: '0' });
  service.overrideAutoLock(0);
  const seen = new Set<number>();
  let checking: Promise<void> = Promise.resolve();
  // When the last page was stored: splits the latency into delivery (send -> pulled) and opening.
  let pulledAt: number | null = null;
  service.messaging.sync.onProgress((p) => {
    if (p.phase === 'pull') pulledAt = now();
  });
  service.onEvent((e) => {
    if (e.type !== 'messages' || e.received === 0) return;
    const at = now();
    const pulled = pulledAt;
    checking = checking.then(async () => {
      for (const m of await ok('messages:list', { limit: 100 })) {
        if (m.direction !== 'in' || seen.has(m.id) || m.text === null) continue;
        seen.add(m.id);
        reply({ type: 'got', text: m.text, at, pulledAt: pulled });
      }
    });
  });
  service.messaging.sync.setStreamEnabled(stream);
  service.messaging.sync.start(intervalMs);
  onCommand(async (m) => {
    if (m.cmd === 'send') {
      const calledAt = now();
      await ok('messages:send', { to: [m.to], text: m.text });
      reply({ type: 'sent', calledAt, at: now() });
    } else if (m.cmd === 'texts') {
      reply({ type: 'texts', texts: (await ok('messages:list', { limit: 1000 })).filter((x) => x.direction === 'in').map((x) => x.text ?? '') });
    } else if (m.cmd === 'stream') {
      reply({ type: 'stream', state: (await ok('sync:status', {})).stream });
    } else if (m.cmd === 'stop') {
      service.close();
      process.exit(0);
    }
  });
  reply({ type: 'ready' });
}

async function idle(url: string, appId: string, serverKey: string, count: number): Promise<void> {
  const identity = makeIdentity();
  const username = `bench-idle-${randomBytes(4).toString('hex')}`;
  const sockets: WebSocket[] = [];
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < count) {
      next++;
      const device = makeDevice(identity);
      const reg = await apiRequest(url, 'POST', '/v1/user/register', { body: { appid: appId, serverkey: serverKey, username, devicePackage: device.pkg } });
      if (reg.status !== 200) throw new Error(`register: ${reg.status} ${reg.text}`);
      const tok = await apiRequest<{ jwt: string }>(url, 'POST', '/v1/gen-jwt', { serverKey, body: { instance_id: device.deviceId } });
      if (tok.status !== 200) throw new Error(`gen-jwt: ${tok.status} ${tok.text}`);
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, { headers: { authorization: `Bearer ${tok.json.jwt}` }, perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        ws.once('message', () => resolve()); // hello
        ws.once('error', reject);
        ws.once('unexpected-response', (_q, res) => reject(new Error(`stream refused: ${res.statusCode}`)));
      });
      ws.on('error', () => undefined);
      sockets.push(ws);
    }
  };
  await Promise.all(Array.from({ length: 16 }, one));
  onCommand((m) => {
    if (m.cmd === 'stop') {
      for (const s of sockets) s.terminate();
      process.exit(0);
    }
  });
  reply({ type: 'ready', open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length });
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const [role, a, b, c, d] = process.argv.slice(2);
  const run =
    role === 'server' ? server(Number(a), b!, c === 'create-app') : role === 'client' ? client(a!, b === 'on', Number(c)) : role === 'idle' ? idle(a!, b!, c!, Number(d)) : Promise.reject(new Error(`unknown role ${role}`));
  run.catch((e: unknown) => {
    reply({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    process.stderr.write(`latency ${role}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
