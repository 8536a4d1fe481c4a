/**
 * Contacts from the key service's directory (GET /v1/users/{who}), checked on
 * the client: the service is trusted to route messages, not to vouch for keys.
 * A key is used only when a signed device package names it: the package's
 * Ed25519 signature must verify with its own signingPublicKey, its did must be
 * that key's did:key, all packages must name one identity, and its fingerprint
 * must be SHA-256 over exactly those keys (docs/format.md §5). A directory that
 * swaps in its own key therefore shows up as a changed fingerprint, which
 * upsertContact flags (key_changed, verified cleared) and the UI shows loudly.
 *
 * A key rotated since the device package was signed is reached through the
 * identity's signed key changes (key-chain.ts). A contact whose known key is
 * linked to the new one by such a chain is moved to it quietly (verified state
 * kept) and shows "rotated their key"; any other path to a new key, including a
 * change that is not validly signed, raises the alarm as before.
 * @module
 */
import { canonicalJson } from '../../../shared/canonical-json.js';
import { DevicePackageSchema } from '../../../shared/device-package.js';
import { didFromPublicKey, publicKeyFromDid, verify } from '../crypto/identity.js';
import { fingerprintOf } from '../crypto/fingerprint.js';
import { keyId } from '../crypto/rsa.js';
import type { Db } from '../vault/_sql.js';
import { applyContactRotation, recordContactKeyChanges } from '../vault/contact-rotations.js';
import { type Contact, getContact, upsertContact } from '../vault/contacts.js';
import type { KeyChange } from '../../../shared/key-change.js';
import { followKeyChanges } from './key-chain.js';
import { replaceContactKeys, type ContactKey } from '../vault/sync-store.js';
import type { Directory } from './client.js';
import type { Connection } from './connection.js';
import { SyncError } from './errors.js';

export interface VerifiedKeys {
  did: string;
  /** The earliest device's identity fingerprint (after its key changes): what the safety number is made of. */
  fingerprint: string;
  keys: Omit<ContactKey, 'userId'>[];
  /** The earliest device's key changes followed: the signed steps, and whether one was not signed. */
  rotation: { signed: KeyChange[]; forged: boolean };
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
  const changes = entry.keyChanges ?? [];
  const ends = found.map((f) => followKeyChanges(did!, { fingerprint: f.fingerprint, pem: f.pem }, changes));
  const first = ends[0]!;
  // The directory says another key is current than the chain leads to: unexplained, so an alarm.
  const claimed = entry.currentKey?.publicKeyPem;
  if (claimed && !ends.some((e) => norm(e.pem) === norm(claimed))) {
    const fp = safeFingerprint(publicKeyFromDid(did), claimed);
    if (fp !== null) Object.assign(first, { fingerprint: fp, pem: claimed, forged: true });
  }
  const keys = [...new Map(ends.map((e) => [norm(e.pem), e])).values()].map((e) => {
    const listed = entry.encryptionKeys.find((k) => norm(k.publicKeyPem) === norm(e.pem));
    return { keyId: keyId(e.pem), publicPem: e.pem, fingerprint: e.fingerprint, inbox: listed?.inbox ?? null };
  });
  return { did, fingerprint: first.fingerprint, keys, rotation: { signed: first.signed, forged: first.forged } };
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
    const known = getContact(db, entry.userid);
    const links = keys.rotation.signed.map((c) => ({ oldFingerprint: c.oldFingerprint, newFingerprint: c.newFingerprint, changedAt: Date.parse(c.changedAt) }));
    const rotated = known !== null && !keys.rotation.forged && known.did === keys.did && known.fingerprint !== keys.fingerprint && links.some((l) => l.oldFingerprint === known.fingerprint);
    let stored: { contact: Contact; keyChanged: boolean };
    if (rotated) {
      // A rotation the contact's identity signed: no alarm, verification kept.
      upsertContact(db, { userId: entry.userid, username: entry.username, fingerprint: known.fingerprint, did: keys.did, encryptionKey: known.encryptionKey }, now);
      applyContactRotation(db, entry.userid, { fingerprint: keys.fingerprint, encryptionKey: keys.keys[0]!.publicPem }, now);
      stored = { contact: getContact(db, entry.userid)!, keyChanged: false };
    } else {
      stored = upsertContact(db, { userId: entry.userid, username: entry.username, fingerprint: keys.fingerprint, did: keys.did, encryptionKey: keys.keys[0]!.publicPem }, now);
    }
    if (links.length > 0 || rotated) recordContactKeyChanges(db, entry.userid, links, rotated ? { at: now, from: known.fingerprint } : null, now);
    replaceContactKeys(db, entry.userid, keys.keys);
    return { ...stored, keys };
  })();
}
