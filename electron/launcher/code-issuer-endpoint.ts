/**
 * How the desktop app, a separate Electron process, gets a one-time enrollment
 * code from the key service `npm start` runs (in browser mode the engine is in
 * the launcher's own process and calls the issuer directly).
 *
 * A tiny HTTP endpoint on 127.0.0.1 with a random bearer token that only the
 * app started by the launcher is given (electron/engine/service/local-key-service-env.ts).
 * It does one thing: POST {"username"} answers {"code"}. The app's server key
 * never leaves the launcher; a code is for one user name and expires.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

export const ISSUER_PATH = '/enrollment-code';
/** A request body larger than this is refused unread. */
const MAX_BODY = 4 * 1024;

export interface CodeIssuerEndpoint {
  /** http://127.0.0.1:<port>/enrollment-code */
  url: string;
  /** The bearer token the app must send (32 random bytes, base64url). */
  token: string;
  close(): Promise<void>;
}

const Body = z.object({ username: z.string().min(1).max(128) }).strict();

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function answer(res: ServerResponse, status: number, body: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the endpoint on 127.0.0.1 (a free port); `issue` gives the code for a user name or throws a message for the user. */
export async function startCodeIssuer(issue: (username: string) => Promise<string>): Promise<CodeIssuerEndpoint> {
  const token = randomBytes(32).toString('base64url');
  const expected = digest(`Bearer ${token}`);
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url !== ISSUER_PATH) return answer(res, 404, { message: 'not found' });
      if (req.method !== 'POST') return answer(res, 405, { message: 'use POST' });
      // Compared as digests: equal length, constant time.
      if (!timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) return answer(res, 401, { message: 'not the app this launcher started' });
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return answer(res, 415, { message: 'send JSON' });
      const raw = await readBody(req);
      if (raw === null) return answer(res, 413, { message: 'request too large' });
      let parsed: z.infer<typeof Body>;
      try {
        parsed = Body.parse(JSON.parse(raw));
      } catch {
        return answer(res, 400, { message: 'expected {"username": "…"}' });
      }
      try {
        answer(res, 200, { code: await issue(parsed.username) });
      } catch (e) {
        answer(res, 400, { message: e instanceof Error ? e.message : 'no code for that user name' });
      }
    })().catch(() => {
      if (!res.headersSent) answer(res, 500, { message: 'the launcher could not issue a code' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${ISSUER_PATH}`,
    token,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
