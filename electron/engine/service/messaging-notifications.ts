/**
 * What desktop notifications may show: the user's opt-in to message text
 * (notifications:get/set), narrowed by the managed policy, and the previews of
 * the newest unread messages when both allow it.
 * @module
 */
import { z } from 'zod';
import type { Handlers } from '../../../shared/contract.js';
import { listMessages } from '../vault/messages.js';
import { getSetting, setSetting } from '../vault/settings.js';
import { messageValue } from './message-value.js';
import { withMessageKey } from './message-key.js';
import type { MessagingContext } from './messaging-context.js';
import { run } from './messaging-results.js';

const NOTIFY_TEXT_KEY = 'notifyShowText';

/** What a notification may show about one new message (only with the opt-in). */
export interface NotificationPreview {
  from: string;
  subject: string | null;
  text: string;
}

type NotificationChannels = 'notifications:get' | 'notifications:set';

/** True when notifications may show message text. */
function showText(c: MessagingContext): boolean {
  // The managed policy can force message text out of notifications (notificationPreviews: off).
  return (getSetting(c.db, NOTIFY_TEXT_KEY, z.boolean()) ?? false) && (c.previewsAllowed?.() ?? true);
}

/**
 * For the desktop notification: the newest unread incoming messages' sender,
 * subject and text, only when the user opted in and the keys are unlocked
 * (read without touching the idle timer, so notifications never keep the app
 * unlocked). Otherwise null: the notification then says only how many arrived.
 */
export function notificationPreview(c: MessagingContext, limit = 3): NotificationPreview[] | null {
  if (!showText(c)) return null;
  const keys = c.keysIfUnlocked();
  if (!keys) return null;
  return withMessageKey(keys, (key) => {
    const out: NotificationPreview[] = [];
    for (const m of listMessages(c.db, { limit: 200 })) {
      if (m.direction !== 'in' || m.read) continue;
      const v = messageValue(c.db, m, key, { showRead: false }); // incoming only: no read state
      if (v.text === null || v.sender === 'rejected') continue;
      out.push({ from: `${v.peerName ?? v.peer}${v.sender === 'verified' ? '' : ' (not verified)'}`, subject: v.subject, text: v.text });
      if (out.length >= limit) break;
    }
    return out;
  });
}

export function notificationHandlers(c: MessagingContext): Pick<Handlers, NotificationChannels> {
  return {
    'notifications:get': () => run(() => ({ showText: showText(c) })),
    'notifications:set': (input) =>
      run(() => {
        setSetting(c.db, NOTIFY_TEXT_KEY, input.showText, c.now());
        return { showText: showText(c) };
      }),
  };
}
