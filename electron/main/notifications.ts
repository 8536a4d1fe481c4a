/**
 * Desktop notification when new messages arrive, driven by the engine's
 * `messages` events (no polling). Shown only while the window is not focused
 * (otherwise the open screen shows the message), and it says how many, never
 * who or what: the notification centre keeps and shows text outside the app
 * (and on the lock screen), so no plaintext goes there — unless the user
 * turned on "show message text in notifications" (notifications:set, off by
 * default); then `preview` returns the newest unread messages. A notice still
 * shown goes once nothing is unread (read here or on another of our devices).
 */
import { Notification } from 'electron';
import type { SubscribeEvents } from '../../shared/contract.js';
import { mayWithdrawNotice, newMessagesToNotify, notificationContent, type NotificationPreview } from '../../shared/notification-text.js';

export interface NewMessageNotices {
  subscribe: SubscribeEvents;
  /** True while the user looks at the window (focused). */
  isFocused: () => boolean;
  onClick: () => void;
  /** The opt-in preview, or null (opt-in off, or locked). */
  preview: () => NotificationPreview[] | null;
  /** How many incoming messages are still unread (sync:status's count); null when it cannot tell. */
  unread: () => Promise<number | null>;
}

export function notifyNewMessages(options: NewMessageNotices): () => void {
  // The last one is replaced, not stacked: a burst of events is one notice with the newest count.
  let shown: Notification | null = null;
  return options.subscribe((event) => {
    // Read here or on another of our devices: a notice about messages already seen goes.
    if (shown && mayWithdrawNotice(event)) {
      const notice = shown;
      void options.unread().then((n) => {
        // Not when a newer notice replaced it meanwhile.
        if (n === 0 && shown === notice) {
          notice.close();
          shown = null;
        }
      });
      return;
    }
    const count = newMessagesToNotify(event, options.isFocused());
    if (count === 0 || !Notification.isSupported()) return;
    let previews: NotificationPreview[] | null = null;
    try {
      previews = options.preview();
    } catch {
      previews = null; // locked or closing: the count alone
    }
    shown?.close();
    shown = new Notification({ ...notificationContent(count, previews), silent: false });
    shown.on('click', options.onClick);
    shown.show();
  });
}
