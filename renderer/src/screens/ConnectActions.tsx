/**
 * The foot of both Connect forms (ConnectKeyService, ConnectLocal): Connect,
 * any extra buttons, "Stay local for now" on first run (not in Settings), and
 * the progress bar while registering.
 */
import type { ReactNode } from 'react';

export function ConnectActions({ busy, compact, canSubmit = true, onStayLocal, children }: { busy: boolean; compact: boolean; canSubmit?: boolean; onStayLocal: () => void; children?: ReactNode }) {
  return (
    <>
      <div className="row">
        <button type="submit" disabled={busy || !canSubmit}>
          {busy ? 'Connecting…' : 'Connect'}
        </button>
        {children}
        {!compact && (
          <button type="button" className="secondary" onClick={onStayLocal} disabled={busy}>
            Stay local for now
          </button>
        )}
      </div>
      {busy && <progress aria-label="Connecting" />}
    </>
  );
}
