/**
 * Request body parsers: JSON, XML and URL-encoded forms (the seed's jQuery
 * clients post forms). Multipart (files) is @fastify/multipart, consumed by
 * the send-message route only.
 *
 * Every failure of a parser is a 400 in the error shape (respond.ts), never a
 * 500: bytes that are not UTF-8, a charset other than UTF-8, nesting too deep,
 * duplicate keys, DTDs and entities, malformed text. Anything the XML library
 * throws is caught here and mapped too, so a new failure mode of a dependency
 * is a 400 and not an "internal" (issue 18: 2,000 nested tags were a 500).
 * Too large a body stays Fastify's 413 (body_too_large).
 *
 * Messages name the problem and position but never echo the body (Node's own
 * JSON.parse message quotes the input, which may hold a passphrase).
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { scanJsonStructure, MAX_JSON_DEPTH } from './json-scan.js';
import { XmlBodyError, parseXmlBody } from './xml.js';

/**
 * The body as text: UTF-8 only (a BOM is dropped). The charset parameter, if
 * any, must say UTF-8 (or its subset US-ASCII): decoding as anything else would
 * let two readers of one body disagree on its fields.
 * @throws {ApiError} 400 invalid_encoding
 */
export function decodeBody(body: Buffer, contentType: string | undefined): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new ApiError(400, 'invalid_encoding', 'request bodies must be UTF-8: send charset=utf-8 or no charset');
  }
  if (!isUtf8(body)) throw new ApiError(400, 'invalid_encoding', 'request body is not valid UTF-8');
  const text = body.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

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

/**
 * JSON.parse with a generic error; `__proto__` keys, a key twice in an object
 * and nesting deeper than MAX_JSON_DEPTH refused; trailing commas tolerated.
 * @throws {ApiError} 400 invalid_json
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  const problem = scanJsonStructure(text);
  if (problem?.kind === 'proto') throw new ApiError(400, 'invalid_json', 'JSON body must not contain "__proto__" keys');
  if (problem?.kind === 'depth') throw new ApiError(400, 'invalid_json', `JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`);
  if (problem?.kind === 'duplicate') throw new ApiError(400, 'invalid_json', `JSON body has the key ${JSON.stringify(problem.key.slice(0, 64))} twice in one object`);
  try {
    return JSON.parse(text);
  } catch (first) {
    try {
      return JSON.parse(stripTrailingCommas(text));
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

type Done = (err: Error | null, body?: unknown) => void;

/** A parser over the raw bytes: decoded as UTF-8, and any error it throws becomes a 400. */
function strictParser(parse: (text: string) => unknown, code: string, what: string) {
  return (request: FastifyRequest, body: Buffer, done: Done) => {
    let parsed: unknown;
    try {
      parsed = parse(decodeBody(body, request.headers['content-type']));
    } catch (error) {
      if (error instanceof ApiError) done(error, undefined);
      else if (error instanceof XmlBodyError) done(new ApiError(400, code, error.message), undefined);
      else done(new ApiError(400, code, `${what} body could not be parsed`), undefined);
      return;
    }
    done(null, parsed);
  };
}

export function registerBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  const json = strictParser(parseJsonBody, 'invalid_json', 'JSON');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, json);
  app.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: 'buffer' }, json);
  const xml = strictParser((text) => (text.trim() === '' ? undefined : parseXmlBody(text)), 'invalid_xml', 'XML');
  app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'buffer' }, xml);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, strictParser(parseFormBody, 'invalid_form', 'form'));
}
