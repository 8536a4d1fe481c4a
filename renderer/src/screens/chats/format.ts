/**
 * Times as a messenger shows them: the clock time today, the weekday within a
 * week, the date before that; day separators ("Today", "Yesterday", a date).
 * Conversation order matches the engine's (docs/sync.md): sent time for ours,
 * the sender's signed time for theirs, then the row id.
 */
import type { Output } from '../../../../shared/contract';

export type Message = Output<'messages:list'>[number];
export type Conversation = Output<'messages:conversations'>[number];

/** The time a message sorts and shows by. */
export const sortAt = (m: Message): number => (m.direction === 'in' ? (m.sentAt ?? m.createdAt) : m.createdAt);

/** Oldest first, ties by id: the order a conversation reads in. */
export const byConversationOrder = (a: Message, b: Message): number => sortAt(a) - sortAt(b) || a.id - b.id;

const startOfDay = (ms: number): number => {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
};

export const sameDay = (a: number, b: number): boolean => startOfDay(a) === startOfDay(b);

export function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** The full time for a tooltip and screen readers: date and seconds. */
export function fullTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A conversation row's time: 14:05 today, Tue within a week, 3 Mar otherwise. */
export function listTime(ms: number, now = Date.now()): string {
  if (sameDay(ms, now)) return clockTime(ms);
  const days = (startOfDay(now) - startOfDay(ms)) / 86_400_000;
  if (days > 0 && days < 7) return new Date(ms).toLocaleDateString(undefined, { weekday: 'short' });
  return new Date(ms).toLocaleDateString(undefined, { day: 'numeric', month: 'short', ...(new Date(ms).getFullYear() !== new Date(now).getFullYear() && { year: 'numeric' }) });
}

/** A day separator's label. */
export function dayLabel(ms: number, now = Date.now()): string {
  if (sameDay(ms, now)) return 'Today';
  if (sameDay(ms, now - 86_400_000)) return 'Yesterday';
  return new Date(ms).toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

/** The conversation's display name. */
export const nameOf = (c: { name: string | null; peer: string }): string => c.name ?? c.peer;

/** What opening a conversation of the list needs: its id, name and people. */
export const targetOf = (c: Conversation): { peer: string; name: string; members: { userId: string; name: string }[] } => ({
  peer: c.peer,
  name: nameOf(c),
  members: c.members.length > 0 ? c.members.map((m) => ({ userId: m.userId, name: m.name })) : [{ userId: c.peer, name: nameOf(c) }],
});
