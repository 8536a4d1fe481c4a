/**
 * Browser mode: serves the built renderer on 127.0.0.1 and runs the contract
 * over a WebSocket, so the same UI works in any Chromium without Electron.
 *
 * Guard rails, because any local process or web page could try to reach it:
 * binds to loopback only; a random 256-bit token (in the page URL fragment)
 * is required on the WebSocket; the Origin header must be this server's own;
 * every message is validated by the same dispatch as IPC.
 *
 * Engine events (shared/contract-events.ts) are pushed as `{ "event": ... }`
 * frames to every open bridge socket; a socket exists only once it passed the
 * token and Origin checks, so nothing reaches an unauthenticated client.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Handlers, SubscribeEvents } from '../../shared/contract.js';
import { dispatch } from '../engine/dispatch.js';

export interface WebhostOptions {
  handlers: Handlers;
  /** The engine's events, pushed to the page (none when absent). */
  onEvent?: SubscribeEvents;
  /** Folder with the built renderer (out/renderer). */
  rendererDir: string;
  port?: number;
  /** Fixed token for tests; random otherwise. */
  token?: string;
}

export interface Webhost {
  /** The URL to open, token included. */
  url: string;
  origin: string;
  token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** A socket this far behind is not sent events (they only say "refresh"; the next one will do). */
const MAX_EVENT_BACKLOG = 1024 * 1024;

/** What a bridge request must look like before dispatch sees it; anything else is answered Malformed. */
function asRequest(data: unknown): { id: number | null; channel: unknown; input: unknown } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(data));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const message = parsed as { id?: unknown; channel?: unknown; input?: unknown };
  return { id: typeof message.id === 'number' ? message.id : null, channel: message.channel, input: message.input };
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const relative = pathname === '/' ? 'index.html' : pathname.slice(1);
  const file = resolve(root, normalize(relative));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403).end('Forbidden');
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', ...SECURITY_HEADERS }).end(body);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
  }
}

export async function startWebhost(options: WebhostOptions): Promise<Webhost> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const root = resolve(options.rendererDir);
  await readFile(join(root, 'index.html')).catch(() => {
    throw new Error(`No built UI in ${root}: run npm run build first.`);
  });

  const http = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    void serveStatic(root, req, res);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 96 * 1024 * 1024 });
  let origin = '';

  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const given = url.searchParams.get('token') ?? '';
    if (url.pathname !== '/bridge' || req.headers.origin !== origin || !sameToken(given, token)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data) => {
      const request = asRequest(data);
      if (!request) {
        ws.send(JSON.stringify({ id: null, result: { code: -29, message: 'Malformed message: expected a JSON object { id, channel, input }.' } }));
        return;
      }
      void dispatch(options.handlers, request.channel, request.input).then((result) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: request.id, result }));
      });
    });
  });

  await new Promise<void>((ok, fail) => {
    http.once('error', fail);
    http.listen(options.port ?? 0, '127.0.0.1', () => ok());
  });
  const address = http.address();
  if (!address || typeof address === 'string') throw new Error('webhost: no address');
  origin = `http://127.0.0.1:${address.port}`;

  const unsubscribe =
    options.onEvent?.((event) => {
      const frame = JSON.stringify({ event });
      for (const client of wss.clients) {
        if (client.readyState === client.OPEN && client.bufferedAmount < MAX_EVENT_BACKLOG) client.send(frame);
      }
    }) ?? (() => undefined);

  return {
    url: `${origin}/#token=${token}`,
    origin,
    token,
    close: () =>
      new Promise<void>((ok) => {
        unsubscribe();
        for (const client of wss.clients) client.terminate();
        wss.close();
        http.close(() => ok());
      }),
  };
}
