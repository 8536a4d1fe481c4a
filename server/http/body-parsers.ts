/**
 * Request body parsers: JSON, XML and URL-encoded forms (the seed's jQuery
 * clients post forms). Multipart (files) is @fastify/multipart, consumed by
 * the send-message route only.
 *
 * Parse errors are 400s with a message that names the problem and position
 * but never echoes the body (Node's own JSON.parse message quotes the input,
 * which may hold a passphrase).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { XmlBodyError, parseXmlBody } from './xml.js';

/**
 * Removes commas that directly precede `}` or `]` outside strings: the
 * IDENTOS documentation's own curl example for user/register has one.
 */
export function stripTrailingCommas(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    if (c === ',') {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      if (text[j] === '}' || text[j] === ']') continue;
    }
    out += c;
  }
  return out;
}

function rejectProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new SyntaxError('forbidden key');
  return value;
}

/** JSON.parse with a generic error, forbidden `__proto__` keys, and trailing commas tolerated. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  const reviver = text.includes('__proto__') ? rejectProtoKeys : undefined;
  try {
    return JSON.parse(text, reviver);
  } catch (first) {
    if (first instanceof SyntaxError && first.message === 'forbidden key') throw new ApiError(400, 'invalid_json', 'JSON body must not contain "__proto__" keys');
    try {
      return JSON.parse(stripTrailingCommas(text), reviver);
    } catch {
      const position = /position (\d+)/.exec(String((first as Error).message))?.[1];
      throw new ApiError(400, 'invalid_json', `body is not valid JSON${position ? ` (at character ${position})` : ''}`);
    }
  }
}

/** application/x-www-form-urlencoded: every field once, values as strings. */
export function parseFormBody(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of new URLSearchParams(text)) {
    if (key === '__proto__') throw new ApiError(400, 'invalid_form', 'form fields must not be named "__proto__"');
    if (key in out) throw new ApiError(400, 'invalid_form', `form field "${key.slice(0, 64)}" appears more than once`);
    out[key] = value;
  }
  return { ...out };
}

export function registerBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  const json = (_req: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void) => {
    try {
      done(null, parseJsonBody(body));
    } catch (error) {
      done(error as Error, undefined);
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, json);
  app.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: 'string' }, json);
  app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'string' }, (_req: FastifyRequest, body: string, done) => {
    try {
      done(null, body.trim() === '' ? undefined : parseXmlBody(body));
    } catch (error) {
      done(error instanceof XmlBodyError ? new ApiError(400, 'invalid_xml', error.message) : (error as Error), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req: FastifyRequest, body: string, done) => {
    try {
      done(null, parseFormBody(body));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
