/**
 * What every part of the engine shares for one opened profile: the vault and the
 * keychain, the PIN vault and the session over it (auto-lock from the saved setting,
 * capped by the policy), the keys of the unlocked session, the audit log and the
 * event emitter. The handlers and the components (messaging, recovery, rotation,
 * linking) reach the profile's identity and keys only through here, so "no identity"
 * and "locked" are answered the same way everywhere.
 * @module
 */
import { z } from 'zod';
import { ResultCode, type Result } from '../../../shared/codes.js';
import type { OpenedKeychain } from '../keychain/open.js';
import type { LoadedPolicy } from '../policy/load.js';
import { cappedAutoLock } from '../policy/rules.js';
import { PinVault } from '../session/pin-vault.js';
import { DEFAULT_AUTO_LOCK_MS, Session } from '../session/session.js';
import { AuditLog, type AuditAction, type JsonValue } from '../vault/audit.js';
import type { Db } from '../vault/_sql.js';
import type { Vault } from '../vault/db.js';
import { getSetting } from '../vault/settings.js';
import { EngineEvents } from './events.js';
import { auditedResult, plainResult } from './handler-results.js';
import { readPublicIdentity, type PublicIdentity } from './profile.js';
import { ServiceError } from './results.js';
import type { OpenedServiceOptions } from './service-types.js';
import { KeyRing, type UnlockedKeys } from './unlocked-keys.js';

/** The vault setting that keeps the idle auto-lock chosen in the app (session:setAutoLock). */
export const AUTO_LOCK_KEY = 'autoLockMs';

const Registration = z.object({ appId: z.string(), userId: z.string(), username: z.string(), server: z.string() });

export class EngineCore {
  readonly pinVault: PinVault;
  readonly session: Session;
  readonly keys: KeyRing;
  readonly audit: AuditLog;
  readonly events = new EngineEvents();
  private readonly actor: string;

  constructor(
    readonly vault: Vault,
    readonly keychain: OpenedKeychain,
    readonly options: OpenedServiceOptions,
    readonly now: () => number,
  ) {
    this.actor = options.actor ?? 'ui';
    this.pinVault = PinVault.open(keychain, { now, ...(options.kdfParams && { kdfParams: options.kdfParams }) });
    const autoLockMs = cappedAutoLock(this.policy.values, getSetting(vault.db, AUTO_LOCK_KEY, z.number().int().min(0)) ?? DEFAULT_AUTO_LOCK_MS);
    this.session = new Session(this.pinVault, { autoLockMs });
    // Registered first on the session: the keys are dropped before anyone hears of a lock.
    this.keys = new KeyRing(this.session);
    this.audit = new AuditLog(vault.db, keychain, now);
  }

  get db(): Db {
    return this.vault.db;
  }

  get policy(): LoadedPolicy {
    return this.options.policy;
  }

  /** The public identity, or NoIdentity. */
  identity(): PublicIdentity {
    const identity = readPublicIdentity(this.db);
    if (!identity) throw new ServiceError(ResultCode.NoIdentity, 'No identity on this profile yet: create one first.');
    return identity;
  }

  /** The unlocked keys (and a touch of the idle timer), or Locked. */
  unlocked(): UnlockedKeys {
    const keys = this.keys.get(this.identity());
    this.session.touch();
    return keys;
  }

  /** The keys if the session is unlocked, else null; the idle timer is not touched (background work). */
  keysIfUnlocked(): UnlockedKeys | null {
    return this.session.isUnlocked() ? this.keys.get(this.identity()) : null;
  }

  /** What registration with a key service stored (sync/credentials.ts), or null. */
  registration() {
    return getSetting(this.db, 'registration', Registration) ?? null;
  }

  /** Records one audit entry; the entry never holds content or secrets (audit.ts redacts by key name too). */
  readonly record = async (action: AuditAction, target: string | null, result: string, details: Record<string, JsonValue> | null = null): Promise<void> => {
    await this.audit.record({ actor: this.actor, action, target, result, details });
  };

  /** Runs a key/data request and records it with its outcome, success or not. */
  audited<T>(action: AuditAction, target: string | null, op: () => Promise<T> | T): Promise<Result<T>> {
    return auditedResult((a, t, outcome) => this.record(a, t, outcome), action, target, op);
  }

  /** Runs a request that is not audited (status, lists, settings). */
  plain<T>(op: () => Promise<T> | T): Promise<Result<T>> {
    return plainResult(op);
  }
}
