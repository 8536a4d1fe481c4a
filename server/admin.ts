/**
 * Admin operations behind the CLI's commands (and startServer().admin):
 * apps with their keys, devices, audit verification. Apps are made only here,
 * never over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { AuditLog, type VerifyResult } from './audit.js';
import { keyedHash, randomToken } from './crypto/secrets.js';
import type { AppSummary, DeviceRow, Store } from './store/types.js';
import type { EventBus } from './stream/bus.js';

export interface CreatedApp {
  appId: string;
  serverKey: string;
  clientKey: string;
}

export interface CreateAppInput {
  name: string;
  /** Default: "app_" + 16 random hex digits. */
  appId?: string;
  /** Import existing keys (migrating from another deployment); default: 256 random bits each. */
  serverKey?: string;
  clientKey?: string;
}

const APP_ID = /^[A-Za-z0-9._-]{3,64}$/;
const KEY = /^[\x21-\x7e]{8,256}$/;
/** Imported keys shorter than this get a warning: generated ones are 43+ characters. */
export const WEAK_KEY_LENGTH = 32;

export class AdminError extends Error {
  override name = 'AdminError';
}

/** The server-wide pepper for API keys and key tokens (created on first use, shared through the database). */
export async function loadPepper(store: Store): Promise<Buffer> {
  return Buffer.from(await store.getOrCreateSecret('pepper', () => randomBytes(32).toString('base64')), 'base64');
}

export class Admin {
  /** `events`: where revoke-device announces the revocation, so the device's push streams close on every instance at once. */
  constructor(
    private readonly store: Store,
    private readonly pepper: Buffer,
    private readonly events?: EventBus,
  ) {}

  static async open(store: Store, events?: EventBus): Promise<Admin> {
    return new Admin(store, await loadPepper(store), events);
  }

  /** @throws {AdminError} bad name, id or key, or an app with that id or key exists */
  async createApp(input: CreateAppInput): Promise<CreatedApp> {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 200) throw new AdminError('the app name must be 1 to 200 characters');
    const appId = input.appId ?? `app_${randomBytes(8).toString('hex')}`;
    if (!APP_ID.test(appId)) throw new AdminError('the app id must be 3 to 64 letters, digits, ".", "_" or "-"');
    const serverKey = input.serverKey ?? `sk_${randomToken(32)}`;
    const clientKey = input.clientKey ?? `ck_${randomToken(32)}`;
    for (const [label, key] of [['server key', serverKey], ['client key', clientKey]] as const) {
      if (!KEY.test(key)) throw new AdminError(`the ${label} must be 8 to 256 printable ASCII characters without spaces`);
    }
    if (serverKey === clientKey) throw new AdminError('the server key and the client key must differ');
    try {
      await this.store.insertApp({
        id: appId,
        name,
        serverKeyHash: keyedHash(this.pepper, serverKey),
        clientKeyHash: keyedHash(this.pepper, clientKey),
        createdAt: Date.now(),
      });
    } catch (error) {
      if ((error as Error).name === 'UniqueViolation') throw new AdminError('an app with this id or one of these keys already exists');
      throw error;
    }
    return { appId, serverKey, clientKey };
  }

  listApps(): Promise<AppSummary[]> {
    return this.store.listApps();
  }

  /** @throws {AdminError} no such app */
  async revokeApp(appId: string): Promise<void> {
    if (!(await this.store.getApp(appId))) throw new AdminError(`no app ${appId}`);
    await this.store.revokeApp(appId, Date.now());
  }

  /** @throws {AdminError} no such app */
  async listDevices(appId: string): Promise<DeviceRow[]> {
    if (!(await this.store.getApp(appId))) throw new AdminError(`no app ${appId}`);
    return this.store.listDevices(appId);
  }

  /** @throws {AdminError} no such device */
  async revokeDevice(appId: string, deviceId: string): Promise<void> {
    const device = await this.store.deviceAuth(appId, deviceId);
    if (!device) throw new AdminError(`no device ${deviceId} in app ${appId}`);
    await this.store.revokeDevice(appId, deviceId, Date.now());
    // Without a bus (the CLI on SQLite, another process) the streams' periodic re-check closes them instead.
    this.events?.publish({ appId, users: [device.userId] }, { type: 'device-revoked', deviceId });
  }

  verifyAudit(chain: string): Promise<VerifyResult> {
    return new AuditLog(this.store).verify(chain);
  }
}
