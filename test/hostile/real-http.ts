/**
 * Limits and encodings over real HTTP on 127.0.0.1, where app.inject would
 * bypass the socket: for every route that takes a body, bodies exactly at,
 * just over and ten times over the body limit (JSON, XML, form, chunked),
 * bytes that are not UTF-8, a Content-Length shorter than the body, a header
 * twice; a file just over the file limit; and HTTP that is malformed before
 * any route is found. Same property as the sweep, in JSON and in XML.
 */
import { expect, it } from 'vitest';
import type { RouteEntry } from '../../server/http/route-table.js';
import { problemsWith } from './check.js';
import { head, rawRequest, type RawAnswer } from './raw-http.js';
import type { RequestCase } from './requests.js';
import { LIMITS, type Target } from './server.js';

interface RawCase {
  name: string;
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body?: Buffer;
  /** The status the case must get, when one is certain. */
  status?: number;
  asked: 'json' | 'xml' | null;
}

function credentialFor(route: RouteEntry, target: Target): Array<[string, string]> {
  if (route.auth === 'server') return [['X-Server-Key', target.ks.app.serverKey]];
  if (route.auth === 'body' || route.auth === 'none') return [];
  return [['Authorization', `Bearer ${target.device.jwt}`]];
}

const pad = (prefix: string, suffix: string, size: number) => Buffer.from(prefix + ' '.repeat(Math.max(0, size - prefix.length - suffix.length)) + suffix);

function bodyCases(route: RouteEntry, target: Target, format: 'json' | 'xml'): RawCase[] {
  const path = route.url.replace(':token', target.realToken).replace(/:\w+/g, 'x') + (format === 'xml' ? '?format=xml' : '');
  const auth = credentialFor(route, target);
  const limit = LIMITS.bodyLimitBytes;
  const with_ = (name: string, contentType: string, body: Buffer, status?: number, extra: Array<[string, string]> = []): RawCase => ({
    name: `${name} (${format})`,
    method: route.method,
    path,
    headers: [...auth, ['Content-Type', contentType], ['Content-Length', String(body.length)], ...extra],
    body,
    status,
    asked: format,
  });
  const chunked = (size: number) => {
    const data = pad('{"a":"', '"}', size);
    return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n0\r\n\r\n')]);
  };
  return [
    with_('JSON at the limit', 'application/json', pad('{"a":"', '"}', limit)),
    with_('JSON one byte over the limit', 'application/json', pad('{"a":"', '"}', limit + 1), 413),
    with_('XML one byte over the limit', 'application/xml', pad('<r><a>', '</a></r>', limit + 1), 413),
    with_('form one byte over the limit', 'application/x-www-form-urlencoded', pad('a=', '', limit + 1), 413),
    with_('JSON ten times the limit', 'application/json', pad('{"a":"', '"}', limit * 10), 413),
    with_('JSON that is not UTF-8', 'application/json', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400),
    with_('XML that is not UTF-8', 'text/xml', Buffer.from([0x3c, 0x72, 0x3e, 0x3c, 0x61, 0x3e, 0xc0, 0xaf, 0x3c, 0x2f, 0x61, 0x3e, 0x3c, 0x2f, 0x72, 0x3e]), 400),
    with_('UTF-16 JSON', 'application/json; charset=utf-16le', Buffer.from('{"a":"b"}', 'utf16le'), 400),
    with_('JSON without a Content-Type', '', Buffer.from('{"a":1}')),
    with_('Content-Type twice', 'application/json', Buffer.from('{"a":1}'), undefined, [['Content-Type', 'application/xml']]),
    {
      name: `chunked JSON over the limit (${format})`,
      method: route.method,
      path,
      headers: [...auth, ['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']],
      body: chunked(limit + 10),
      status: 413,
      asked: format,
    },
  ];
}

function multipartOverFileLimit(target: Target): RawCase {
  const boundary = 'hostileboundary';
  const file = Buffer.alloc(LIMITS.fileLimitBytes + 1, 0x41);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\nhello\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return {
    name: 'a file one byte over the file limit',
    method: 'PUT',
    path: `/v1/keys/${target.realToken}/messages`,
    headers: [['X-Client-Key', target.ks.app.clientKey], ['Content-Type', `multipart/form-data; boundary=${boundary}`], ['Content-Length', String(body.length)]],
    body,
    status: 413,
    asked: 'json',
  };
}

/** Malformed HTTP: Node's parser refuses it before Fastify routes anything. */
const FRAMING: Array<{ name: string; raw: string }> = [
  { name: 'a Content-Length shorter than the body', raw: 'POST /v1/gen-jwt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}GARBAGE / HTTP/1.1\r\n\r\n' },
  { name: 'Content-Length twice, different', raw: 'POST /v1/gen-jwt HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}' },
  { name: 'a bad chunk size', raw: 'POST /v1/gen-jwt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n' },
  { name: 'a header over 16 KiB', raw: `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n` },
  { name: 'a NUL in a header', raw: 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n' },
  { name: 'a request line that is not HTTP', raw: 'HELLO\r\n\r\n' },
  { name: 'a path with raw spaces and a fragment', raw: 'GET /v1/users/a b#c HTTP/1.1\r\nHost: x\r\n\r\n' },
];

export function defineRealHttpChecks(routes: RouteEntry[], target: () => Target): void {
  it('limits and encodings over real HTTP: 4xx in the error shape, never a 5xx', async () => {
    const t = target();
    const bodyRoutes = routes.filter((r) => ['POST', 'PUT', 'DELETE'].includes(r.method) && r.url !== '*');
    const cases = [...bodyRoutes.flatMap((r) => [...bodyCases(r, t, 'json'), ...bodyCases(r, t, 'xml')]), multipartOverFileLimit(t)];
    const problems: string[] = [];
    const check = (name: string, c: Pick<RequestCase, 'method' | 'headers' | 'asked'>, a: RawAnswer, status?: number) => {
      const found = problemsWith({ ...c, url: '', secrets: [] }, { status: a.status, contentType: a.headers['content-type'] ?? '', body: a.body }, false);
      if (status !== undefined && a.status !== status) found.push(`status ${a.status}, expected ${status}`);
      for (const p of found) problems.push(`${name}: ${p} (${a.body.slice(0, 120)})`);
    };
    for (const c of cases) {
      const answer = await rawRequest(t.ks.url, head(c.method, c.path, c.headers), c.body);
      check(`${c.method} ${c.path.replace(t.realToken, '{token}')}: ${c.name}`, { method: c.method, headers: {}, asked: c.asked }, answer, c.status);
    }
    for (const f of FRAMING) {
      const answer = await rawRequest(t.ks.url, f.raw);
      check(`framing: ${f.name}`, { method: 'GET', headers: {}, asked: null }, answer);
      if (answer.status < 400) problems.push(`framing: ${f.name}: status ${answer.status}`);
    }
    console.log(`real HTTP: ${cases.length + FRAMING.length} cases over ${bodyRoutes.length} body routes`);
    expect(problems).toEqual([]);
    expect((await t.ks.request('GET', '/health')).status).toBe(200);
  });
}
