/**
 * Typed failures of the PIN vault and the session. The service maps each kind once
 * to a result code (shared/codes.ts): 'invalid-pin' -> InvalidPin (-101),
 * 'wrong-pin' -> WrongPin (-102, details.attemptsLeft), 'locked-out' -> LockedOut
 * (-103, details.retryAfterMs), 'wiped' -> LockedOut (-103, details.wiped: true),
 * 'not-found' -> NoIdentity (-51), 'exists' -> InvalidState (-2); a
 * {@link SessionLockedError} -> Locked (-104). Messages never contain a PIN.
 * @module
 */

export type PinErrorKind = 'invalid-pin' | 'wrong-pin' | 'locked-out' | 'wiped' | 'not-found' | 'exists';

export interface PinErrorDetails {
  /** Wrong PINs still allowed before the key material is wiped. */
  attemptsLeft?: number;
  /** Milliseconds until the next attempt is accepted (0 = now). */
  retryAfterMs?: number;
  /** True once the key material was erased (recovery needed). */
  wiped?: boolean;
}

export class PinError extends Error {
  readonly attemptsLeft: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly wiped: boolean;

  constructor(
    readonly kind: PinErrorKind,
    message: string,
    details: PinErrorDetails = {},
  ) {
    super(message);
    this.name = 'PinError';
    this.attemptsLeft = details.attemptsLeft;
    this.retryAfterMs = details.retryAfterMs;
    this.wiped = details.wiped ?? kind === 'wiped';
  }
}

/** The session holds no secrets: unlock first. */
export class SessionLockedError extends Error {
  readonly kind = 'locked' as const;
  constructor(message = 'the session is locked') {
    super(message);
    this.name = 'SessionLockedError';
  }
}
