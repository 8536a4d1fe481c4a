/**
 * What the messaging handlers need from the engine (messaging.ts and its parts:
 * contacts, attachments, notifications). Its own module so the parts share it
 * without importing messaging.ts.
 * @module
 */
import type { Result } from '../../../shared/codes.js';
import type { EngineEvent } from '../../../shared/contract-events.js';
import type { DevicePackage } from '../../../shared/device-package.js';
import type { Keychain } from '../keychain/types.js';
import type { AuditAction, JsonValue } from '../vault/audit.js';
import type { Db } from '../vault/_sql.js';
import type { BackoffPolicy } from '../sync/backoff.js';
import type { PublicIdentity } from './profile.js';
import type { UnlockedKeys } from './unlocked-keys.js';

export interface MessagingContext {
  /** False when the managed policy turns message text in notifications off. */
  previewsAllowed?: () => boolean;
  /** False when the managed policy turns read receipts off. */
  receiptsAllowed?: () => boolean;
  db: Db;
  keychain: Keychain;
  profileDir: string;
  now(): number;
  identity(): PublicIdentity;
  /** @throws SessionLockedError */
  unlocked(): UnlockedKeys;
  /** The keys when unlocked, else null (no throw, no idle-timer touch). */
  keysIfUnlocked(): UnlockedKeys | null;
  /** The signed device package (keys unlocked). */
  devicePackage(): DevicePackage;
  record(action: AuditAction, target: string | null, result: string, details?: Record<string, JsonValue> | null): Promise<void>;
  backoff?: BackoffPolicy;
  /** items:sync (joins a running one), run by the sync scheduler after the messages. */
  syncItems?: () => Promise<Result<unknown>>;
  /** The engine's events for the UI (events.ts). */
  emit?: (event: EngineEvent) => void;
}
