/**
 * PIN format and the wrong-PIN policy (docs/security.md "PIN limits").
 *
 * - A PIN is 4-12 ASCII digits, or "0", which disables the PIN: the keys are then
 *   sealed under a fixed, public string (allowed, reported as weaker).
 * - The first 5 wrong PINs can be tried back to back. From the 5th on, each wrong
 *   PIN starts a delay before the next attempt is even tried: 30 s, 1 min, 5 min,
 *   15 min, 1 h (after the 5th .. 9th). The 10th wrong PIN wipes the sealed keys.
 *   A correct PIN resets the count.
 * Pure functions: the clock is a parameter.
 * @module
 */
import { PinError } from './errors.js';

/** Wrong PINs that wipe the key material. */
export const MAX_WRONG_PINS = 10;
/** Wrong PINs that can be tried back to back before the first delay. */
export const FREE_WRONG_PINS = 5;
/** Delay after the n-th consecutive wrong PIN (index = n); 0 before the 5th. */
export const LOCKOUT_DELAYS_MS: readonly number[] = Object.freeze([
  0, 0, 0, 0, 0, // 0-4 wrong
  30_000, // after the 5th
  60_000, // 6th
  5 * 60_000, // 7th
  15 * 60_000, // 8th
  60 * 60_000, // 9th
]);

/** What "0" unlocks with: public on purpose (PIN disabled = no secret). */
export const DISABLED_PIN_SECRET = 'sealpost:no-pin:v1';

const PIN = /^[0-9]{4,12}$/;

/** True for "0", the value that disables the PIN. */
export const isPinDisabled = (pin: string): boolean => pin === '0';

/**
 * @throws {PinError} 'invalid-pin' unless `pin` is 4-12 ASCII digits or "0"
 */
export function checkPin(pin: unknown): string {
  if (typeof pin !== 'string' || !(pin === '0' || PIN.test(pin))) {
    throw new PinError('invalid-pin', 'a PIN is 4-12 digits (or "0" to disable it)');
  }
  return pin;
}

/** The string that is actually handed to the KDF. */
export const kdfPin = (pin: string): string => (isPinDisabled(pin) ? DISABLED_PIN_SECRET : pin);

/** Delay that starts with the `failures`-th consecutive wrong PIN. */
export const delayAfter = (failures: number): number => LOCKOUT_DELAYS_MS[Math.min(failures, LOCKOUT_DELAYS_MS.length - 1)] ?? 0;

/**
 * Milliseconds until the next attempt may run. A clock set back does not extend the
 * wait beyond the delay itself (elapsed time is clamped at 0).
 */
export function retryAfterMs(failures: number, lastFailureAt: number | null, now: number): number {
  if (lastFailureAt === null) return 0;
  const delay = delayAfter(failures);
  const elapsed = Math.max(0, now - lastFailureAt);
  return Math.max(0, delay - elapsed);
}

export const attemptsLeft = (failures: number): number => Math.max(0, MAX_WRONG_PINS - failures);
