/**
 * Response format and errors for every route:
 *   - JSON by default; XML with `?format=xml` or an Accept header preferring
 *     application/xml (or text/xml); `?format=json` wins over Accept.
 *   - `?v=1`; absent means the latest; anything else is a 400.
 *   - Every error is `{code, message, ...}` (XML: <error><code/><message/></error>).
 *   - Request validation with zod schemas given as route `schema`s.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodType } from 'zod';
import { SUPPORTED_VERSIONS } from '../../shared/wire.js';
import { MissingRow, UniqueViolation } from '../store/types.js';
import { ApiError } from './errors.js';
import { recordRoutes } from './route-table.js';
import { toXml } from './xml.js';

export type ResponseFormat = 'json' | 'xml';

declare module 'fastify' {
  interface FastifyRequest {
    format: ResponseFormat;
  }
}

/** Preferred format from an Accept header: whichever of JSON and XML comes first; JSON when neither. */
export function formatFromAccept(accept: string | undefined): ResponseFormat {
  if (!accept) return 'json';
  const lower = accept.toLowerCase();
  const xml = lower.search(/(application|text)\/xml/);
  if (xml < 0) return 'json';
  const json = lower.indexOf('application/json');
  return json >= 0 && json < xml ? 'json' : 'xml';
}

function queryValue(request: FastifyRequest, name: string): unknown {
  const q = request.query as Record<string, unknown> | undefined;
  return q && typeof q === 'object' ? q[name] : undefined;
}

/** onRequest: pick the response format and check the API version before anything else runs. */
export function negotiate(request: FastifyRequest): void {
  const format = queryValue(request, 'format');
  if (format === undefined) {
    request.format = formatFromAccept(request.headers.accept);
  } else if (format === 'json' || format === 'xml') {
    request.format = format;
  } else {
    request.format = formatFromAccept(request.headers.accept);
    throw new ApiError(400, 'unsupported_format', 'format must be "json" or "xml"');
  }
  const v = queryValue(request, 'v');
  if (v !== undefined && (typeof v !== 'string' || !SUPPORTED_VERSIONS.includes(v))) {
    throw new ApiError(400, 'unsupported_version', `API version ${typeof v === 'string' ? JSON.stringify(v.slice(0, 16)) : ''} is not supported: use v=${SUPPORTED_VERSIONS.join(' or v=')} (or omit v for the latest)`);
  }
}

function describeIssues(part: string, issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string; keys?: string[] }>): string {
  const parts = issues.slice(0, 5).map((issue) => {
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      const where = issue.path.length ? ` in ${issue.path.join('.')}` : '';
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k.slice(0, 64))).join(', ')}${where}`;
    }
    return issue.path.length ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message;
  });
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  const label = part === 'querystring' ? 'query' : part;
  return `invalid ${label}: ${parts.join('; ')}${more}`;
}

/** Fastify validator compiler for zod schemas. */
export function zodValidatorCompiler({ schema, httpPart }: { schema: unknown; httpPart?: string }) {
  const zod = schema as ZodType;
  return (data: unknown) => {
    const result = zod.safeParse(data);
    if (result.success) return { value: result.data };
    const code = httpPart === 'body' ? 'invalid_body' : httpPart === 'querystring' ? 'invalid_query' : 'invalid_parameter';
    return { error: new ApiError(400, code, describeIssues(httpPart ?? 'request', result.error.issues)) };
  };
}

const FASTIFY_CODES: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large', 'request body is larger than this server accepts'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'unsupported Content-Type: send application/json, application/xml, form data or multipart/form-data'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_request', 'Content-Length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json', 'body is empty'],
  FST_ERR_CTP_INVALID_TYPE: [400, 'bad_request', 'Content-Type header is malformed'],
  FST_REQ_FILE_TOO_LARGE: [413, 'file_too_large', 'a file is larger than this server accepts'],
  FST_FILES_LIMIT_REACHED: [413, 'too_many_files', 'too many files in one request'],
  FST_PARTS_LIMIT_REACHED: [413, 'too_many_parts', 'too many form parts in one request'],
  FST_FIELDS_LIMIT_REACHED: [413, 'too_many_fields', 'too many form fields in one request'],
  FST_PROTO_VIOLATION: [400, 'invalid_form', 'form field names must not be "__proto__" or "constructor"'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [400, 'invalid_form', 'not a multipart request'],
  FST_ERR_BAD_URL: [400, 'bad_request', 'the URL is malformed'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'bad_request', 'the request could not be routed'],
};

/** Maps any thrown value to an ApiError; unknown errors become a bare 500. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof MissingRow) return new ApiError(404, 'not_found', error.message);
  if (error instanceof UniqueViolation) return new ApiError(409, 'conflict', error.message);
  const e = error as Partial<FastifyError> & { message?: string };
  const known = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (known) return new ApiError(known[0], known[1], known[2]);
  if (typeof e.code === 'string' && e.code.startsWith('FST_') && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError(e.statusCode, 'bad_request', 'the request is malformed');
  }
  if (typeof e.statusCode === 'number' && e.statusCode === 413) return new ApiError(413, 'body_too_large', 'request body is larger than this server accepts');
  return new ApiError(500, 'internal', 'internal server error: the request was not completed');
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  return reply
    .status(error.status)
    .headers(error.headers)
    .send({ code: error.code, message: error.message, ...error.extra });
}

/**
 * Errors Fastify raises before routing (malformed URL, over-long path
 * parameter): same error shape, format from Accept or a raw `format=xml`.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const wantsXml = /[?&]format=xml(&|$)/.test(request.raw.url ?? '') || formatFromAccept(request.headers.accept) === 'xml';
  const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
  const body = { code: status === 414 ? 'uri_too_long' : 'bad_request', message: status === 414 ? 'a path parameter is too long' : 'the URL is malformed' };
  if (wantsXml) void reply.status(status).type('application/xml; charset=utf-8').send(toXml('error', body));
  else void reply.status(status).send(body);
}

/**
 * Fastify's clientErrorHandler: HTTP that Node's parser refuses before any
 * route is found (a Content-Length twice, a bad chunk size, a header over
 * 16 KiB) gets our error shape in JSON (no request, so no format to honour).
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'headers_too_large', 'the request headers are larger than this server accepts']
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request_timeout', 'the request was not completed in time']
    : [400, 'bad_request', 'the request is not well-formed HTTP'];
  const body = JSON.stringify({ code, message });
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy();
}

export function registerResponder(app: FastifyInstance): void {
  // First of all registrations, so every route's schemas are recorded (route-table.ts).
  recordRoutes(app);
  app.decorateRequest('format', 'json');
  app.setValidatorCompiler(zodValidatorCompiler);

  // Callback-style hooks on the hot path: nothing here waits, and an async hook costs a promise and a microtask per request.
  app.addHook('onRequest', (request, reply, done) => {
    let error: Error | undefined;
    try {
      negotiate(request);
    } catch (caught) {
      error = caught as Error;
    }
    if (request.format === 'xml') reply.serializer((payload: unknown) => toXml(reply.statusCode >= 400 ? 'error' : 'response', payload));
    done(error);
  });

  app.addHook('preSerialization', (request, reply, payload, done) => {
    if (request.format === 'xml') reply.type('application/xml; charset=utf-8');
    done(null, payload);
  });

  // A plugin that answers by itself (CORS refuses a non-preflight OPTIONS with
  // a text/plain 400) bypasses the error handler: put its refusal in our shape.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode < 400 || !/^text\/plain/.test(String(reply.getHeader('content-type') ?? ''))) {
      done(null, payload);
      return;
    }
    const text = typeof payload === 'string' ? payload.replace(/[^\x20-\x7e]/g, '').slice(0, 200) : '';
    const body = { code: reply.statusCode === 404 ? 'not_found' : 'bad_request', message: text || 'the request was refused' };
    if (request.format === 'xml') {
      reply.type('application/xml; charset=utf-8');
      done(null, toXml('error', body));
    } else {
      reply.type('application/json; charset=utf-8');
      done(null, JSON.stringify(body));
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const api = toApiError(error);
    if (api.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: api.code, status: api.status }, 'request refused');
    return sendError(request, reply, api);
  });

  app.setNotFoundHandler((request, reply) => sendError(request, reply, new ApiError(404, 'no_such_route', `no ${request.method} route at this path: see docs/api.md`)));
}
