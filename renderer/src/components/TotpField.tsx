/**
 * The optional "Authenticator code" field of an action the key service guards with
 * the account's two-step verification: shown when TOTP is on, or once the key
 * service asked for a code. A recovery code (XXXXX-XXXXX) is accepted as well.
 */
import { useId } from 'react';

export function TotpField({ value, onChange, show }: { value: string; onChange: (v: string) => void; show: boolean }) {
  const hint = useId();
  if (!show) return null;
  return (
    <label>
      Authenticator code
      <input
        name="totp"
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={32}
        placeholder="123 456"
        aria-describedby={hint}
        value={value}
        onChange={(e) => onChange(e.target.value.replace(/[^0-9A-Za-z\s-]/g, ''))}
      />
      <span id={hint} className="muted small">
        Two-step verification is on: the 6-digit code from your authenticator app, or a recovery code.
      </span>
    </label>
  );
}
