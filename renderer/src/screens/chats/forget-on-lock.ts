/**
 * Drafts and image previews are plaintext in memory: when the keys lock (the
 * user, the idle timer, the OS), both are dropped. Subscribed once, when the
 * chats screen is first loaded.
 */
import { sealpost } from '../../bridge';
import { dropPreviews } from './attachment-io';
import { clearDrafts } from './drafts';

let subscribed = false;

export function forgetOnLock(): void {
  if (subscribed) return;
  subscribed = true;
  sealpost.onEvent((event) => {
    if (event.type === 'lock' && !event.unlocked) {
      clearDrafts();
      dropPreviews();
    }
  });
}
