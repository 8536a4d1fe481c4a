/**
 * One generated hostile request for a route from the server's route table:
 * path parameters (real-looking, traversal, encoded slashes, over-long),
 * a query from the route's querystring schema (wrong values, duplicates,
 * oversized, unknown names, bad format/version), the response format asked
 * for (Accept or ?format=, sometimes ambiguously), a credential kind, extra
 * hostile headers, and a body (bodies.ts).
 */
import fc from 'fast-check';
import type { RouteEntry } from '../../server/http/route-table.js';
import { bodyCase } from './bodies.js';
import type { Credential } from './credentials.js';
import { fieldsOf } from './schema-walk.js';
import { canary, hostilePathSegment, hostileString } from './strings.js';

export interface RequestCase {
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  body?: string | Buffer;
  /** The format the request unambiguously asks for, or null. */
  asked: 'json' | 'xml' | null;
  secrets: string[];
}

export interface RequestContext {
  /** A real key token (path parameter `:token`), so bodies reach the handlers behind it. */
  realToken: string;
}

const enc = (s: string) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));

function pathFor(url: string, ctx: RequestContext): fc.Arbitrary<string> {
  const parts = url.split('/');
  const segments = parts.map((part) => {
    if (part === '*') return fc.array(hostilePathSegment, { minLength: 0, maxLength: 3 }).map((s) => s.join('/'));
    if (!part.startsWith(':')) return fc.constant(part);
    const valid = part === ':token' ? fc.constant(ctx.realToken) : fc.constantFrom('it.1', 'alice', '0123456789abcdef0123456789abcdef', 'u_0123456789abcdef01234567', 'lnk_1');
    return fc.oneof(valid, hostilePathSegment);
  });
  return fc.tuple(...segments).map((s) => (url === '*' ? `/${s.join('/')}` : s.join('/')));
}

interface QueryCase {
  pairs: string[];
  asked: 'json' | 'xml' | null | undefined; // undefined: no format parameter
  secrets: string[];
}

function queryFor(route: RouteEntry): fc.Arbitrary<QueryCase> {
  const names = fieldsOf(route.schema.querystring).map((f) => f.name).filter((n) => n !== 'format');
  const pair = fc.tuple(fc.constantFrom(...names, 'unknown', '__proto__', 'a[b]', ''), hostileString(2048)).map(([k, v]) => `${enc(k)}=${enc(v)}`);
  const secret = canary.map((c) => ({ pairs: [`passphrase=${c}`, `privatekeyhash=${c}`], secrets: [c] }));
  const format = fc.constantFrom<[string[], QueryCase['asked']]>([[], undefined], [['format=xml'], 'xml'], [['format=json'], 'json'], [['format=xml', 'format=json'], null], [['format=yaml'], null], [['format'], null], [['format=%ZZ'], null]);
  const extra = fc.constantFrom<string[]>([], ['v=1'], ['v=2'], ['v=1', 'v=1'], ['limit=1', 'limit=2'], [`v=${'9'.repeat(10_000)}`], [`x=${'a'.repeat(100_000)}`], ['%'], ['&&&'], ['a=%E0%A4%A']);
  return fc
    .tuple(fc.array(pair, { maxLength: 3 }), fc.option(secret), format, extra)
    .map(([pairs, s, [formatPairs, asked], more]) => ({ pairs: [...pairs, ...(s?.pairs ?? []), ...formatPairs, ...more], asked, secrets: s?.secrets ?? [] }));
}

const ACCEPT = fc.constantFrom<[string | undefined, 'json' | 'xml' | null]>(
  [undefined, 'json'],
  ['application/json', 'json'],
  ['application/xml', 'xml'],
  ['text/xml', 'xml'],
  ['application/xml;q=0.1, application/json', 'xml'], // documented: whichever of the two comes first (respond.ts)
  ['*/*', 'json'],
  ['text/html', 'json'],
  ['\u0000', 'json'],
);

export function requestCase(route: RouteEntry, credential: Credential, ctx: RequestContext): fc.Arbitrary<RequestCase> {
  const hostileHeaders = fc.oneof(
    fc.constant({} as Record<string, string | string[]>),
    canary.map((c) => ({ headers: { 'x-passphrase': c, 'x-private-key-hash': c }, secrets: [c] })),
    fc.constantFrom<Record<string, string | string[]>>(
      { authorization: ['Bearer a', 'Bearer b'] },
      { 'x-client-key': ['a', 'b'] },
      { authorization: 'Basic YTpi' },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${'a'.repeat(5000)}` },
      { 'x-forwarded-for': '127.0.0.1, ::1, evil' },
      { origin: 'http://evil.example' },
      { 'content-length': '0' },
      { 'transfer-encoding': 'chunked' },
      { 'content-encoding': 'gzip' },
      { connection: 'Upgrade', upgrade: 'websocket' },
    ),
  );
  return fc
    .tuple(pathFor(route.url, ctx), queryFor(route), ACCEPT, hostileHeaders, bodyCase(fieldsOf(route.schema.body)))
    .map(([path, query, [accept, fromAccept], extra, body]) => {
      const extraSecrets = 'secrets' in extra ? (extra.secrets as string[]) : [];
      const extraHeaders = ('headers' in extra ? extra.headers : extra) as Record<string, string | string[]>;
      const headers: Record<string, string | string[]> = { ...extraHeaders, ...credential.headers };
      if (accept !== undefined) headers.accept = accept;
      if (body.contentType !== undefined) headers['content-type'] = body.contentType;
      const asked = query.asked === undefined ? fromAccept : query.asked;
      return {
        method: route.method,
        url: query.pairs.length ? `${path}?${query.pairs.join('&')}` : path,
        headers,
        body: route.method === 'GET' || route.method === 'HEAD' ? undefined : body.body,
        asked,
        secrets: [...credential.secrets, ...query.secrets, ...extraSecrets, ...body.secrets],
      };
    });
}
