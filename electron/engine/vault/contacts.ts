/**
 * Contacts: the public keys we encrypt to, with the user's verification state.
 * When a contact's fingerprint changes (new device, reinstall, or an attack),
 * upsertContact flags key_changed and clears verified, keeping the previous
 * fingerprint so the UI can say what changed; verification is bound to the
 * fingerprint the user actually compared.
 * @module
 */
import { z } from 'zod';
import { checkInput, col, type Db, input, parseRow, parseRows, stmt } from './_sql.js';
import { VaultError } from './errors.js';

export interface Contact {
  userId: string;
  username: string;
  fingerprint: string;
  did: string | null;
  /** RSA public key, SPKI PEM. */
  encryptionKey: string;
  verified: boolean;
  keyChanged: boolean;
  previousFingerprint: string | null;
  addedAt: number;
  updatedAt: number;
}

const Row = z
  .object({
    user_id: col.text,
    username: col.text,
    fingerprint: col.text,
    did: col.text.nullable(),
    encryption_key: col.text,
    verified: col.bool,
    key_changed: col.bool,
    previous_fingerprint: col.text.nullable(),
    added_at: col.ms,
    updated_at: col.ms,
  })
  .transform(
    (r): Contact => ({
      userId: r.user_id,
      username: r.username,
      fingerprint: r.fingerprint,
      did: r.did,
      encryptionKey: r.encryption_key,
      verified: r.verified,
      keyChanged: r.key_changed,
      previousFingerprint: r.previous_fingerprint,
      addedAt: r.added_at,
      updatedAt: r.updated_at,
    }),
  );

const ContactInput = z.object({
  userId: input.userId,
  username: z.string().min(1).max(200),
  fingerprint: z.string().min(1).max(200),
  did: z.string().max(2000).nullable().default(null),
  encryptionKey: z.string().min(1).max(16_384),
});
export type ContactInput = z.input<typeof ContactInput>;

/**
 * Adds or refreshes a contact from the directory. Returns the stored contact and
 * whether its key changed.
 * @throws {VaultError} 'conflict' when the username belongs to another user id; 'invalid-input'
 */
export function upsertContact(db: Db, contact: ContactInput, now: number): { contact: Contact; keyChanged: boolean } {
  const c = checkInput(ContactInput, contact, 'contact');
  return db
    .transaction(() => {
      const byName = getContactByUsername(db, c.username);
      if (byName && byName.userId !== c.userId) throw new VaultError('conflict', `username ${c.username} belongs to another contact`);
      const current = getContact(db, c.userId);
      let keyChanged = false;
      if (!current) {
        stmt(
          db,
          `INSERT INTO contacts (user_id, username, fingerprint, did, encryption_key, added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(c.userId, c.username, c.fingerprint, c.did, c.encryptionKey, now, now);
      } else {
        keyChanged = current.fingerprint !== c.fingerprint;
        stmt(
          db,
          `UPDATE contacts SET username = ?, fingerprint = ?, did = ?, encryption_key = ?, updated_at = ?,
             verified = CASE WHEN ? THEN 0 ELSE verified END,
             key_changed = CASE WHEN ? THEN 1 ELSE key_changed END,
             previous_fingerprint = CASE WHEN ? THEN fingerprint ELSE previous_fingerprint END
           WHERE user_id = ?`,
        ).run(c.username, c.fingerprint, c.did, c.encryptionKey, now, +keyChanged, +keyChanged, +keyChanged, c.userId);
      }
      return { contact: getContact(db, c.userId)!, keyChanged };
    })
    .immediate();
}

/** @throws {VaultError} 'corrupt-row' */
export function getContact(db: Db, userId: string): Contact | null {
  const row = stmt(db, 'SELECT * FROM contacts WHERE user_id = ?').get(userId);
  return row === undefined ? null : parseRow(Row, row, 'contacts');
}

/** @throws {VaultError} 'corrupt-row' */
export function getContactByUsername(db: Db, username: string): Contact | null {
  const row = stmt(db, 'SELECT * FROM contacts WHERE username = ?').get(username);
  return row === undefined ? null : parseRow(Row, row, 'contacts');
}

/** @throws {VaultError} 'corrupt-row' */
export function listContacts(db: Db): Contact[] {
  return parseRows(Row, stmt(db, 'SELECT * FROM contacts ORDER BY username').all(), 'contacts');
}

/**
 * The user compared safety numbers: verified, but only if `fingerprint` is still
 * the stored one (a key that changed meanwhile stays unverified). Clears key_changed.
 */
export function markVerified(db: Db, userId: string, fingerprint: string, now: number): boolean {
  return (
    stmt(db, 'UPDATE contacts SET verified = 1, key_changed = 0, updated_at = ? WHERE user_id = ? AND fingerprint = ?').run(now, userId, fingerprint)
      .changes > 0
  );
}

/** The user saw the key-change warning (the contact stays unverified). */
export function acknowledgeKeyChange(db: Db, userId: string, now: number): boolean {
  return stmt(db, 'UPDATE contacts SET key_changed = 0, updated_at = ? WHERE user_id = ?').run(now, userId).changes > 0;
}

export function deleteContact(db: Db, userId: string): boolean {
  return stmt(db, 'DELETE FROM contacts WHERE user_id = ?').run(userId).changes > 0;
}
