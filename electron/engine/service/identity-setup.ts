/**
 * Giving a profile its identity: a new one (identity:create), or secrets restored
 * from recovery, an identity file or a linked device. Either way the secrets are
 * sealed under the PIN in the keychain, the public identity (with a new device id)
 * is written to the vault, and the session is unlocked.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { ResultCode } from '../../../shared/codes.js';
import { toBase64 } from '../crypto/_bytes.js';
import { sealIdentityBackup } from '../crypto/backup.js';
import { fingerprint as fingerprintOf, safetyNumberForOne } from '../crypto/fingerprint.js';
import { identityFromSeed } from '../crypto/identity.js';
import { exportPublicKeyPem, generateEncryptionKeyPair, importPublicKey, publicKeyFromPrivate, publicKeySpkiDer, type RsaBits } from '../crypto/rsa.js';
import { newSeed } from '../crypto/seed.js';
import { PinVault } from '../session/pin-vault.js';
import { checkPin } from '../session/policy.js';
import type { EngineCore } from './engine-core.js';
import { encodeSecrets, readPublicIdentity, writePublicIdentity, type PublicIdentity } from './profile.js';
import { ServiceError } from './results.js';

export class IdentitySetup {
  private creating = false;

  constructor(private readonly core: EngineCore) {}

  /** A new identity: a fresh seed and RSA key pair. Refused while one is being made. */
  async create(pin: string, rsaBits: RsaBits) {
    if (this.creating) throw new ServiceError(ResultCode.InvalidState, 'An identity is being created already.');
    this.creating = true;
    try {
      return await this.createOnce(pin, rsaBits);
    } finally {
      this.creating = false;
    }
  }

  private async createOnce(pin: string, rsaBits: RsaBits) {
    checkPin(pin); // before the slow key generation
    const status = await this.core.pinVault.status();
    if (status.exists && readPublicIdentity(this.core.db) !== null) throw new ServiceError(ResultCode.InvalidState, 'This profile already has an identity.');
    const seed = newSeed();
    const rsa = await generateEncryptionKeyPair(rsaBits);
    try {
      await this.install(seed, rsa.privateKeyDer, rsa.publicKeyPem, rsaBits, pin, 'backup.create');
    } finally {
      seed.fill(0);
      rsa.privateKeyDer.fill(0);
    }
    return this.value();
  }

  /** Restored secrets become this profile's identity (recovery:restore, identity:import, linking). */
  async restore(seed: Uint8Array, rsaPrivateKeyDer: Uint8Array, pin: string, previousKeyDers: readonly Uint8Array[] = []): Promise<PublicIdentity> {
    checkPin(pin);
    const status = await this.core.pinVault.status();
    if (status.exists && readPublicIdentity(this.core.db) !== null) throw new ServiceError(ResultCode.InvalidState, 'This profile already has an identity.');
    const publicKeyPem = exportPublicKeyPem(publicKeyFromPrivate(rsaPrivateKeyDer));
    const bits = importPublicKey(publicKeyPem).asymmetricKeyDetails?.modulusLength;
    if (bits !== 2048 && bits !== 3072 && bits !== 4096) throw new ServiceError(ResultCode.InvalidParameter, 'The restored encryption key has an unsupported size.');
    await this.install(seed, rsaPrivateKeyDer, publicKeyPem, bits, pin, 'identity.restore', previousKeyDers);
    return this.core.identity();
  }

  /** What identity:get (and create, import) answer. @throws NoIdentity */
  value() {
    const id = this.core.identity();
    return { did: id.did, fingerprint: id.fingerprint, safetyNumber: safetyNumberForOne(id.fingerprint), publicKeyPem: id.rsaPublicPem, rsaBits: id.rsaBits };
  }

  /** Seals the secrets under the PIN, writes the public identity (a new device id) and unlocks. */
  private async install(
    seed: Uint8Array,
    rsaPrivateKeyDer: Uint8Array,
    rsaPublicPem: string,
    rsaBits: RsaBits,
    pin: string,
    action: 'backup.create' | 'identity.restore',
    previousKeyDers: readonly Uint8Array[] = [],
  ): Promise<void> {
    const { core } = this;
    const secrets = encodeSecrets(seed, rsaPrivateKeyDer, previousKeyDers);
    try {
      const signing = identityFromSeed(seed);
      signing.secretKey.fill(0);
      const identity: PublicIdentity = {
        version: 1,
        did: signing.did,
        signingPublicKey: Buffer.from(signing.publicKey).toString('base64url'),
        rsaPublicPem,
        rsaBits,
        fingerprint: fingerprintOf(signing.publicKey, publicKeySpkiDer(rsaPublicPem)),
        deviceId: randomBytes(16).toString('hex'),
        createdAt: core.now(),
        backup: toBase64(sealIdentityBackup(seed, rsaPrivateKeyDer, previousKeyDers)),
        // Keys rotated out before the backup was made: when is not known here.
        ...(previousKeyDers.length > 0 && {
          previousKeys: previousKeyDers.map((der) => {
            const pem = exportPublicKeyPem(publicKeyFromPrivate(der));
            return { rsaPublicPem: pem, fingerprint: fingerprintOf(signing.publicKey, publicKeySpkiDer(pem)), rotatedAt: null };
          }),
        }),
      };
      // Keychain first: a crash after it leaves a sealed record without public data,
      // which the next create replaces (engine:status reports no identity until both
      // exist; the checks above allow overwriting only such an orphan or a wiped record).
      await PinVault.create(core.keychain, { pin, secrets, overwrite: true, now: core.now, ...(core.options.kdfParams && { kdfParams: core.options.kdfParams }) });
      writePublicIdentity(core.db, identity, core.now());
      await core.record(action, null, 'ok');
    } finally {
      secrets.fill(0);
    }
    await core.session.unlock(pin);
  }
}
