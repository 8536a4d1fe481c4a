/**
 * What a new-message notification says. Without the opt-in (Settings, off by
 * default) only how many arrived: the notification centre keeps and shows text
 * outside the app, on the lock screen too. With it, who wrote and the start of
 * the text. Kept free of Electron so tests can check it.
 */
import type { NotificationPreview } from '../engine/service/messaging.js';

const MAX_TEXT = 140;

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > MAX_TEXT ? `${one.slice(0, MAX_TEXT - 1)}…` : one;
}

export function notificationContent(count: number, previews: NotificationPreview[] | null): { title: string; body: string } {
  const counted = count === 1 ? 'A new message arrived.' : `${count} new messages arrived.`;
  const first = previews?.[0];
  if (!first) return { title: 'Sealpost', body: counted };
  const text = clip(first.subject ? `${first.subject}: ${first.text}` : first.text);
  return { title: `Sealpost · ${first.from}`, body: count > 1 ? `${text}\n(${count} new messages)` : text };
}
