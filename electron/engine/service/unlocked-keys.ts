/**
 * The keys an unlocked session works with, derived from the PIN vault's secrets
 * on first use and dropped (zero-filled where JS lets us) when the session locks.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { identityFromSeed, type Identity } from '../crypto/identity.js';
import { importPrivateKey, keyId, publicKeyFromPrivate } from '../crypto/rsa.js';
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
  /** Keys rotated out, newest first: they still open what was sealed to them. */
  previousKeys: PreviousKey[];
  sender: Sender;
}

export interface PreviousKey {
  keyId: string;
  rsaPrivateKey: KeyObject;
  /** PKCS#8 DER: a view into the session's buffer. */
  rsaPrivateKeyDer: Uint8Array;
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
    const { seed, rsaPrivateKeyDer, previousKeyDers } = decodeSecrets(secrets);
    const id = identityFromSeed(seed);
    const rsaPrivateKey = importPrivateKey(rsaPrivateKeyDer);
    this.keys = {
      identity: id,
      rsaPrivateKey,
      rsaPrivateKeyDer,
      seed,
      // From the private key itself: the sealed secrets are what opens messages, even
      // if a crash mid-rotation left the public identity one key behind (rotation.ts repairs it).
      keyId: keyId(publicKeyFromPrivate(rsaPrivateKey)),
      previousKeys: previousKeyDers.map((der) => {
        const privateKey = importPrivateKey(der);
        return { keyId: keyId(publicKeyFromPrivate(privateKey)), rsaPrivateKey: privateKey, rsaPrivateKeyDer: der };
      }),
      sender: { secretKey: id.secretKey, publicKey: id.publicKey, fingerprint: identity.fingerprint },
    };
    return this.keys;
  }

  private drop(): void {
    this.keys?.identity.secretKey.fill(0);
    this.keys = null;
  }
}
