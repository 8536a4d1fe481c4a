/**
 * What the request log may show. Secrets reach the server in headers
 * (Authorization, X-Client-Key, X-Server-Key, X-Passphrase, X-Private-Key-Hash),
 * bodies, query strings (the seed allows `?passphrase=`) and URL paths (key
 * tokens). The logger gets only: method, a redacted URL, the client address,
 * status codes and our own error codes. Bodies and headers are never logged;
 * the redact list is a second line of defence should anything log them.
 */
import type { FastifyRequest } from 'fastify';

/** Query parameters whose values are safe to log; every other value becomes [redacted]. */
const SAFE_QUERY = new Set(['format', 'v', 'limit', 'after', 'shared', 'userid']);

/** `/v1/keys/<token>...` -> `/v1/keys/[token]...`; unsafe query values -> `[redacted]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const safePath = path.replace(/^(\/v\d+\/keys\/)[^/?#]+/, '$1[token]');
  if (q < 0) return safePath;
  const params = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        decoded = name;
      }
      return SAFE_QUERY.has(decoded) ? pair.slice(0, 200) : `${name.slice(0, 64)}=[redacted]`;
    });
  return `${safePath}?${params.join('&')}`;
}

export const SECRET_HEADERS = ['authorization', 'x-client-key', 'x-server-key', 'x-passphrase', 'x-private-key-hash', 'x-sealpost-totp', 'cookie'];

export const REDACT_PATHS = [
  ...SECRET_HEADERS.map((h) => `req.headers["${h}"]`),
  ...SECRET_HEADERS.map((h) => `headers["${h}"]`),
  'body',
  'req.body',
  'request.body',
];

export const logSerializers = {
  req(request: FastifyRequest) {
    return { method: request.method, url: redactUrl(request.url), remoteAddress: request.ip };
  },
  res(reply: { statusCode: number }) {
    return { statusCode: reply.statusCode };
  },
};
