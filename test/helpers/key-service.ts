/**
 * A real key service for integration tests: startServer() on 127.0.0.1 with a
 * free port, a throwaway SQLite file (or the PostgreSQL URL given), one app,
 * and helpers to make signed device packages, register devices and talk HTTP.
 *
 *   const ks = await startKeyService();
 *   const alice = await ks.registerDevice('alice');        // { userid, deviceId, jwt, ... }
 *   const r = await ks.request('GET', `/v1/users/alice`, { jwt: alice.jwt });
 *   await ks.close();
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { canonicalJson } from '../../shared/canonical-json.js';
import type { DevicePackage } from '../../shared/device-package.js';
import { didKeyOf, identityFingerprint } from '../../server/crypto/device-package.js';
import { startServer, type CreatedApp, type RunningServer, type ServerOptions } from '../../server/index.js';

export interface TestDevice {
  deviceId: string;
  signingSecretKey: Uint8Array;
  signingPublicKey: Uint8Array;
  rsaPublicPem: string;
  rsaPrivateKey: KeyObject;
  /** The seed's privatekeyhash of the RSA key: hex SHA-256 of its PKCS#8 DER. */
  privateKeyHash: string;
  pkg: DevicePackage;
}

export interface Identity {
  signingSecretKey: Uint8Array;
  signingPublicKey: Uint8Array;
  rsaPublicPem: string;
  rsaPrivateKey: KeyObject;
}

/** A fresh identity (Ed25519 + RSA-2048). */
export function makeIdentity(): Identity {
  const signingSecretKey = ed25519.utils.randomSecretKey();
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    signingSecretKey,
    signingPublicKey: ed25519.getPublicKey(signingSecretKey),
    rsaPublicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    rsaPrivateKey: privateKey,
  };
}

/** Signs package fields (anything but "signature") with an Ed25519 secret key, as a device does. */
export function signDevicePackage(fields: Omit<DevicePackage, 'signature'>, signingSecretKey: Uint8Array): DevicePackage {
  const signature = Buffer.from(ed25519.sign(new TextEncoder().encode(canonicalJson(fields)), signingSecretKey)).toString('base64url');
  return { ...fields, signature };
}

/** A signed device package for an identity (a new one unless given). */
export function makeDevice(identity: Identity = makeIdentity()): TestDevice {
  const deviceId = Buffer.from(ed25519.utils.randomSecretKey().subarray(0, 16)).toString('hex');
  const pkcs8 = identity.rsaPrivateKey.export({ type: 'pkcs8', format: 'der' });
  const publicDer = createPublicKey(identity.rsaPublicPem).export({ type: 'spki', format: 'der' });
  const pkg = signDevicePackage(
    {
      version: 1,
      deviceId,
      did: didKeyOf(identity.signingPublicKey),
      signingPublicKey: Buffer.from(identity.signingPublicKey).toString('base64url'),
      encryptionPublicKey: identity.rsaPublicPem,
      fingerprint: identityFingerprint(identity.signingPublicKey, publicDer),
      createdAt: new Date().toISOString(),
    },
    identity.signingSecretKey,
  );
  return {
    deviceId,
    signingSecretKey: identity.signingSecretKey,
    signingPublicKey: identity.signingPublicKey,
    rsaPublicPem: identity.rsaPublicPem,
    rsaPrivateKey: identity.rsaPrivateKey,
    privateKeyHash: createHash('sha256').update(pkcs8).digest('hex'),
    pkg,
  };
}

export interface RequestOptions {
  jwt?: string;
  clientKey?: string;
  serverKey?: string;
  headers?: Record<string, string>;
  /** JSON-encoded unless a string/Buffer/FormData is given. */
  body?: unknown;
  contentType?: string;
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body (undefined when not JSON). */
  json: T;
}

export interface RegisteredDevice extends TestDevice {
  userid: string;
  username: string;
  jwt: string;
}

export interface KeyService {
  url: string;
  app: CreatedApp;
  server: RunningServer;
  request<T = Record<string, unknown>>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  /** Registers a user (if new) with a new device (or the one given) and gets it a JWT. */
  registerDevice(username: string, device?: TestDevice): Promise<RegisteredDevice>;
  close(): Promise<void>;
}

/** fetch() against a base URL with the key service's credential headers. */
export async function apiRequest<T = Record<string, unknown>>(baseUrl: string, method: string, path: string, o: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.jwt) headers.authorization = `Bearer ${o.jwt}`;
  if (o.clientKey) headers['x-client-key'] = o.clientKey;
  if (o.serverKey) headers['x-server-key'] = o.serverKey;
  let body: string | Buffer | FormData | undefined;
  if (o.body instanceof FormData || typeof o.body === 'string' || Buffer.isBuffer(o.body)) body = o.body;
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['content-type'] ??= 'application/json';
  }
  if (o.contentType) headers['content-type'] = o.contentType;
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body as string | undefined });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as T };
}

export interface StartKeyServiceOptions extends ServerOptions {
  /** Keep the SQLite file's directory (default: removed on close). */
  keepDir?: boolean;
}

/**
 * Starts a key service for a test. Defaults differ from production only where
 * tests would otherwise be slow or flaky: RSA-2048 for online keys and
 * generous rate limits (tests of the limits pass their own).
 */
export async function startKeyService(options: StartKeyServiceOptions = {}): Promise<KeyService> {
  const dir = options.databaseUrl || options.store || options.db ? null : mkdtempSync(join(tmpdir(), 'sealpost-ks-'));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    rsaBits: 2048,
    rateLimit: { perIp: 1_000_000, perDevice: 1_000_000, secretFailures: 1000 },
    ...options,
    ...(dir ? { db: join(dir, 'keyservice.db') } : {}),
  });
  const app = await server.admin.createApp({ name: 'test app' });
  const request = <T = Record<string, unknown>>(method: string, path: string, o?: RequestOptions) => apiRequest<T>(server.url, method, path, o);
  return {
    url: server.url,
    app,
    server,
    request,
    registerDevice: async (username, device = makeDevice()) => {
      const reg = await request<{ userid: string }>('POST', '/v1/user/register', {
        body: { appid: app.appId, serverkey: app.serverKey, username, devicePackage: device.pkg },
      });
      if (reg.status !== 200) throw new Error(`register ${username}: ${reg.status} ${reg.text}`);
      const tok = await request<{ jwt: string }>('POST', '/v1/gen-jwt', { serverKey: app.serverKey, body: { instance_id: device.deviceId } });
      if (tok.status !== 200) throw new Error(`gen-jwt ${username}: ${tok.status} ${tok.text}`);
      return { ...device, userid: reg.json.userid, username, jwt: tok.json.jwt };
    },
    close: async () => {
      await server.close();
      if (dir && !options.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
