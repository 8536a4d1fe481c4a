/**
 * Typed errors of the crypto engine.
 *
 * Every failure that crypto/ reports on purpose is a {@link CryptoError}; its
 * `kind` is a stable string the service layer maps once to a result code
 * (shared/codes.ts): 'tampered' -> Tampered (-420), 'unsupported-version' ->
 * UnsupportedVersion (-421), 'bad-signature' -> BadSignature (-422),
 * 'invalid-input' -> InvalidParameter (-29); 'wrong-key' and 'truncated' are
 * mapped by the caller (a wrong PIN is WrongPin, a wrong key or a truncated
 * ciphertext is Tampered). Do not rename kinds: other modules switch on them.
 *
 * Messages never contain key material or plaintext.
 * @module
 */

/** The stable failure categories. */
export type CryptoErrorKind =
  | 'tampered'
  | 'wrong-key'
  | 'truncated'
  | 'unsupported-version'
  | 'bad-signature'
  | 'invalid-input';

/** Base class: `err instanceof CryptoError` catches every deliberate crypto failure. */
export abstract class CryptoError extends Error {
  abstract readonly kind: CryptoErrorKind;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Authentication failed: a ciphertext, tag, header or padding was modified. */
export class TamperedError extends CryptoError {
  readonly kind = 'tampered' as const;
}

/** Not for this key: the key id is not listed, the key does not unwrap, or a PIN/seed is wrong. */
export class WrongKeyError extends CryptoError {
  readonly kind = 'wrong-key' as const;
}

/** The input ends before its own length fields say it should (or a final chunk is missing). */
export class TruncatedError extends CryptoError {
  readonly kind = 'truncated' as const;
}

/** A format version (or algorithm id) this build does not know. */
export class UnsupportedVersionError extends CryptoError {
  readonly kind = 'unsupported-version' as const;
}

/** A signature is missing or wrong, or what it covers does not match what arrived. */
export class BadSignatureError extends CryptoError {
  readonly kind = 'bad-signature' as const;
}

/** A caller passed something malformed: wrong length, wrong type, out of range. */
export class InvalidInputError extends CryptoError {
  readonly kind = 'invalid-input' as const;
}

/** Builds the CryptoError subclass for `kind` (used to re-create errors sent by workers). */
export function cryptoErrorOf(kind: CryptoErrorKind, message: string): CryptoError {
  switch (kind) {
    case 'tampered':
      return new TamperedError(message);
    case 'wrong-key':
      return new WrongKeyError(message);
    case 'truncated':
      return new TruncatedError(message);
    case 'unsupported-version':
      return new UnsupportedVersionError(message);
    case 'bad-signature':
      return new BadSignatureError(message);
    case 'invalid-input':
      return new InvalidInputError(message);
  }
}

/** Type guard usable across module copies (checks `kind`, not only the prototype chain). */
export function isCryptoError(e: unknown): e is CryptoError {
  if (e instanceof CryptoError) return true;
  const kind = e instanceof Error ? (e as unknown as { kind?: unknown }).kind : undefined;
  return typeof kind === 'string' && KINDS.includes(kind as CryptoErrorKind);
}

const KINDS: readonly CryptoErrorKind[] = [
  'tampered',
  'wrong-key',
  'truncated',
  'unsupported-version',
  'bad-signature',
  'invalid-input',
];
