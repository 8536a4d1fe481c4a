/**
 * HTTP/1.1 by hand over a TCP socket on 127.0.0.1: what fetch and inject will
 * not send (a Content-Length that lies, bad chunk sizes, a header twice,
 * bytes that are not UTF-8, a body far over the limit written while the server
 * has already answered 413). Reads one response (Content-Length or chunked).
 */
import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  ms: number;
}

function parse(buf: Buffer): RawAnswer | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = buf.subarray(end + 4);
  const length = headers['content-length'];
  let body: Buffer | null = null;
  if (length !== undefined) body = rest.length >= Number(length) ? rest.subarray(0, Number(length)) : null;
  else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = rest.includes('0\r\n\r\n') ? rest : null;
  if (body === null) return null;
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0), headers, body: body.toString('utf8'), ms: 0 };
}

/** Sends `head` then `body` (in 64 KiB writes) and resolves with the first response. @throws when no response arrives within `timeoutMs` */
export function rawRequest(url: string, head: string, body: Buffer = Buffer.alloc(0), timeoutMs = 30_000): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (error: Error | null, answer?: RawAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve({ ...answer!, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      const answer = parse(received);
      if (answer) finish(null, answer);
    });
    socket.on('error', () => {
      // The server may close while we still write a body it refused: the answer, if any, is already in `received`.
      const answer = parse(received);
      if (answer) finish(null, answer);
    });
    socket.on('close', () => {
      const answer = parse(received);
      if (answer) finish(null, answer);
      else finish(new Error(`connection closed without an answer (${received.length} bytes)`));
    });
    socket.on('connect', async () => {
      socket.write(head, 'latin1');
      for (let i = 0; i < body.length && !done && !socket.destroyed; i += 65_536) {
        if (!socket.write(body.subarray(i, i + 65_536))) await new Promise((r) => socket.once('drain', r).once('close', r));
      }
    });
  });
}

/** A request head with Host and Connection: close; `headers` may repeat a name (array of pairs). */
export function head(method: string, path: string, headers: Array<[string, string]>): string {
  return `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}
