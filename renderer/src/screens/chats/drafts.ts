/**
 * What the user started typing in each conversation, kept while the app runs
 * (switching conversations or screens does not lose it) and never written
 * anywhere: a draft is plaintext. Locking forgets them all.
 */
const drafts = new Map<string, string>();

export function getDraft(peer: string): string {
  return drafts.get(peer) ?? '';
}

export function setDraft(peer: string, text: string): void {
  if (text) drafts.set(peer, text);
  else drafts.delete(peer);
}

export function clearDrafts(): void {
  drafts.clear();
}
