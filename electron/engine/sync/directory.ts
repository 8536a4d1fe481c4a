/**
 * Contacts from the key service's directory (GET /v1/users/{who}), checked on
 * the client: the service is trusted to route messages, not to vouch for keys.
 * A key is used only when a signed device package names it: the package's
 * Ed25519 signature must verify with its own signingPublicKey, its did must be
 * that key's did:key, all packages must name one identity, and its fingerprint
 * must be SHA-256 over exactly those keys (docs/format.md §5). A directory that
 * swaps in its own key therefore shows up as a changed fingerprint, which
 * upsertContact flags (key_changed, verified cleared) and the UI shows loudly.
 * @module
 */
import { canonicalJson } from '../../../shared/canonical-json.js';
import { DevicePackageSchema } from '../../../shared/device-package.js';
import { didFromPublicKey, verify } from '../crypto/identity.js';
import { fingerprintOf } from '../crypto/fingerprint.js';
import { keyId } from '../crypto/rsa.js';
import type { Db } from '../vault/_sql.js';
import { type Contact, upsertContact } from '../vault/contacts.js';
import { replaceContactKeys, type ContactKey } from '../vault/sync-store.js';
import type { Directory } from './client.js';
import type { Connection } from './connection.js';
import { SyncError } from './errors.js';

export interface VerifiedKeys {
  did: string;
  /** The earliest device's identity fingerprint: what the safety number is made of. */
  fingerprint: string;
  keys: Omit<ContactKey, 'userId'>[];
}

const norm = (pem: string): string => pem.replace(/\s+/g, '');

/**
 * The keys of a directory entry that signed device packages vouch for.
 * @throws {SyncError} 'bad-response' when no device package checks out
 */
export function verifiedKeys(entry: Directory): VerifiedKeys {
  let did: string | null = null;
  const found: { fingerprint: string; pem: string; createdAt: string }[] = [];
  for (const device of entry.devices) {
    if (device.revoked) continue;
    const parsed = DevicePackageSchema.safeParse(device.package);
    if (!parsed.success) continue;
    const pkg = parsed.data;
    const spk = new Uint8Array(Buffer.from(pkg.signingPublicKey, 'base64url'));
    if (spk.length !== 32) continue;
    const { signature, ...fields } = pkg;
    const ok =
      verify(new Uint8Array(Buffer.from(signature, 'base64url')), new TextEncoder().encode(canonicalJson(fields)), spk) &&
      didFromPublicKey(spk) === pkg.did &&
      safeFingerprint(spk, pkg.encryptionPublicKey) === pkg.fingerprint;
    if (!ok) continue;
    if (did !== null && did !== pkg.did) throw new SyncError('bad-response', `The directory lists devices of two identities for ${entry.username}.`);
    did = pkg.did;
    found.push({ fingerprint: pkg.fingerprint, pem: pkg.encryptionPublicKey, createdAt: pkg.createdAt });
  }
  if (did === null || found.length === 0) throw new SyncError('bad-response', `${entry.username} has no device whose signed package checks out.`);
  found.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const keys = found.map((f) => {
    const listed = entry.encryptionKeys.find((k) => norm(k.publicKeyPem) === norm(f.pem));
    return { keyId: keyId(f.pem), publicPem: f.pem, fingerprint: f.fingerprint, inbox: listed?.inbox ?? null };
  });
  return { did, fingerprint: found[0]!.fingerprint, keys };
}

function safeFingerprint(spk: Uint8Array, pem: string): string | null {
  try {
    return fingerprintOf(spk, pem);
  } catch {
    return null;
  }
}

/**
 * Looks `who` up (username or user id), checks the keys and stores the contact.
 * @throws {SyncError} ('offline' etc.); VaultError 'conflict'
 */
export async function lookupContact(conn: Connection, db: Db, who: string, now: number): Promise<{ contact: Contact; keyChanged: boolean; keys: VerifiedKeys }> {
  const entry = await conn.call((auth) => conn.client.lookupUser(auth, who));
  const keys = verifiedKeys(entry);
  return db.transaction(() => {
    const stored = upsertContact(db, { userId: entry.userid, username: entry.username, fingerprint: keys.fingerprint, did: keys.did, encryptionKey: keys.keys[0]!.publicPem }, now);
    replaceContactKeys(db, entry.userid, keys.keys);
    return { ...stored, keys };
  })();
}
