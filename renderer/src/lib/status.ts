/** The engine's status as the screens read it, and how it is put into words. */
import type { Output } from '../../../shared/contract';

export type Status = Output<'engine:status'>;

/** Where the keys are kept (a file with no PIN protects nothing by itself, so it says so). */
export function keysKeptIn(status: Status): string {
  if (status.keychainBackend === 'secret-service') return 'the system keychain';
  return status.hasIdentity && status.pinDisabled ? 'a file, without a PIN' : 'a PIN-protected file';
}
