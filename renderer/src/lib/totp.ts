/**
 * Whether the account's two-step verification (TOTP) is on, for the screens whose
 * key-service actions then need a current code (devices:revoke, link:claim,
 * recovery:backup, recovery:restore). The key service is the judge: when it answers
 * totp_required (or totp_invalid) the field shows as well, so a stale answer here
 * only costs one refused try.
 */
import { useEffect, useState } from 'react';
import { sealpost } from '../bridge';
import type { UiError } from '../errors';

/** A window event the Two-step verification card sends after turning TOTP on or off. */
export const TOTP_CHANGED = 'sealpost:totp-changed';

/** The key service asked for a code, or refused the one sent (its code is in the details line). */
export const totpAsked = (error: UiError | null | undefined): boolean => !!error && /\btotp_(required|invalid)\b/.test(error.details);

/** True when the account's TOTP is on; false when it is off, unknown or the device is not registered. */
export function useTotpOn(): boolean {
  const [on, setOn] = useState(false);
  useEffect(() => {
    let live = true;
    const read = () =>
      void sealpost.totp
        .status({})
        .then((r) => live && r.code === 0 && setOn(r.value.enabled))
        .catch(() => undefined); // no engine: the screen says so itself
    read();
    // Turned on or off in Settings while this screen is open.
    window.addEventListener(TOTP_CHANGED, read);
    return () => {
      live = false;
      window.removeEventListener(TOTP_CHANGED, read);
    };
  }, []);
  return on;
}

/** The typed code as sent: undefined when empty (the contract's field is optional). */
export const totpInput = (code: string): { totp?: string } => (code.trim() ? { totp: code.trim() } : {});
