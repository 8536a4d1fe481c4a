/**
 * The approval cards' list between refreshes (components/ApprovalCard.tsx), kept apart
 * from React so the rule is tested on its own.
 */
import type { ApprovalValue as Approval } from '../../../shared/contract-approvals.js';

export type { Approval };

export const expiry = (a: Approval): number => Date.parse(a.expiresAt);

/**
 * The next list after a refresh: what the key service lists, plus the cards already
 * shown that it stopped listing because they expired (the user dismisses those). A card
 * that went away before its expiry was decided elsewhere: it goes.
 */
export function mergeRequests(shown: Approval[], listed: Approval[], now: number): Approval[] {
  const ids = new Set(listed.map((a) => a.id));
  const expired = shown.filter((a) => !ids.has(a.id) && expiry(a) <= now);
  return [...listed, ...expired].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
}
