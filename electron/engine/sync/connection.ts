/**
 * A profile's authenticated link to its key service: the client for the
 * registered server URL and how this device proves who it is.
 *
 * Once its delegation is published (sync/device-key.ts) the device signs a fresh
 * agent token per request with its own device key: nothing long-lived travels.
 * Otherwise, and once after a 401 with an agent token, it uses the device JWT,
 * renewed before it expires (or after a 401) with gen-jwt and the server key
 * kept in the keychain. Without a registration every call fails with 'unregistered'.
 * @module
 */
import type { Keychain } from '../keychain/types.js';
import { type Auth, KeyServiceClient } from './client.js';
import { type Credentials, readCredentials, updateCredentials } from './credentials.js';
import { agentAuth, delegatedDevice, type DelegatedDevice } from './device-key.js';
import { SyncError } from './errors.js';
import { AGENT_TOKEN_MAX_TTL_S } from '../../../shared/delegation.js';

export interface Registration {
  appId: string;
  userId: string;
  username: string;
  server: string;
}

/** Renew this long before the JWT's expiry. */
const RENEW_MARGIN_MS = 60_000;

export class Connection {
  readonly client: KeyServiceClient;
  private creds: Credentials | null = null;
  /** undefined until read; null when this device has no published device key. */
  private device: DelegatedDevice | null | undefined;

  constructor(
    readonly registration: Registration,
    private readonly keychain: Keychain,
    private readonly deviceId: string,
    private readonly now: () => number,
    timeoutMs?: number,
  ) {
    this.client = new KeyServiceClient({ baseUrl: registration.server, ...(timeoutMs && { timeoutMs }) });
  }

  async credentials(): Promise<Credentials> {
    this.creds ??= await readCredentials(this.keychain);
    return this.creds;
  }

  /** Our inbox token and its read secret. @throws {SyncError} 'unregistered' */
  async inbox(): Promise<{ token: string; privateKeyHash: string }> {
    const c = await this.credentials();
    if (!c.inbox || !c.privateKeyHash) throw new SyncError('unregistered', 'This device has no inbox on the key service yet: register it.');
    return { token: c.inbox, privateKeyHash: c.privateKeyHash };
  }

  /** How this device authenticates: agent tokens when delegated. @throws {KeychainError} */
  async delegated(): Promise<DelegatedDevice | null> {
    if (this.device === undefined) this.device = await delegatedDevice(this.keychain, this.deviceId);
    return this.device;
  }

  /**
   * Agent tokens when this device is delegated; else (or with `forceRenew`, after
   * a 401) a valid device JWT renewed when close to expiry; else the client key.
   * @throws {SyncError}
   */
  async auth(forceRenew = false): Promise<Auth> {
    const device = forceRenew ? null : await this.delegated();
    if (device) return agentAuth(device, this.registration.appId, this.now);
    const c = await this.credentials();
    if (!forceRenew && c.jwt && (c.jwtExpiresAt ?? 0) - RENEW_MARGIN_MS > this.now()) return { jwt: c.jwt };
    if (c.serverKey) {
      const { jwt, expiresAt } = await this.client.genJwt({ appId: this.registration.appId, serverKey: c.serverKey, deviceId: this.deviceId });
      this.creds = await updateCredentials(this.keychain, { jwt, jwtExpiresAt: expiresAt });
      return { jwt };
    }
    if (c.clientKey) return { clientKey: c.clientKey };
    throw new SyncError('unregistered', 'No key-service credentials on this device: register it.');
  }

  /**
   * Credentials for the push stream: like auth(), but an agent token lives the
   * longest the key service accepts (10 min), since the stream is closed (4401)
   * and reopened when the credential it was opened with expires.
   * @throws {SyncError}
   */
  async streamAuth(forceRenew = false): Promise<Auth> {
    const device = forceRenew ? null : await this.delegated();
    if (device) return agentAuth(device, this.registration.appId, this.now, AGENT_TOKEN_MAX_TTL_S);
    return this.auth(forceRenew);
  }

  /** Runs `op` with credentials; on a 401 renews the JWT once and tries again. */
  async call<T>(op: (auth: Auth) => Promise<T>): Promise<T> {
    try {
      return await op(await this.auth());
    } catch (e) {
      if (!(e instanceof SyncError) || e.kind !== 'auth') throw e;
      const c = await this.credentials();
      if (!c.serverKey) throw e;
      return op(await this.auth(true));
    }
  }
}
