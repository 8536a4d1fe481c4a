/**
 * Encryption-key rotation (docs/security.md "Key rotation"): a new RSA key of the
 * same size becomes the one others seal to; the old one is kept (sealed under
 * the PIN with the rest of the secrets, and in every backup) so what was sealed
 * to it, stored or still arriving, keeps opening. The identity key signs the
 * change (shared/key-change.ts) so contacts see a rotation, not a swapped key.
 *
 * Order, so that a crash or an outage loses nothing:
 *  1. new key + signed change; secrets (new key first, old keys after) sealed under
 *     the PIN in the keychain: from here on both keys open messages;
 *  2. the public identity (new key, fingerprint, backup, the change marked pending);
 *  3. publish: an inbox for the new key (the old inbox moves to previousInboxes and
 *     is still pulled), then the signed change; the pending mark is cleared.
 * A crash between 1 and 2 is repaired by the next sync that reaches the key service
 * while unlocked, or the next rotation (the keychain is authoritative); a failure in 3 leaves the change pending: the next sync that
 * reaches the key service publishes it (publishPending), and so does the next
 * `keys:rotate`, instead of making yet another key.
 * @module
 */
import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { ResultCode } from '../../../shared/codes.js';
import type { Output } from '../../../shared/contract.js';
import { KeyChangeSchema, type KeyChange } from '../../../shared/key-change.js';
import { toBase64 } from '../crypto/_bytes.js';
import { sealIdentityBackup } from '../crypto/backup.js';
import { safetyNumberForOne } from '../crypto/fingerprint.js';
import { signKeyChange } from '../crypto/key-change.js';
import type { KdfParams } from '../crypto/pin-kdf.js';
import { exportPublicKeyPem, generateEncryptionKeyPair, keyId, privateKeyHash, publicKeyFromPrivate, type RsaBits } from '../crypto/rsa.js';
import type { Keychain } from '../keychain/types.js';
import { PinVault } from '../session/pin-vault.js';
import type { Connection } from '../sync/connection.js';
import { updateCredentials } from '../sync/credentials.js';
import { isSyncError } from '../sync/errors.js';
import type { Db } from '../vault/_sql.js';
import { syncFailure } from './messaging.js';
import { encodeSecrets, writePublicIdentity, type PublicIdentity } from './profile.js';
import { ServiceError } from './results.js';
import type { UnlockedKeys } from './unlocked-keys.js';

export interface RotationDeps {
  db: Db;
  keychain: Keychain;
  now: () => number;
  kdfParams?: KdfParams;
  identity(): PublicIdentity;
  unlocked(): UnlockedKeys;
  /** Whether the keys are unlocked (no throw, no idle-timer touch). */
  isUnlocked(): boolean;
  /** Checks the PIN (attempt policy) and unlocks; after a rotation, loads the new secrets. */
  unlock(pin: string): Promise<void>;
  /** The key-service connection, rebuilt after the credentials changed; null when unregistered. */
  connection(fresh?: boolean): Connection | null;
  /** The recovery backup holds the keys: deposit it again (or flag it as needing it). */
  refreshRecovery(pin: string): Promise<void>;
  /** The new key's size from the current one (the managed policy's minRsaBits may raise it); default the same. */
  newKeyBits?: (current: RsaBits) => RsaBits;
}

const KeyChangeAccepted = z.object({ did: z.string(), fingerprint: z.string(), changes: z.number().int() });

export class Rotation {
  private running = false;

  constructor(private readonly d: RotationDeps) {}

  /** keys:rotate. @throws ServiceError, PinError, CryptoError, KeychainError */
  async rotate(pin: string): Promise<Output<'keys:rotate'>> {
    if (this.running) throw new ServiceError(ResultCode.InvalidState, 'A key rotation is running already.');
    this.running = true;
    try {
      this.d.identity();
      if (!this.d.connection()) throw new ServiceError(ResultCode.DeviceUnregistered, 'Register this device with a key service first: contacts learn the new key from it.');
      await this.d.unlock(pin);
      this.repair();
      const madeKey = !this.d.identity().pendingKeyChange;
      if (madeKey) await this.rotateLocally(pin);
      const published = await this.publish();
      // The stored recovery backup lacks the new key: renewed now, or flagged for renewal.
      if (madeKey) await this.d.refreshRecovery(pin);
      const id = this.d.identity();
      const change = id.pendingKeyChange ?? null;
      const last = id.previousKeys?.[0];
      return {
        fingerprint: id.fingerprint,
        safetyNumber: safetyNumberForOne(id.fingerprint),
        previousFingerprint: change?.oldFingerprint ?? last?.fingerprint ?? id.fingerprint,
        changedAt: change ? Date.parse(change.changedAt) : (last?.rotatedAt ?? this.d.now()),
        published,
        previousKeys: id.previousKeys?.length ?? 0,
      };
    } finally {
      this.running = false;
    }
  }

  /**
   * Publishes a rotation made while the key service could not be reached; run
   * by a sync that reached it. False when none is pending, the keys are locked,
   * or it still cannot be published (it stays pending).
   */
  async publishPending(): Promise<boolean> {
    if (this.running || !this.d.isUnlocked()) return false;
    this.running = true;
    try {
      // A crash mid-rotation (keychain ahead of the public identity) is repaired here
      // too, so it is published without waiting for the user to rotate again.
      this.repair();
      if (!this.d.identity().pendingKeyChange) return false;
      return await this.publish();
    } finally {
      this.running = false;
    }
  }

  /** Steps 1-2: the new key sealed with the old ones, then the public identity. */
  private async rotateLocally(pin: string): Promise<void> {
    const keys = this.d.unlocked();
    const id = this.d.identity();
    const bits = this.d.newKeyBits?.(id.rsaBits as RsaBits) ?? (id.rsaBits as RsaBits);
    const fresh = await generateEncryptionKeyPair(bits);
    const previousDers = [keys.rsaPrivateKeyDer, ...keys.previousKeys.map((k) => k.rsaPrivateKeyDer)];
    let next: PublicIdentity;
    const secrets = encodeSecrets(keys.seed, fresh.privateKeyDer, previousDers);
    try {
      const changedAt = this.d.now();
      const change = signKeyChange(keys.identity.secretKey, { oldFingerprint: id.fingerprint, newPublicKey: fresh.publicKeyPem, changedAt });
      next = this.advanced(id, change, toBase64(sealIdentityBackup(keys.seed, fresh.privateKeyDer, previousDers)), changedAt);
      await PinVault.create(this.d.keychain, { pin, secrets, overwrite: true, now: this.d.now, ...(this.d.kdfParams && { kdfParams: this.d.kdfParams }) });
    } finally {
      secrets.fill(0);
      fresh.privateKeyDer.fill(0);
    }
    writePublicIdentity(this.d.db, next, this.d.now());
    // The session still holds the old secrets: load the new ones (the PIN was just checked).
    await this.d.unlock(pin);
  }

  /** The public identity after a change to `change.newPublicKey`. */
  private advanced(id: PublicIdentity, change: KeyChange, backup: string, rotatedAt: number): PublicIdentity {
    return {
      ...id,
      rsaPublicPem: change.newPublicKey,
      rsaBits: createPublicKey(change.newPublicKey).asymmetricKeyDetails?.modulusLength ?? id.rsaBits,
      fingerprint: change.newFingerprint,
      backup,
      previousKeys: [{ rsaPublicPem: id.rsaPublicPem, fingerprint: id.fingerprint, rotatedAt }, ...(id.previousKeys ?? [])].slice(0, 64),
      pendingKeyChange: change,
    };
  }

  /**
   * A crash after the keychain got the new key but before the public identity did:
   * the keychain decides (it is what opens messages), and the change is signed again.
   */
  private repair(): void {
    const keys = this.d.unlocked();
    const id = this.d.identity();
    if (keys.keyId === keyId(id.rsaPublicPem)) return;
    if (!keys.previousKeys.some((k) => k.keyId === keyId(id.rsaPublicPem))) {
      throw new ServiceError(ResultCode.InvalidState, 'The sealed keys do not belong to this profile\'s public identity: restore the identity.');
    }
    const now = this.d.now();
    const change = signKeyChange(keys.identity.secretKey, { oldFingerprint: id.fingerprint, newPublicKey: exportPublicKeyPem(publicKeyFromPrivate(keys.rsaPrivateKey)), changedAt: now });
    const backup = toBase64(sealIdentityBackup(keys.seed, keys.rsaPrivateKeyDer, keys.previousKeys.map((k) => k.rsaPrivateKeyDer)));
    writePublicIdentity(this.d.db, this.advanced(id, change, backup, now), now);
  }

  /**
   * Step 3. True once the key service holds the change; false when it cannot be
   * reached (the change stays pending). @throws ServiceError when it refuses
   */
  private async publish(): Promise<boolean> {
    const id = this.d.identity();
    const change = id.pendingKeyChange;
    if (!change) return true;
    try {
      const keys = this.d.unlocked();
      let conn = this.d.connection()!;
      const pkh = privateKeyHash(keys.rsaPrivateKeyDer);
      const creds = await conn.credentials();
      if (creds.privateKeyHash !== pkh) {
        const inbox = await conn.call((auth) => conn.client.createInbox(auth, { publicKeyPem: id.rsaPublicPem, privateKeyHash: pkh, publish: true }));
        const old = creds.inbox && creds.privateKeyHash ? [{ inbox: creds.inbox, privateKeyHash: creds.privateKeyHash }] : [];
        await updateCredentials(this.d.keychain, { inbox, privateKeyHash: pkh, previousInboxes: [...old, ...(creds.previousInboxes ?? [])].slice(0, 64) });
        conn = this.d.connection(true)!;
      }
      await this.postChange(conn, change);
    } catch (e) {
      if (isSyncError(e) && e.transient) return false;
      throw isSyncError(e) ? syncFailure(e) : e;
    }
    const { pendingKeyChange: _published, ...rest } = this.d.identity();
    writePublicIdentity(this.d.db, rest, this.d.now());
    return true;
  }

  /** POST the change; one the service already holds (a retry after a lost answer) counts as published. */
  private async postChange(conn: Connection, change: KeyChange): Promise<void> {
    try {
      await conn.call((auth) => conn.client.request('POST', '/v1/users/me/key-changes', { auth, body: { keyChange: change }, schema: KeyChangeAccepted }));
    } catch (e) {
      if (!isSyncError(e) || e.extra.code !== 'stale_key_change') throw e;
      const entry = await conn.call((auth) => conn.client.lookupUser(auth, conn.registration.userId));
      const held = (entry.keyChanges ?? []).some((k) => KeyChangeSchema.safeParse(k).data?.signature === change.signature);
      if (!held) throw e;
    }
  }
}
