/**
 * A contact's signed key rotation as the contact value shows it (contacts:list):
 * "rotated their key on <date>" instead of the changed-key alarm.
 * @module
 */
import type { Db } from '../vault/_sql.js';
import { getContactRotation } from '../vault/contact-rotations.js';
import type { Contact } from '../vault/contacts.js';

export function rotationOf(db: Db, contact: Contact): { rotatedAt: number | null; rotatedFrom: string | null; keyChangedAt: number | null } {
  const r = getContactRotation(db, contact.userId);
  // Only while the current key is the one a signed change led to.
  const link = r?.changes.findLast((c) => c.newFingerprint === contact.fingerprint) ?? null;
  if (!r || !link || r.rotatedAt === null) return { rotatedAt: null, rotatedFrom: null, keyChangedAt: link?.changedAt ?? null };
  return { rotatedAt: r.rotatedAt, rotatedFrom: r.rotatedFrom, keyChangedAt: link.changedAt };
}
