/**
 * Registering connected apps (admin only, never over HTTP): an id, the mode,
 * the personal key's size, an optional PEM transit key, and a secret for the
 * application's back end, shown once and stored as an HMAC under the server
 * pepper (like the API keys: 256 random bits, so one indexed read checks it).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { ConnectedAppMode, KeyBits } from '../../shared/connected-wire.js';
import { AdminError, loadPepper } from '../admin.js';
import { keyedHash, randomToken } from '../crypto/secrets.js';
import { KeyFormatError, parseRsaPublicKey } from '../crypto/online.js';
import type { Store } from '../store/types.js';
import { ConnectedStore, type ConnectedAppRow } from './store.js';

export interface AddConnectedApp {
  /** The key service's app (the organisation) whose users the application serves; default: the only app. */
  appId?: string | undefined;
  name: string;
  mode: string;
  keyBits: number;
  publicKeyPem?: string | undefined;
}

export interface CreatedConnectedApp {
  id: string;
  appId: string;
  name: string;
  mode: ConnectedAppMode;
  keyBits: KeyBits;
  secret: string;
  transitKeyFingerprint: string | null;
}

export interface ConnectedAppSummary {
  id: string;
  appId: string;
  name: string;
  mode: ConnectedAppMode;
  keyBits: KeyBits;
  transitKeyFingerprint: string | null;
  createdAt: string;
  removedAt: string | null;
}

/** hex SHA-256 of the transit key's SPKI DER (what the desktop shows), or null. */
export function transitFingerprint(pem: string | null): string | null {
  return pem === null ? null : parseRsaPublicKey(pem).fingerprint;
}

/** A transit key as stored: the normalised SPKI PEM. @throws {AdminError} */
export function checkTransitKey(pem: string, what = 'the public key'): string {
  try {
    return parseRsaPublicKey(pem).pem;
  } catch (error) {
    if (error instanceof KeyFormatError) throw new AdminError(`${what}: ${error.message.replace(/^publickey/, 'it')}`);
    throw error;
  }
}

export function summary(row: ConnectedAppRow): ConnectedAppSummary {
  return {
    id: row.id,
    appId: row.appId,
    name: row.name,
    mode: row.mode,
    keyBits: row.keyBits,
    transitKeyFingerprint: transitFingerprint(row.publicKey),
    createdAt: new Date(row.createdAt).toISOString(),
    removedAt: row.removedAt === null ? null : new Date(row.removedAt).toISOString(),
  };
}

export class ConnectedAdmin {
  private readonly apps: ConnectedStore;

  private constructor(
    private readonly store: Store,
    private readonly pepper: Buffer,
  ) {
    this.apps = new ConnectedStore(store);
  }

  static async open(store: Store): Promise<ConnectedAdmin> {
    return new ConnectedAdmin(store, await loadPepper(store));
  }

  private async tenant(appId: string | undefined): Promise<string> {
    if (appId !== undefined) {
      const app = await this.store.getApp(appId);
      if (!app) throw new AdminError(`no app ${appId}`);
      if (app.revokedAt !== null) throw new AdminError(`app ${appId} is revoked`);
      return appId;
    }
    const live = (await this.store.listApps()).filter((a) => a.revokedAt === null);
    if (live.length !== 1) throw new AdminError(`--app is required: ${live.length === 0 ? 'there is no app yet (create-app)' : 'there are several apps'}`);
    return live[0]!.id;
  }

  /** @throws {AdminError} bad name, mode, size or key; no such app */
  async add(input: AddConnectedApp): Promise<CreatedConnectedApp> {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 200) throw new AdminError('the name must be 1 to 200 characters');
    const mode = ConnectedAppMode.safeParse(input.mode);
    if (!mode.success) throw new AdminError('--mode must be api, login or always');
    const keyBits = KeyBits.safeParse(input.keyBits);
    if (!keyBits.success) throw new AdminError('--key-bits must be 128, 192 or 256');
    const publicKey = input.publicKeyPem === undefined ? null : checkTransitKey(input.publicKeyPem);
    const appId = await this.tenant(input.appId);
    const id = `ca_${randomBytes(8).toString('hex')}`;
    const secret = `cas_${randomToken(32)}`;
    await this.apps.insertApp({
      id,
      appId,
      name,
      mode: mode.data,
      keyBits: keyBits.data,
      publicKey,
      secretHash: keyedHash(this.pepper, secret),
      createdAt: Date.now(),
      removedAt: null,
    });
    return { id, appId, name, mode: mode.data, keyBits: keyBits.data, secret, transitKeyFingerprint: transitFingerprint(publicKey) };
  }

  async list(appId?: string): Promise<ConnectedAppSummary[]> {
    return (await this.apps.listApps(appId)).map(summary);
  }

  /** @throws {AdminError} no such connected app, or removed already */
  async remove(id: string): Promise<void> {
    if (!(await this.apps.app(id))) throw new AdminError(`no connected app ${id}`);
    if (!(await this.apps.removeApp(id, Date.now()))) throw new AdminError(`connected app ${id} was removed already`);
  }
}
