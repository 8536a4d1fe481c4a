/**
 * What `register` and `restore` print when the key service shows that this
 * identity rotated past the key this profile holds (device:register's
 * newerKey): messages sealed to the newer key cannot be read here.
 */
import type { NewerKey } from '../../shared/contract-messaging.js';

export function newerKeyWarning(newerKey: NewerKey | null): string | null {
  if (newerKey === null) return null;
  return (
    `Warning: your identity moved to a newer encryption key on ${newerKey.changedAt} (fingerprint ${newerKey.fingerprint}) that this profile does not have.\n` +
    'Messages sealed to it are read on the devices that have it, not here. Set this profile up from an identity file exported after that date, or link it to such a device.\n'
  );
}
