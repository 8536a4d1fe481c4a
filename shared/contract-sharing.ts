import { z } from 'zod';
import { call, Pin } from './contract-fields.js';

/**
 * The sharing part of the IPC contract (electron/engine/service/sharing.ts,
 * docs/sharing.md): grants with roles, item sync through the key service, the
 * key service's log about an item, and the exported identity file for a second
 * desktop. Spread into `contract` in contract.ts.
 */


const Identifier = z.string().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');
const Who = z.string().min(1).max(200);
const Passphrase = z.string().min(10).max(1024);
const Base64 = z.string().max(1024 * 1024).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
export const GrantRole = z.enum(['read', 'edit']);

export const ShareGrantValue = z.object({
  userId: z.string(),
  /** Username when known, else the user id. */
  label: z.string(),
  role: GrantRole,
  /** The contact's key was verified by the owner (safety number compared). */
  verified: z.boolean(),
  grantedAt: z.string(),
  /** The key service has this grant. */
  synced: z.boolean(),
});

export const SharingValue = z.object({
  identifier: z.string(),
  role: z.enum(['owner', 'read', 'edit']),
  mine: z.boolean(),
  /** For items shared with us: who shared it (username when known) and when. */
  sharedBy: z.string().nullable(),
  sharedAt: z.string().nullable(),
  /** The owner took our access away: what we opened before stays here, newer versions do not arrive. */
  revokedAt: z.string().nullable(),
  grants: z.array(ShareGrantValue),
});

export const ItemSyncValue = z.object({
  pushed: z.number().int(),
  pulled: z.number().int(),
  conflicts: z.number().int(),
  grantsPushed: z.number().int(),
  grantsRemoved: z.number().int(),
  denied: z.number().int(),
  revoked: z.number().int(),
  /** Left for a sync with the keys unlocked (the item key was rotated while there were unsynced edits). */
  deferred: z.number().int(),
});

export const ServiceLogEntryValue = z.object({
  seq: z.number().int(),
  ts: z.string(),
  userId: z.string().nullable(),
  /** Username when known ("you" for ourselves). */
  who: z.string(),
  action: z.string(),
  result: z.string(),
  status: z.number().int(),
});

export const sharingChannels = {
  /**
   * Grants access to contacts (username or user id; unknown names are looked up
   * in the directory). A contact whose key is not verified needs
   * `confirmUnverified: true`; without it the call fails with InvalidState and
   * `details.unverified`.
   */
  'items:share': call(
    z
      .object({
        identifier: Identifier,
        to: z.array(Who).min(1).max(1000),
        role: GrantRole.default('read'),
        confirmUnverified: z.boolean().default(false),
      })
      .strict(),
    z.object({ granted: z.array(ShareGrantValue) }),
  ),
  /** Who has access and with which role; for items shared with us, who shared it and when. */
  'items:sharing': call(z.object({ identifier: Identifier }).strict(), SharingValue),
  /** Pushes items, grants and revocations, pulls own and shared-with-me items. */
  'items:sync': call(z.object({}).strict(), ItemSyncValue),
  /** The key service's log about one of our items (who read it, refused attempts), and whether its chain verifies. */
  'items:serviceLog': call(
    z.object({ identifier: Identifier, limit: z.number().int().min(1).max(1000).optional() }).strict(),
    z.object({ entries: z.array(ServiceLogEntryValue), chainOk: z.boolean().nullable() }),
  ),
  /** The identity (seed + RSA key) sealed under a passphrase, base64 (docs/format.md §Identity file). Needs the keys unlocked. */
  'identity:export': call(z.object({ passphrase: Passphrase }).strict(), z.object({ file: z.string(), did: z.string(), fingerprint: z.string() })),
  /** Restores an exported identity on a profile without one, protected by a new PIN. */
  'identity:import': call(
    z.object({ file: Base64, passphrase: Passphrase, pin: Pin }).strict(),
    z.object({ did: z.string(), fingerprint: z.string(), safetyNumber: z.string(), publicKeyPem: z.string(), rsaBits: z.number().int() }),
  ),
} as const;
