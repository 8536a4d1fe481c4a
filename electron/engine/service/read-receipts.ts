/**
 * Read receipts in the service (docs/sync.md "Read receipts"): the setting
 * (readReceipts:get/set; on by default, the managed policy can force it off),
 * and marking messages read with the receipts that tell their senders, in one
 * transaction. As in Signal, turning receipts off both stops ours and hides the
 * ones others send (they are still recorded, and show again when turned on).
 * Whatever the setting, our other devices learn what we read (sync/read-sync.ts).
 * @module
 */
import { z } from 'zod';
import type { Handlers } from '../../../shared/contract.js';
import { markRead } from '../vault/messages.js';
import { readSyncDigestsOf } from '../vault/read-sync.js';
import { type ReadTargetInput, toReceiptTargets, unreadIncoming } from '../vault/receipts.js';
import { getSetting, setSetting } from '../vault/settings.js';
import { queueReadSync } from '../sync/read-sync.js';
import { queueReadReceipts } from '../sync/receipts.js';
import { readRegistration } from '../sync/registration.js';
import type { MessagingContext } from './messaging-context.js';
import { run } from './messaging-results.js';

const SETTING_KEY = 'readReceipts';

/** The effective setting: the user's choice (default on), unless the managed policy forces receipts off. */
export const receiptsEnabled = (c: MessagingContext): boolean => (c.receiptsAllowed?.() ?? true) && (getSetting(c.db, SETTING_KEY, z.boolean()) ?? true);

export type { ReadTargetInput };

/**
 * Marks incoming messages read and, with receipts on, queues a receipt to each
 * sender for the ones that changed; whatever the setting, it also queues a read
 * sync to our own account so our other devices mark them read too; all in one
 * transaction. Both need the keys (they are signed) and a registration; without
 * them the messages are only marked. Returns how many changed and how many
 * receipts and read syncs were queued.
 */
export function markReadWithReceipts(c: MessagingContext, target: ReadTargetInput): { changed: number; receipts: number; readSyncs: number } {
  const keys = c.keysIfUnlocked();
  const registration = readRegistration(c.db);
  const signed = keys !== null && registration !== null;
  const send = signed && receiptsEnabled(c);
  return c.db
    .transaction(() => {
      const unread = signed ? unreadIncoming(c.db, target) : [];
      const targets = send ? toReceiptTargets(unread) : [];
      const digests = readSyncDigestsOf(unread);
      const changed = markRead(c.db, target);
      const deps = signed ? { db: c.db, keys: keys!, registration: registration!, now: c.now() } : null;
      const receipts = deps && targets.length > 0 ? queueReadReceipts(deps, targets) : 0;
      const readSyncs = deps && digests.length > 0 ? queueReadSync(deps, digests) : 0;
      return { changed, receipts, readSyncs };
    })
    .immediate();
}

export function readReceiptHandlers(c: MessagingContext): Pick<Handlers, 'readReceipts:get' | 'readReceipts:set'> {
  return {
    'readReceipts:get': () => run(() => ({ enabled: receiptsEnabled(c) })),
    'readReceipts:set': (input) =>
      run(() => {
        setSetting(c.db, SETTING_KEY, input.enabled, c.now());
        return { enabled: receiptsEnabled(c) };
      }),
  };
}
