/**
 * Following a contact's signed key changes (shared/key-change.ts) from a key a
 * signed device package vouches for to the key they use now. The directory is
 * trusted to route, not to vouch: each step must be signed by the identity the
 * device package names. A step no valid signature covers is still followed (the
 * directory says that is the key now) but marked `forged`, and the caller then
 * raises the changed-key alarm exactly as for any other unexplained key.
 * @module
 */
import { KeyChangeSchema, type KeyChange } from '../../../shared/key-change.js';
import { fingerprintOf } from '../crypto/fingerprint.js';
import { publicKeyFromDid } from '../crypto/identity.js';
import { verifyKeyChange } from '../crypto/key-change.js';

export interface ChainEnd {
  fingerprint: string;
  pem: string;
  /** The validly signed steps taken, in order. */
  signed: KeyChange[];
  /** A step taken was not signed by the identity (or not consistent). */
  forged: boolean;
}

/** The key at the end of the chain that starts at `start`. Never throws on bad input: bad steps are `forged`. */
export function followKeyChanges(did: string, start: { fingerprint: string; pem: string }, raw: readonly unknown[]): ChainEnd {
  const parsed = raw.flatMap((r) => {
    const p = KeyChangeSchema.safeParse(r);
    return p.success ? [p.data] : [];
  });
  const valid = (c: KeyChange): boolean => {
    try {
      verifyKeyChange(c, did);
      return true;
    } catch {
      return false;
    }
  };
  let identityKey: Uint8Array | null;
  try {
    identityKey = publicKeyFromDid(did);
  } catch {
    identityKey = null;
  }
  const end: ChainEnd = { fingerprint: start.fingerprint, pem: start.pem, signed: [], forged: false };
  const visited = new Set([start.fingerprint]);
  for (let i = 0; i < parsed.length; i++) {
    const from = parsed.filter((c) => c.oldFingerprint === end.fingerprint);
    if (from.length === 0) break;
    const good = from.find(valid);
    if (good) {
      end.signed.push(good);
      end.fingerprint = good.newFingerprint;
      end.pem = good.newPublicKey;
    } else {
      // Not signed by this identity: follow what the directory claims, with our own fingerprint of it.
      const claimed = from[0]!;
      let fp: string | null = null;
      try {
        fp = identityKey ? fingerprintOf(identityKey, claimed.newPublicKey) : null;
      } catch {
        fp = null;
      }
      if (fp === null) break;
      end.forged = true;
      end.fingerprint = fp;
      end.pem = claimed.newPublicKey;
    }
    if (visited.has(end.fingerprint)) break;
    visited.add(end.fingerprint);
  }
  return end;
}
