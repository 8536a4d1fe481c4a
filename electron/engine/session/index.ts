/**
 * Session: PIN rules and attempt limits, the PIN-sealed identity record, and the
 * in-memory unlocked state with auto-lock. Policy numbers: policy.ts and
 * docs/security.md "PIN limits".
 * @module
 */
export { PinError, SessionLockedError, type PinErrorKind, type PinErrorDetails } from './errors.js';
export {
  checkPin,
  isPinDisabled,
  retryAfterMs,
  delayAfter,
  attemptsLeft,
  MAX_WRONG_PINS,
  FREE_WRONG_PINS,
  LOCKOUT_DELAYS_MS,
} from './policy.js';
export { PinVault, type PinVaultOptions, type PinStatus } from './pin-vault.js';
export { Session, DEFAULT_AUTO_LOCK_MS, type SessionOptions, type LockReason } from './session.js';
