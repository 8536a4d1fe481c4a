/**
 * The unlocked state: the secrets opened by the PIN vault, held in memory only
 * while unlocked, zero-filled on lock. Locks after `autoLockMs` without activity
 * (default 5 min; the service calls touch() on every user-initiated call) and on
 * demand (the main process calls lock('system') on suspend / screen lock).
 *
 * Zero-filling is best effort: JavaScript gives no guarantee that no other copy
 * exists (GC moves, strings). secrets() hands out the one buffer, so lock() also
 * blanks what callers still hold; register onLock() to drop derived keys.
 * @module
 */
import { PinError, SessionLockedError } from './errors.js';
import type { PinVault } from './pin-vault.js';

/** Default idle time before auto-lock. */
export const DEFAULT_AUTO_LOCK_MS = 5 * 60_000;

export type LockReason = 'manual' | 'idle' | 'system' | 'wiped';

export interface SessionOptions {
  /** Idle ms before auto-lock; 0 = never. Default {@link DEFAULT_AUTO_LOCK_MS}. */
  autoLockMs?: number;
}

export class Session {
  private held: Uint8Array | null = null;
  private timer: NodeJS.Timeout | null = null;
  private idleMs: number;
  private readonly listeners = new Set<(reason: LockReason) => void>();
  private readonly unlockListeners = new Set<() => void>();

  /** @throws {RangeError} for a negative or non-integer autoLockMs */
  constructor(
    readonly vault: PinVault,
    options: SessionOptions = {},
  ) {
    this.idleMs = checkIdle(options.autoLockMs ?? DEFAULT_AUTO_LOCK_MS);
  }

  /**
   * Checks the PIN through the vault's attempt policy and holds the secrets.
   * An earlier unlocked state is locked first.
   * @throws {PinError} from PinVault.unlock (a 'wiped' error also locks)
   * @throws {CryptoError}, {KeychainError}
   */
  async unlock(pin: string): Promise<void> {
    let secrets: Uint8Array;
    try {
      secrets = await this.vault.unlock(pin);
    } catch (e) {
      if (e instanceof PinError && e.kind === 'wiped') this.lock('wiped');
      throw e;
    }
    this.lock('manual');
    this.held = secrets;
    this.arm();
    for (const listener of this.unlockListeners) {
      try {
        listener();
      } catch {
        // a listener failing must not undo the unlock or stop the others
      }
    }
  }

  /** Zero-fills the secrets and notifies onLock listeners; false when already locked. */
  lock(reason: LockReason = 'manual'): boolean {
    this.disarm();
    const held = this.held;
    if (!held) return false;
    held.fill(0);
    this.held = null;
    for (const listener of this.listeners) {
      try {
        listener(reason);
      } catch {
        // a listener failing must not keep the session unlocked or stop the others
      }
    }
    return true;
  }

  isUnlocked(): boolean {
    return this.held !== null;
  }

  /**
   * The unlocked secrets (the session's own buffer: do not keep it past a lock).
   * @throws {SessionLockedError}
   */
  secrets(): Uint8Array {
    if (!this.held) throw new SessionLockedError();
    return this.held;
  }

  /** Records activity: restarts the idle timer when unlocked. */
  touch(): void {
    if (this.held) this.arm();
  }

  get autoLockMs(): number {
    return this.idleMs;
  }

  /**
   * Changes the idle time (0 = never) and restarts the timer.
   * @throws {RangeError}
   */
  setAutoLockMs(ms: number): void {
    this.idleMs = checkIdle(ms);
    if (this.held) this.arm();
  }

  /** Calls `listener` after every lock (with why). Returns the unsubscribe function. */
  onLock(listener: (reason: LockReason) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener` after every successful unlock. Returns the unsubscribe function. */
  onUnlock(listener: () => void): () => void {
    this.unlockListeners.add(listener);
    return () => this.unlockListeners.delete(listener);
  }

  private arm(): void {
    this.disarm();
    if (this.idleMs === 0) return;
    this.timer = setTimeout(() => this.lock('idle'), this.idleMs);
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function checkIdle(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > 2 ** 31 - 1) throw new RangeError('autoLockMs must be an integer 0..2^31-1 ms');
  return ms;
}
