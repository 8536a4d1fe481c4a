/**
 * The one place where the engine's typed errors become the seed's result codes
 * (design §2, docs/codes.md). Handlers throw; the service wraps every handler in
 * {@link toResult}. Messages are the errors' own, which never quote secrets
 * (PinError, CryptoError, VaultError and KeychainError promise that).
 * @module
 */
import { ResultCode, type Result, type ResultCodeValue } from '../../../shared/codes.js';
import { isCryptoError } from '../crypto/errors.js';
import { KeychainError } from '../keychain/types.js';
import { PinError, SessionLockedError } from '../session/errors.js';
import { VaultError } from '../vault/errors.js';

type FailureCode = Exclude<ResultCodeValue, 0>;

/** A failure the service itself decides on (unknown contact, no identity, ...). */
export class ServiceError extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export const ok = <T>(value: T): Result<T> => ({ code: 0, value });

function fail(code: FailureCode, message: string, details?: Record<string, unknown>): Result<never> {
  return details ? { code, message, details } : { code, message };
}

/** Maps any thrown value to a failed Result; unknown errors report only their class name. */
export function failureOf(error: unknown): Result<never> {
  if (error instanceof ServiceError) return fail(error.code, error.message, error.details);
  if (error instanceof PinError) {
    const details = { attemptsLeft: error.attemptsLeft, retryAfterMs: error.retryAfterMs, wiped: error.wiped };
    switch (error.kind) {
      case 'invalid-pin':
        return fail(ResultCode.InvalidPin, 'A PIN is 4 to 12 digits, or 0 to use no PIN.');
      case 'wrong-pin':
        return fail(ResultCode.WrongPin, `Wrong PIN. ${error.attemptsLeft ?? 0} attempts left before the keys are erased.`, details);
      case 'locked-out':
        return fail(ResultCode.LockedOut, 'Too many wrong PINs: wait before trying again.', details);
      case 'wiped':
        return fail(ResultCode.LockedOut, error.message, { ...details, wiped: true });
      case 'not-found':
        return fail(ResultCode.NoIdentity, 'No identity on this profile yet: create one first.');
      case 'exists':
        return fail(ResultCode.InvalidState, 'This profile already has an identity.');
    }
  }
  if (error instanceof SessionLockedError) return fail(ResultCode.Locked, 'Sealpost is locked: enter your PIN first.');
  if (isCryptoError(error)) {
    switch (error.kind) {
      case 'tampered':
      case 'truncated':
        return fail(ResultCode.Tampered, `The data failed its integrity check: ${error.message}`, { reason: error.kind });
      case 'wrong-key':
        return fail(ResultCode.Tampered, `Not readable with this identity's key: ${error.message}`, { reason: error.kind });
      case 'unsupported-version':
        return fail(ResultCode.UnsupportedVersion, `Made by a newer Sealpost: ${error.message}`);
      case 'bad-signature':
        return fail(ResultCode.BadSignature, `The sender's signature does not check out: ${error.message}`);
      case 'invalid-input':
        return fail(ResultCode.InvalidParameter, error.message);
    }
  }
  if (error instanceof VaultError) {
    switch (error.kind) {
      case 'not-found':
        return fail(ResultCode.NotFound, error.message);
      case 'conflict':
        return fail(ResultCode.Conflict, error.message);
      case 'invalid-input':
        return fail(ResultCode.InvalidParameter, error.message);
      default:
        return fail(ResultCode.Failed, `The local vault could not be read: ${error.message}`);
    }
  }
  if (error instanceof KeychainError) {
    return fail(ResultCode.Failed, `The keychain failed: ${error.message}`, { keychain: error.kind });
  }
  const kind = error instanceof Error ? error.name : 'Error';
  return fail(ResultCode.Failed, `Internal error (${kind}).`);
}

/** Runs `op` and returns its value as a Result, or the mapped failure. */
export async function toResult<T>(op: () => Promise<T> | T): Promise<Result<T>> {
  try {
    return ok(await op());
  } catch (error) {
    return failureOf(error);
  }
}
