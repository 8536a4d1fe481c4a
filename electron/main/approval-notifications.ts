/**
 * OS notification when a connected app's request arrives (the engine's
 * `approvals` event, from the push stream), while the window is not focused.
 * Clicking it shows the window, where the approval card waits.
 */
import { Notification } from 'electron';
import type { SubscribeEvents } from '../../shared/contract.js';
import type { ApprovalValue } from '../../shared/contract-approvals.js';
import { approvalNoticeText, newApprovals } from './approval-notice.js';

export interface ApprovalNotices {
  subscribe: SubscribeEvents;
  isFocused: () => boolean;
  onClick: () => void;
  /** The pending requests (approvals:list), or null when they cannot be read. */
  pending: () => Promise<ApprovalValue[] | null>;
}

export function notifyApprovals(options: ApprovalNotices): () => void {
  const announced = new Set<string>();
  let shown: Notification | null = null;
  return options.subscribe((event) => {
    if (event.type !== 'approvals' || !Notification.isSupported()) return;
    void options
      .pending()
      .then((requests) => {
        const fresh = newApprovals(requests ?? [], announced);
        const text = approvalNoticeText(fresh);
        if (!text || options.isFocused()) return;
        shown?.close();
        shown = new Notification({ ...text, silent: false });
        shown.on('click', options.onClick);
        shown.show();
      })
      .catch(() => undefined);
  });
}
