/**
 * What a new-message notification says, in Electron (electron/main/notifications.ts)
 * and in browser mode (renderer/src/lib/web-notifications.ts). Without the
 * opt-in (Settings, off by default) only how many arrived: the notification
 * centre keeps and shows text outside the app, on the lock screen too. With
 * it, who wrote and the start of the text. Free of Electron and the DOM so
 * tests can check it.
 */
import type { EngineEvent } from './contract-events.js';

/** What a notification may show about one new message (only with the opt-in). */
export interface NotificationPreview {
  from: string;
  subject: string | null;
  text: string;
}

export interface NotificationContent {
  title: string;
  body: string;
}

const MAX_TEXT = 140;

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > MAX_TEXT ? `${one.slice(0, MAX_TEXT - 1)}…` : one;
}

export function notificationContent(count: number, previews: NotificationPreview[] | null): NotificationContent {
  const counted = count === 1 ? 'A new message arrived.' : `${count} new messages arrived.`;
  const first = previews?.[0];
  if (!first) return { title: 'Sealpost', body: counted };
  const text = clip(first.subject ? `${first.subject}: ${first.text}` : first.text);
  return { title: `Sealpost · ${first.from}`, body: count > 1 ? `${text}\n(${count} new messages)` : text };
}

/**
 * How many messages an engine event says arrived, when they call for a
 * notification: received ones only (not state changes of our own), and only
 * while the user is not looking at the app (then the open screen shows them).
 */
export function newMessagesToNotify(event: EngineEvent, userIsLooking: boolean): number {
  if (event.type !== 'messages' || event.received === 0 || userIsLooking) return 0;
  return event.received;
}

/**
 * Whether an engine event may have left nothing unread: messages changed state
 * and none arrived (read here, or on another of our devices by a read sync).
 * Then a new-message notice still on screen is withdrawn if nothing is unread
 * any more, as the user has seen what it announced.
 */
export function mayWithdrawNotice(event: EngineEvent): boolean {
  return event.type === 'messages' && event.received === 0 && event.changed > 0;
}
