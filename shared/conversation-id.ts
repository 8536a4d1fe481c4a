/**
 * The name of a conversation, computed the same way by the engine (filing a
 * message) and the UI (opening a group before its first message): the other
 * person's user id for two people, or `group:` + the first 128 bits of the
 * SHA-256 of the others' user ids, sorted and joined by newlines. Every device
 * of the same account arrives at the same name for the same people.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

export const GROUP_PREFIX = 'group:';

export const isGroupId = (id: string): boolean => id.startsWith(GROUP_PREFIX);

/** `others`: everyone in the conversation but us (any order, repeats allowed; at least one). */
export function conversationId(others: readonly string[]): string {
  const ids = [...new Set(others)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (ids.length === 1) return ids[0]!;
  return `${GROUP_PREFIX}${bytesToHex(sha256(utf8ToBytes(ids.join('\n')))).slice(0, 32)}`;
}
