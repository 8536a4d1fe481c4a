/**
 * The key service's HTTP client (docs/api.md, "What the desktop engine calls").
 * Every response is validated against the shared wire schemas (shared/wire.ts)
 * before anything uses it; every failure is a typed SyncError:
 * no connection or a timeout -> 'offline', a certificate that does not verify ->
 * 'untrusted', 5xx -> 'server', 429 -> 'rate-limited' (with Retry-After), 401 -> 'auth',
 * 403 -> 'denied', other 4xx -> 'rejected'. Requests trust the public CAs plus the
 * managed policy's trustedCertificates (tls-trust.ts).
 *
 * Secrets (server key, JWT, privatekeyhash) go in headers only, never in URLs
 * (URLs end up in proxy logs), and never into error messages.
 * @module
 */
import { z } from 'zod';
import type { DevicePackage } from '../../../shared/device-package.js';
import {
  CreateKeyResponse,
  DirectoryResponse,
  ErrorBody,
  GenJwtResponse,
  HealthResponse,
  MessagesResponse,
  RegisterResponse,
  SendMessageResponse,
  DeliveredResponse,
} from '../../../shared/wire.js';
import type { Delegation } from '../../../shared/delegation.js';
import { OwnDevicesResponse, RevokeDeviceResponse, type OwnDevice } from '../../../shared/devices-wire.js';
import { SyncError } from './errors.js';
import { trustedFetch, untrustedError } from './tls-trust.js';

/**
 * Credentials a request carries (docs/api.md, Conventions: Credentials). `agent`
 * signs a new agent token per request: the key service accepts each one once.
 */
export type Auth = { jwt: string } | { agent: () => string } | { clientKey: string } | { serverKey: string };

export type Directory = z.infer<typeof DirectoryResponse>;
export type MessagesPage = z.infer<typeof MessagesResponse>;
export type SendResult = z.infer<typeof SendMessageResponse>;

export interface KeyServiceClientOptions {
  /** e.g. http://127.0.0.1:8787 (no trailing slash needed). */
  baseUrl: string;
  /** Per request, ms (default 30 s; uploads of attachment parts get the same). */
  timeoutMs?: number;
}

interface RequestOptions<T> {
  auth?: Auth;
  body?: unknown;
  headers?: Record<string, string>;
  schema: z.ZodType<T>;
  /** 304 answers null instead of failing (message lists). */
  allowNotModified?: boolean;
}

/** A base URL the engine accepts: http(s), no credentials, no query. @throws {SyncError} 'rejected' */
export function checkServerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SyncError('rejected', 'The key service address is not a URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SyncError('rejected', 'The key service address must be http(s).');
  if (url.username || url.password || url.search || url.hash) throw new SyncError('rejected', 'The key service address must not carry credentials, a query or a fragment.');
  return url.href.replace(/\/+$/, '');
}

export class KeyServiceClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(options: KeyServiceClientOptions) {
    this.baseUrl = checkServerUrl(options.baseUrl);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** GET /health: true when the service answers and its store is fine. */
  async health(): Promise<boolean> {
    const h = await this.request('GET', '/health', { schema: HealthResponse });
    return h !== null && h.status === 'ok';
  }

  /** POST /v1/user/register (the app's own back end, with its server key). */
  async register(input: { appId: string; serverKey: string; username: string; devicePackage: DevicePackage }): Promise<string> {
    const r = await this.request('POST', '/v1/user/register', {
      auth: { serverKey: input.serverKey },
      body: { appid: input.appId, username: input.username, devicePackage: input.devicePackage },
      schema: RegisterResponse,
    });
    return r!.userid;
  }

  /** POST /v1/gen-jwt for this device. */
  async genJwt(input: { appId: string; serverKey: string; deviceId: string }): Promise<{ jwt: string; expiresAt: number }> {
    const r = await this.request('POST', '/v1/gen-jwt', {
      auth: { serverKey: input.serverKey },
      body: { appid: input.appId, instance_id: input.deviceId },
      schema: GenJwtResponse,
    });
    const expiresAt = Date.parse(r!.expiresAt);
    if (!Number.isFinite(expiresAt)) throw new SyncError('bad-response', 'gen-jwt answered an unreadable expiry time.');
    return { jwt: r!.jwt, expiresAt };
  }

  /** POST /v1/keys, offline upload (public key + privatekeyhash), published as our inbox. */
  async createInbox(auth: Auth, input: { publicKeyPem: string; privateKeyHash: string; publish: boolean }): Promise<string> {
    const r = await this.request('POST', '/v1/keys', {
      auth,
      body: { publickey: input.publicKeyPem, privatekeyhash: input.privateKeyHash, ...(input.publish && { publish: true }) },
      schema: CreateKeyResponse,
    });
    return r!.token;
  }

  /** GET /v1/users/{who}: the directory entry (DID document). */
  async lookupUser(auth: Auth, who: string): Promise<Directory> {
    return (await this.request('GET', `/v1/users/${encodeURIComponent(who)}`, { auth, schema: DirectoryResponse }))!;
  }

  /** PUT /v1/keys/{token}/messages, offline form, with the outbox's client id. */
  async send(auth: Auth, inbox: string, m: { encryptedmessage: string; encryptionkey: string; clientId: string; isFile?: boolean }): Promise<SendResult> {
    const r = await this.request('PUT', `/v1/keys/${encodeURIComponent(inbox)}/messages`, {
      auth,
      body: { encryptedmessage: m.encryptedmessage, encryptionkey: m.encryptionkey, clientId: m.clientId, ...(m.isFile && { isfile: true }) },
      schema: SendMessageResponse,
    });
    return r!;
  }

  /** GET /v1/keys/{token}/messages after `after`; null on 304 (nothing new). */
  async listMessages(auth: Auth, inbox: string, privateKeyHash: string, after: number, limit: number): Promise<MessagesPage | null> {
    return this.request('GET', `/v1/keys/${encodeURIComponent(inbox)}/messages?after=${after}&limit=${limit}`, {
      auth,
      headers: { 'x-private-key-hash': privateKeyHash },
      schema: MessagesResponse,
      allowNotModified: true,
    });
  }

  /** POST /v1/messages/delivered: which of these (inbox, MessageId) this device sent were fetched by the recipient. */
  async delivered(auth: Auth, messages: ReadonlyArray<{ token: string; MessageId: number }>): Promise<Array<{ token: string; MessageId: number }>> {
    const r = await this.request('POST', '/v1/messages/delivered', { auth, body: { messages }, schema: DeliveredResponse });
    return r!.delivered;
  }

  /** POST /v1/devices/{deviceId}/delegation: the identity's delegation to this device's key. */
  async publishDelegation(auth: Auth, deviceId: string, delegation: Delegation): Promise<void> {
    await this.request('POST', `/v1/devices/${encodeURIComponent(deviceId)}/delegation`, { auth, body: { delegation }, schema: z.object({ deviceId: z.string(), deviceDid: z.string() }) });
  }

  /** GET /v1/devices: the signed-in user's devices. */
  async listDevices(auth: Auth): Promise<OwnDevice[]> {
    return (await this.request('GET', '/v1/devices', { auth, schema: OwnDevicesResponse }))!.devices;
  }

  /** POST /v1/devices/{deviceId}/revoke: revokes one of the user's devices. */
  async revokeDevice(auth: Auth, deviceId: string, totp?: string): Promise<{ deviceId: string; revokedAt: string }> {
    // The account's TOTP code travels in a header (docs/api.md "TOTP"), never in the URL.
    const headers: Record<string, string> = totp !== undefined ? { 'x-sealpost-totp': totp } : {};
    return (await this.request('POST', `/v1/devices/${encodeURIComponent(deviceId)}/revoke`, { auth, headers, schema: RevokeDeviceResponse }))!;
  }

  /** One request; the parsed, validated body (null for an allowed 304). @throws {SyncError} */
  async request<T>(method: string, path: string, o: RequestOptions<T>): Promise<T | null> {
    const headers: Record<string, string> = { accept: 'application/json', ...(o.headers ?? {}) };
    if (o.auth && 'jwt' in o.auth) headers.authorization = `Bearer ${o.auth.jwt}`;
    if (o.auth && 'agent' in o.auth) headers.authorization = `Bearer ${o.auth.agent()}`;
    if (o.auth && 'clientKey' in o.auth) headers['x-client-key'] = o.auth.clientKey;
    if (o.auth && 'serverKey' in o.auth) headers['x-server-key'] = o.auth.serverKey;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    const what = `${method} ${path.replace(/\/v1\/keys\/[^/?]+/, '/v1/keys/[token]').replace(/\?.*$/, '')}`;
    let res: Response;
    try {
      res = await trustedFetch(`${this.baseUrl}${path}`, { method, headers, ...(body !== undefined && { body }), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      // A certificate that does not verify is not an outage: say what is wrong with it.
      const untrusted = untrustedError(e, this.baseUrl);
      if (untrusted) throw untrusted;
      // undici throws TypeError('fetch failed') with the socket error as cause; a timeout is an AbortError/TimeoutError.
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      throw new SyncError('offline', `The key service at ${this.baseUrl} cannot be reached (${cause}).`, {}, { cause: e });
    }
    if (res.status === 304 && o.allowNotModified) {
      await res.body?.cancel();
      return null;
    }
    const text = await res.text().catch((e: unknown) => {
      throw new SyncError('offline', `The connection to the key service broke during ${what}.`, {}, { cause: e });
    });
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status >= 200 && res.status < 300) {
      const parsed = o.schema.safeParse(json);
      if (!parsed.success) throw new SyncError('bad-response', `The key service answered ${what} with an unexpected body.`, { status: res.status });
      return parsed.data;
    }
    throw errorFor(res, json, what);
  }
}

function errorFor(res: Response, json: unknown, what: string): SyncError {
  const err = ErrorBody.safeParse(json);
  const code = err.success ? err.data.code.slice(0, 64) : undefined;
  // The server's messages are written for people and never echo request content (docs/api.md).
  const detail = err.success ? `: ${err.data.message.slice(0, 300)}` : '';
  const extra = { status: res.status, ...(code && { code }) };
  const msg = `${what} failed with ${res.status}${code ? ` ${code}` : ''}${detail}`;
  if (res.status === 429) {
    const secs = Number(res.headers.get('retry-after'));
    return new SyncError('rate-limited', msg, { ...extra, retryAfterMs: Number.isFinite(secs) && secs > 0 ? Math.min(secs, 3600) * 1000 : 1000 });
  }
  if (res.status >= 500) return new SyncError('server', msg, extra);
  if (res.status === 401) return new SyncError('auth', msg, extra);
  if (res.status === 403) return new SyncError('denied', msg, extra);
  return new SyncError('rejected', msg, extra);
}
