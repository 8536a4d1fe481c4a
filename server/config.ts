/**
 * Server options: what startServer() takes, the defaults, and how the CLI
 * builds them from flags and environment variables (cli.ts documents each).
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { type ScryptParams, DEFAULT_SCRYPT } from './crypto/secrets.js';
import { ALLOWED_RSA_BITS, type RsaBits } from './crypto/online.js';
import type { Store } from './store/types.js';
import { DEFAULT_DB_FILE, type StoreOptions } from './store/index.js';

export interface RateLimitOptions {
  /** Fixed window length (default 60 s). */
  windowSeconds: number;
  /** Requests per client IP per window, over all routes (default 1200). */
  perIp: number;
  /** Requests per device (JWT), per app+IP (client key) or per app (server key) per window (default 600). */
  perDevice: number;
  /** Wrong passphrases / privatekeyhashes per key per window before that key answers 429 (default 10). */
  secretFailures: number;
}

/** The push stream (GET /v1/stream, docs/api.md "Push stream"). Limits are per instance. */
export interface StreamOptions {
  /** Open streams per device (default 5); a new one over the limit closes that device's oldest with 4429. */
  perDevice: number;
  /** Open streams per client address (default 50); over it the upgrade is refused with 429. */
  perIp: number;
  /** Ping interval; a stream that did not answer the previous ping is dropped (default 30 s). */
  heartbeatSeconds: number;
  /** Bytes a stream may have queued unsent before it is closed with 4408 (default 256 KiB). */
  sendBufferBytes: number;
  /** How often open streams are checked against the database: device revoked (4403), app revoked or credential expired (4401) (default 60 s). */
  recheckSeconds: number;
}

export interface LogOptions {
  level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Where log lines go (default stdout). */
  stream?: { write(line: string): void };
}

export interface ServerOptions extends StoreOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 8787; 0 picks a free one). */
  port?: number;
  /** An already-open store (embedding, tests); `db`/`databaseUrl` are then ignored and close() leaves it open. */
  store?: Store;
  /** HS256 secret for device JWTs (>= 32 chars); default: generated once and kept in the database, shared by all instances. */
  jwtSecret?: string;
  /** Default device JWT lifetime (default 900 s); gen-jwt may ask for less or more, up to jwtMaxTtlSeconds. */
  jwtTtlSeconds?: number;
  jwtMaxTtlSeconds?: number;
  /** RSA size for online-created keys (default 3072). */
  rsaBits?: RsaBits;
  /** scrypt cost for passphrases and privatekeyhash (default log2N 15, r 8, p 1). */
  scrypt?: ScryptParams;
  /** Largest JSON/XML/form body (default 16 MiB). */
  bodyLimitBytes?: number;
  /** Largest file in a multipart send (default 8 MiB) and most files per request (default 10). */
  fileLimitBytes?: number;
  maxFiles?: number;
  /** false disables rate limiting (only for benchmarks behind another limiter). */
  rateLimit?: false | Partial<RateLimitOptions>;
  /** Trust X-Forwarded-For from a reverse proxy (Fastify's trustProxy). */
  trustProxy?: boolean | string | number;
  /** CORS allowed origin(s) (default "*"). */
  corsOrigin?: string | string[] | boolean;
  /** Request log (default off for startServer(), info for the CLI). */
  logger?: boolean | LogOptions;
  /** Push stream limits and timers (benchmarks raise `perDevice` / `perIp` to hold many idle streams). */
  stream?: Partial<StreamOptions>;
  /**
   * Serve HTTPS (and the push stream as wss) with this certificate (chain) and private
   * key, both PEM; default plain HTTP, for loopback or behind a TLS-terminating proxy.
   */
  tls?: TlsOptions;
}

export interface TlsOptions {
  /** The server certificate, PEM; intermediates may follow it. */
  cert: string;
  /** Its private key, PEM (unencrypted). */
  key: string;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  jwtTtlSeconds: number;
  jwtMaxTtlSeconds: number;
  rsaBits: RsaBits;
  scrypt: ScryptParams;
  bodyLimitBytes: number;
  fileLimitBytes: number;
  maxFiles: number;
  rateLimit: RateLimitOptions | false;
  trustProxy: boolean | string | number;
  corsOrigin: string | string[] | boolean;
  logger: false | LogOptions;
  stream: StreamOptions;
  /** null: plain HTTP. */
  tls: TlsOptions | null;
}

export const DEFAULT_PORT = 8787;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { windowSeconds: 60, perIp: 1200, perDevice: 600, secretFailures: 10 };
export const DEFAULT_STREAM: StreamOptions = { perDevice: 5, perIp: 50, heartbeatSeconds: 30, sendBufferBytes: 256 * 1024, recheckSeconds: 60 };

function positiveInt(value: number | undefined, fallback: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new RangeError(`${name} must be a whole number from 1 to ${max}`);
  return value;
}

/** Fills in defaults and checks ranges. @throws {RangeError} naming the bad option */
export function resolveOptions(o: ServerOptions): ResolvedOptions {
  const port = o.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError('port must be 0..65535');
  if (o.rsaBits !== undefined && !ALLOWED_RSA_BITS.includes(o.rsaBits)) throw new RangeError('rsaBits must be 2048, 3072 or 4096');
  if (o.jwtSecret !== undefined && o.jwtSecret.length < 32) throw new RangeError('the JWT secret must be at least 32 characters');
  const rateLimit =
    o.rateLimit === false
      ? false
      : {
          windowSeconds: positiveInt(o.rateLimit?.windowSeconds, DEFAULT_RATE_LIMIT.windowSeconds, 'rateLimit.windowSeconds', 86_400),
          perIp: positiveInt(o.rateLimit?.perIp, DEFAULT_RATE_LIMIT.perIp, 'rateLimit.perIp'),
          perDevice: positiveInt(o.rateLimit?.perDevice, DEFAULT_RATE_LIMIT.perDevice, 'rateLimit.perDevice'),
          secretFailures: positiveInt(o.rateLimit?.secretFailures, DEFAULT_RATE_LIMIT.secretFailures, 'rateLimit.secretFailures'),
        };
  const jwtTtlSeconds = positiveInt(o.jwtTtlSeconds, 900, 'jwtTtlSeconds', 86_400);
  return {
    host: o.host ?? DEFAULT_HOST,
    port,
    jwtTtlSeconds,
    jwtMaxTtlSeconds: Math.max(jwtTtlSeconds, positiveInt(o.jwtMaxTtlSeconds, 86_400, 'jwtMaxTtlSeconds', 7 * 86_400)),
    rsaBits: o.rsaBits ?? 3072,
    scrypt: o.scrypt ?? DEFAULT_SCRYPT,
    bodyLimitBytes: positiveInt(o.bodyLimitBytes, 16 * 1024 * 1024, 'bodyLimitBytes', 1024 * 1024 * 1024),
    fileLimitBytes: positiveInt(o.fileLimitBytes, 8 * 1024 * 1024, 'fileLimitBytes', 1024 * 1024 * 1024),
    maxFiles: positiveInt(o.maxFiles, 10, 'maxFiles', 1000),
    rateLimit,
    trustProxy: o.trustProxy ?? false,
    corsOrigin: o.corsOrigin ?? '*',
    logger: o.logger === true ? { level: 'info' } : o.logger || false,
    stream: {
      perDevice: positiveInt(o.stream?.perDevice, DEFAULT_STREAM.perDevice, 'stream.perDevice', 1_000_000),
      perIp: positiveInt(o.stream?.perIp, DEFAULT_STREAM.perIp, 'stream.perIp', 1_000_000),
      heartbeatSeconds: positiveInt(o.stream?.heartbeatSeconds, DEFAULT_STREAM.heartbeatSeconds, 'stream.heartbeatSeconds', 3600),
      sendBufferBytes: positiveInt(o.stream?.sendBufferBytes, DEFAULT_STREAM.sendBufferBytes, 'stream.sendBufferBytes', 64 * 1024 * 1024),
      recheckSeconds: positiveInt(o.stream?.recheckSeconds, DEFAULT_STREAM.recheckSeconds, 'stream.recheckSeconds', 86_400),
    },
    tls: o.tls ? checkTls(o.tls) : null,
  };
}

/**
 * The certificate and key must parse and belong together: found at start, not at the
 * first client's handshake (which would only fail that connection, with no clear log).
 * @throws {RangeError} naming which one is wrong
 */
export function checkTls(tls: TlsOptions): TlsOptions {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(tls.cert);
  } catch (e) {
    throw new RangeError(`the TLS certificate is not a PEM certificate (${(e as Error).message})`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(tls.key);
  } catch (e) {
    throw new RangeError(`the TLS key is not an unencrypted PEM private key (${(e as Error).message})`);
  }
  if (!cert.checkPrivateKey(key)) throw new RangeError(`the TLS key is not the private key of the certificate (${cert.subject.replace(/\n/g, ', ')})`);
  return { cert: tls.cert, key: tls.key };
}

export { DEFAULT_DB_FILE };
