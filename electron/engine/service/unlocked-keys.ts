/**
 * The keys an unlocked session works with, derived from the PIN vault's secrets
 * on first use and dropped (zero-filled where JS lets us) when the session locks.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { identityFromSeed, type Identity } from '../crypto/identity.js';
import { importPrivateKey, keyId } from '../crypto/rsa.js';
import type { Sender } from '../crypto/envelope.js';
import type { Session } from '../session/session.js';
import { decodeSecrets, type PublicIdentity } from './profile.js';

export interface UnlockedKeys {
  identity: Identity;
  /** The RSA private key as a native KeyObject (OpenSSL holds the material). */
  rsaPrivateKey: KeyObject;
  /** PKCS#8 DER: a view into the session's buffer. */
  rsaPrivateKeyDer: Uint8Array;
  /** The recovery seed: a view into the session's buffer. */
  seed: Uint8Array;
  /** Hex key id of our RSA public key (docs/format.md §4). */
  keyId: string;
  sender: Sender;
}

export class KeyRing {
  private keys: UnlockedKeys | null = null;

  constructor(private readonly session: Session) {
    session.onLock(() => this.drop());
  }

  /**
   * The unlocked keys, derived once per unlock.
   * @throws {SessionLockedError} when locked
   */
  get(identity: PublicIdentity): UnlockedKeys {
    const secrets = this.session.secrets();
    if (this.keys) return this.keys;
    const { seed, rsaPrivateKeyDer } = decodeSecrets(secrets);
    const id = identityFromSeed(seed);
    this.keys = {
      identity: id,
      rsaPrivateKey: importPrivateKey(rsaPrivateKeyDer),
      rsaPrivateKeyDer,
      seed,
      keyId: keyId(identity.rsaPublicPem),
      sender: { secretKey: id.secretKey, publicKey: id.publicKey, fingerprint: identity.fingerprint },
    };
    return this.keys;
  }

  private drop(): void {
    this.keys?.identity.secretKey.fill(0);
    this.keys = null;
  }
}
