/**
 * The organisation's policy requires two-step verification (requireTotp) and the
 * account does not have it yet: a banner in the unlocked shell, with no way to
 * dismiss it, that leads to Settings until it is on. Read from `totp:status`
 * (which carries `required`), again on sync events and when the Settings card
 * turns TOTP on or off (TOTP_CHANGED).
 */
import { useCallback, useEffect, useState } from 'react';
import { ShieldAlert } from 'lucide-react';
import { sealpost } from '../bridge';
import { useRefreshOn } from '../lib/events';
import { TOTP_CHANGED } from '../lib/totp';

export function TotpRequiredBanner({ onOpen }: { onOpen: () => void }) {
  const [show, setShow] = useState(false);

  const load = useCallback(async () => {
    try {
      const r = await sealpost.totp.status({});
      // Not registered or offline: nothing is known to be missing yet.
      if (r.code === 0) setShow(r.value.required && !r.value.enabled);
    } catch {
      // the bridge is gone: the app shows that elsewhere
    }
  }, []);

  useEffect(() => {
    void load();
    const onChange = () => void load();
    window.addEventListener(TOTP_CHANGED, onChange);
    return () => window.removeEventListener(TOTP_CHANGED, onChange);
  }, [load]);
  useRefreshOn('sync', load);

  if (!show) return null;
  return (
    <div className="banner-slot">
      <div className="notice row" role="status" data-testid="totp-required">
        <ShieldAlert size={16} aria-hidden="true" />
        <span>Your organization requires two-step verification for your account. Turn it on with an authenticator app.</span>
        <button type="button" className="small" onClick={onOpen}>
          Set it up
        </button>
      </div>
    </div>
  );
}
