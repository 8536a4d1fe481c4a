/**
 * Connected apps' requests waiting for this user's decision (docs/connected-apps.md):
 * one card per request with which application asks (name, id, the fingerprint of the
 * transit key its key is sealed to), what it asks, why, when and from which address,
 * and Approve / Deny. Nothing happens without a click; an expired request cannot be
 * approved (the engine and the key service refuse it). A sign-in that named nobody is
 * claimed with the code the application's page shows.
 *
 * Self-contained on purpose (only sealpost.approvals.* and onEvent): it refreshes on the
 * engine's `approvals` event (the push stream) and `sync` (the timer's fallback).
 */
import { useCallback, useEffect, useState } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';

type Approval = Output<'approvals:list'>['requests'][number];

const WHAT: Record<Approval['kind'], string> = {
  key: 'your personal encryption key for this application',
  'sign-in': 'to sign you in',
  'sign-in+key': 'to sign you in, with your personal encryption key for this application',
};

/** How often the list is read when no event came (the stream may be down). */
const FALLBACK_MS = 10_000;

export function ApprovalCard() {
  const [requests, setRequests] = useState<Approval[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [pin, setPin] = useState('');
  const [code, setCode] = useState('');

  const reload = useCallback(async () => {
    try {
      const r = await sealpost.approvals.list({});
      // Not registered or offline: nothing to show (the sync bar says why).
      if (r.code === 0) setRequests(r.value.requests);
    } catch {
      // the bridge is gone: the app shows that elsewhere
    }
  }, []);

  useEffect(() => {
    void reload();
    const off = sealpost.onEvent((e) => {
      if (e.type === 'approvals' || e.type === 'sync') void reload();
    });
    const timer = setInterval(() => void reload(), FALLBACK_MS);
    return () => {
      off();
      clearInterval(timer);
    };
  }, [reload]);

  async function decide(id: string, approve: boolean) {
    setBusy(id);
    setError(null);
    try {
      const r = approve ? await sealpost.approvals.approve({ id, ...(pin && { pin }) }) : await sealpost.approvals.deny({ id });
      if (r.code !== 0) setError(r.message);
      else setPin('');
    } finally {
      setBusy(null);
      await reload();
    }
  }

  async function claim(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    const r = await sealpost.approvals.claim({ code });
    if (r.code !== 0) setError(r.message);
    else setCode('');
    await reload();
  }

  return (
    <section className="approvals" aria-label="Requests from connected apps" data-testid="approvals">
      {requests.map((a) => (
        <article key={a.id} className="card approval" data-testid="approval-card" data-request={a.id}>
          <h2>
            {a.app.name} asks {WHAT[a.kind]}
          </h2>
          <dl className="small">
            <dt>Application</dt>
            <dd>
              {a.app.name} <code>{a.app.id}</code>
            </dd>
            {a.app.transitKeyFingerprint && (
              <>
                <dt>Key sealed to</dt>
                <dd>
                  <code data-testid="transit-fingerprint">{a.app.transitKeyFingerprint}</code>
                </dd>
              </>
            )}
            {a.reason && (
              <>
                <dt>Reason</dt>
                <dd>{a.reason}</dd>
              </>
            )}
            {a.returnTo && (
              <>
                <dt>Returns to</dt>
                <dd>{a.returnTo}</dd>
              </>
            )}
            <dt>Asked</dt>
            <dd>
              {new Date(a.createdAt).toLocaleString()} from {a.ip}; expires {new Date(a.expiresAt).toLocaleTimeString()}
            </dd>
          </dl>
          {a.blocked && <p className="small">You stopped approvals for this application: it can only be denied.</p>}
          <label>
            PIN (if you use one)
            <input type="password" inputMode="numeric" autoComplete="current-password" maxLength={12} value={pin} onChange={(e) => setPin(e.target.value.replace(/[^0-9]/g, ''))} />
          </label>
          <div className="row">
            <button type="button" disabled={busy !== null || a.blocked} onClick={() => void decide(a.id, true)}>
              Approve
            </button>
            <button type="button" className="secondary" disabled={busy !== null} onClick={() => void decide(a.id, false)}>
              Deny
            </button>
          </div>
        </article>
      ))}
      {error && (
        <p role="alert" className="small" data-testid="approval-error">
          {error}
        </p>
      )}
      <details className="small approval-code">
        <summary>Signing in to an application with a code?</summary>
        <form onSubmit={(e) => void claim(e)}>
          <label>
            Code shown by the application
            <input value={code} maxLength={9} placeholder="ABCD-EFGH" onChange={(e) => setCode(e.target.value)} />
          </label>
          <button type="submit" className="secondary" disabled={code.trim().length < 8}>
            Continue
          </button>
        </form>
      </details>
    </section>
  );
}
