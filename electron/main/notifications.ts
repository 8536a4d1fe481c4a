/**
 * Desktop notification when new messages arrive. It says how many, never who
 * or what: the notification centre keeps and shows text outside the app (and
 * on the lock screen), so no plaintext goes there — unless the user turned on
 * "show message text in notifications" (notifications:set, off by default);
 * then `preview` returns the newest unread messages (notification-text.ts).
 *
 * Polls sync:status (unread count) through dispatch, so it stays quiet when
 * the sync engine is not there or the profile is locked.
 */
import { Notification } from 'electron';
import { z } from 'zod';
import type { Handlers } from '../../shared/contract.js';
import { dispatch } from '../engine/dispatch.js';
import type { NotificationPreview } from '../engine/service/messaging.js';
import { notificationContent } from './notification-text.js';

const POLL_MS = 15_000;
const Unread = z.object({ code: z.literal(0), value: z.object({ unread: z.number().int().min(0) }) });

export function watchForNewMessages(handlers: Handlers, onClick: () => void, preview: () => NotificationPreview[] | null = () => null): () => void {
  let last: number | null = null;
  const timer = setInterval(() => {
    void dispatch(handlers, 'sync:status', {}).then((result) => {
      const parsed = Unread.safeParse(result);
      if (!parsed.success) return;
      const unread = parsed.data.value.unread;
      if (last !== null && unread > last && Notification.isSupported()) {
        let previews: NotificationPreview[] | null = null;
        try {
          previews = preview();
        } catch {
          previews = null; // locked or closing: the count alone
        }
        const n = new Notification({ ...notificationContent(unread - last, previews), silent: false });
        n.on('click', onClick);
        n.show();
      }
      last = unread;
    });
  }, POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
