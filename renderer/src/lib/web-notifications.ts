/**
 * Browser mode's new-message notifications (in Electron the main process shows
 * them). Browsers ask the user first, and only from a click: Settings has the
 * button (allowWebNotifications). Shown on the engine's `messages` event while
 * the page is hidden or not focused; they say how many arrived, and who wrote
 * and what only when the user turned previews on (notifications:get), exactly
 * as the desktop's (shared/notification-text.ts). A notice still shown goes
 * once nothing is unread (read here or on another of our devices).
 */
import { mayWithdrawNotice, newMessagesToNotify, notificationContent, type NotificationPreview } from '../../../shared/notification-text';
import { browserMode, sealpost } from '../bridge';
import { call } from './call';
import { useEngineEvent } from './events';

export type WebNotificationState = NotificationPermission | 'unsupported';

export function webNotificationState(): WebNotificationState {
  return browserMode && typeof Notification !== 'undefined' ? Notification.permission : 'unsupported';
}

/** Asks the browser for permission; call it from a click (browsers refuse otherwise). */
export async function allowWebNotifications(): Promise<WebNotificationState> {
  if (webNotificationState() === 'unsupported') return 'unsupported';
  return Notification.requestPermission();
}

const userIsLooking = () => document.visibilityState === 'visible' && document.hasFocus();

/** The opt-in preview: the newest unread messages that opened and checked out, or null. */
async function previews(): Promise<NotificationPreview[] | null> {
  const settings = await call(sealpost.notifications.get({}));
  if (!settings.ok || !settings.value.showText) return null;
  const unread = await call(sealpost.messages.list({ unreadOnly: true, limit: 3 }));
  if (!unread.ok) return null;
  return unread.value.flatMap((m) =>
    m.direction === 'in' && m.text !== null && m.sender !== 'rejected'
      ? [{ from: `${m.peerName ?? m.peer}${m.sender === 'verified' ? '' : ' (not verified)'}`, subject: m.subject, text: m.text }]
      : [],
  );
}

/** The notice on screen (one tag: a burst replaces it), so it can be withdrawn. */
let shown: Notification | null = null;

/** Withdraws `notice` once nothing is unread (read here or on another of our devices), unless a newer one replaced it. */
async function withdrawIfAllRead(notice: Notification): Promise<void> {
  const status = await call(sealpost.sync.status({}));
  if (status.ok && status.value.unread === 0 && shown === notice) {
    notice.close();
    shown = null;
  }
}

/** Mounted once (App): notifies on new messages while the page is in the background. */
export function useWebNotifications(): void {
  useEngineEvent('messages', (event) => {
    if (webNotificationState() !== 'granted') return;
    if (shown && mayWithdrawNotice(event)) {
      void withdrawIfAllRead(shown);
      return;
    }
    const count = newMessagesToNotify(event, userIsLooking());
    if (count === 0) return;
    void previews().then((p) => {
      const content = notificationContent(count, p);
      // One tag: a burst replaces the notice instead of stacking them.
      const notice = new Notification(content.title, { body: content.body, tag: 'sealpost-new-messages' });
      shown = notice;
      notice.onclick = () => {
        window.focus();
        notice.close();
      };
      notice.onclose = () => {
        if (shown === notice) shown = null;
      };
    });
  });
}
