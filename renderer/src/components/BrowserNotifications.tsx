/**
 * Browser mode only: the button that lets the browser show Sealpost's
 * new-message notifications (browsers ask only from a click), and what the
 * browser currently allows. In Electron the app shows them itself.
 */
import { useState } from 'react';
import { allowWebNotifications, webNotificationState, type WebNotificationState } from '../lib/web-notifications';

const SAYS: Record<WebNotificationState, string> = {
  granted: 'This browser shows a notification when messages arrive while Sealpost is in the background.',
  default: 'This browser shows notifications only after you allow them.',
  denied: 'This browser blocks notifications from Sealpost: allow them in its settings for this page.',
  unsupported: '',
};

export function BrowserNotifications() {
  const [state, setState] = useState<WebNotificationState>(webNotificationState);
  if (state === 'unsupported') return null;
  return (
    <div className="stack">
      <p className="small" data-testid="browser-notifications">
        {SAYS[state]}
      </p>
      {state === 'default' && (
        <button type="button" className="secondary" onClick={() => void allowWebNotifications().then(setState)}>
          Allow browser notifications
        </button>
      )}
    </div>
  );
}
