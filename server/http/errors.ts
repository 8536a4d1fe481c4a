/**
 * API errors: an HTTP status, a machine code (listed in docs/api.md) and a
 * message a person can act on. Thrown anywhere in a request; the error
 * handler (respond.ts) writes `{code, message, ...extra}` in the requested format.
 * Messages never contain secrets or request bodies.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string | number | boolean | null> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string, code = 'bad_request', extra?: ApiError['extra']) => new ApiError(400, code, message, extra);
export const unauthorized = (message: string, code = 'unauthorized') =>
  new ApiError(401, code, message, {}, { 'WWW-Authenticate': 'Bearer realm="sealpost"' });
export const forbidden = (message: string, code = 'forbidden') => new ApiError(403, code, message);
export const notFound = (message: string, code = 'not_found') => new ApiError(404, code, message);
export const conflict = (message: string, code = 'conflict', extra?: ApiError['extra']) => new ApiError(409, code, message, extra);
export const tooLarge = (message: string, code = 'body_too_large') => new ApiError(413, code, message);
export const tooManyRequests = (retryAfterSeconds: number, message = 'too many requests: retry later') =>
  new ApiError(429, 'rate_limited', message, { retryAfter: retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });
