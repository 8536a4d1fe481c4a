/**
 * What openService takes and gives back. Kept apart from the modules that build the
 * service so that they and its callers (Electron, the browser bridge, the CLI) share
 * these types without importing each other.
 * @module
 */
import type { Handlers } from '../../../shared/contract.js';
import type { KdfParams } from '../crypto/pin-kdf.js';
import type { OpenedKeychain } from '../keychain/open.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { BackoffPolicy } from '../sync/backoff.js';
import type { EngineEventListener } from './events.js';
import type { FileCrypto } from './file-crypto.js';
import type { Messaging } from './messaging.js';
import type { LocalKeyService } from './local-key-service.js';

export interface ServiceOptions {
  /** The profile folder: vault.db, keychain marker/fallback file. Created if missing. */
  profileDir: string;
  /** Who calls, recorded in the audit log: 'ui', 'cli', 'webhost'. */
  actor?: string;
  /** Keychain backend: 'auto' (default: Secret Service if it answers, else the file). */
  keychain?: 'auto' | 'file' | 'secret-service';
  /** scrypt parameters for new PIN seals (tests use cheap ones); default ~250 ms. */
  kdfParams?: KdfParams;
  now?: () => number;
  /** Sync retry backoff (tests use short ones); default 1 s doubling to 5 min, full jitter. */
  syncBackoff?: BackoffPolicy;
  /** The managed policy (docs/deploy.md); default read from the OS's managed place at open. */
  policy?: LoadedPolicy;
  /** `npm start`'s key service on this computer, offered for the first registration (local-key-service.ts). */
  localKeyService?: LocalKeyService;
}

/** The options once openService has settled the policy (given, or loaded from the OS). */
export type OpenedServiceOptions = ServiceOptions & { policy: LoadedPolicy };

export interface Service {
  readonly handlers: Handlers;
  /** Streamed file sealing/opening for the CLI (paths never come from the renderer). */
  readonly files: FileCrypto;
  readonly keychain: { backend: OpenedKeychain['backend']; reason: string };
  readonly profileDir: string;
  /** Messaging and sync: the timer (start/stop), progress events, and the CLI's path-taking calls. */
  readonly messaging: Messaging;
  /**
   * The engine's events for the UI (EngineEvent, shared/contract-events.ts; what is
   * emitted when: events.ts): `events.on(listener)` returns the unsubscribe function.
   */
  readonly events: { on(listener: EngineEventListener): () => void };
  /** The same as events.on. */
  onEvent(listener: EngineEventListener): () => void;
  /**
   * Changes the idle auto-lock for this process only, not saved (`sealpost watch`
   * keeps the keys unlocked until it is stopped: 0). @throws {RangeError}
   */
  overrideAutoLock(ms: number): void;
  /** Locks (wipes in-memory keys) and closes the vault. */
  close(): void;
}
