/**
 * Typed failures of the local vault. The service maps them once to result codes:
 * 'not-found' -> NotFound (-404), 'conflict' -> Conflict (-409), 'invalid-input' ->
 * InvalidParameter (-29), 'newer-schema' / 'corrupt-row' -> Failed (-1).
 * @module
 */
export type VaultErrorKind = 'not-found' | 'conflict' | 'invalid-input' | 'newer-schema' | 'corrupt-row';

export class VaultError extends Error {
  constructor(
    readonly kind: VaultErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VaultError';
  }
}
