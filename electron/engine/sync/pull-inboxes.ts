/**
 * Pulls our current inbox, then the inboxes of keys we rotated out
 * (credentials.previousInboxes): a sender who has not seen our rotation yet
 * still seals to the old key and puts the message in its inbox, which we open
 * with the old key we kept (service/own-keys.ts).
 * @module
 */
import { pullInbox, type PullDeps } from './pull.js';

/** @throws {SyncError} the first failure (the current inbox is pulled first). */
export async function pullInboxes(d: PullDeps): Promise<number> {
  let pulled = await pullInbox(d);
  const previous = (await d.conn.credentials()).previousInboxes ?? [];
  for (const p of previous) {
    const before = pulled;
    pulled += await pullInbox({ ...d, ...(d.onProgress && { onProgress: (e) => d.onProgress!({ phase: 'pull', pulled: before + e.pulled }) }) }, { token: p.inbox, privateKeyHash: p.privateKeyHash });
  }
  return pulled;
}
