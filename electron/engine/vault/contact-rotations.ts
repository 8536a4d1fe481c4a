/**
 * What we learned about a contact's signed encryption-key changes
 * (shared/key-change.ts): the chain of fingerprints their identity key linked,
 * and when their current key replaced the one we knew. Kept as a setting per
 * contact (public data: fingerprints and times), so the contacts table and its
 * migrations stay as they are.
 *
 * A rotation keeps the contact's verified state: the identity key the user
 * verified vouches for the new key. Only a change that no valid signature links
 * goes through upsertContact's changed-key alarm.
 * @module
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type Db, stmt } from './_sql.js';
import { getSetting, setSetting } from './settings.js';

const Fingerprint = z.string().regex(/^[0-9a-f]{64}$/);

export const ContactRotation = z.object({
  /** Every signed link seen, oldest first. */
  changes: z.array(z.object({ oldFingerprint: Fingerprint, newFingerprint: Fingerprint, changedAt: z.number().int() }).strict()).max(200),
  /** The last time this device moved the contact to a rotated key (ms), and from which fingerprint. */
  rotatedAt: z.number().int().nullable(),
  rotatedFrom: Fingerprint.nullable(),
});
export type ContactRotation = z.infer<typeof ContactRotation>;

const settingKey = (userId: string): string => `contactKeyChanges.${createHash('sha256').update(userId).digest('hex').slice(0, 32)}`;

export function getContactRotation(db: Db, userId: string): ContactRotation | null {
  return getSetting(db, settingKey(userId), ContactRotation) ?? null;
}

/** Merges newly seen signed links into the contact's record (known ones are kept once). */
export function recordContactKeyChanges(db: Db, userId: string, links: readonly ContactRotation['changes'][number][], rotated: { at: number; from: string } | null, now: number): ContactRotation {
  const current = getContactRotation(db, userId) ?? { changes: [], rotatedAt: null, rotatedFrom: null };
  const seen = new Set(current.changes.map((c) => `${c.oldFingerprint}>${c.newFingerprint}`));
  const changes = [...current.changes, ...links.filter((l) => !seen.has(`${l.oldFingerprint}>${l.newFingerprint}`))].slice(-200);
  const next: ContactRotation = { changes, rotatedAt: rotated?.at ?? current.rotatedAt, rotatedFrom: rotated?.from ?? current.rotatedFrom };
  setSetting(db, settingKey(userId), next, now);
  return next;
}

/** Fingerprints the contact's identity signed away from: messages signed under them are still theirs. */
export function rotatedFingerprints(db: Db, userId: string): string[] {
  return getContactRotation(db, userId)?.changes.map((c) => c.oldFingerprint) ?? [];
}

/**
 * Moves a contact to the key their identity signed a change to: new fingerprint and
 * key, the old fingerprint kept as previous; verified and key_changed stay as they were.
 */
export function applyContactRotation(db: Db, userId: string, to: { fingerprint: string; encryptionKey: string }, now: number): boolean {
  return (
    stmt(db, 'UPDATE contacts SET previous_fingerprint = fingerprint, fingerprint = ?, encryption_key = ?, updated_at = ? WHERE user_id = ?').run(
      to.fingerprint,
      to.encryptionKey,
      now,
      userId,
    ).changes > 0
  );
}
