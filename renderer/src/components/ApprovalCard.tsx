/**
 * Connected apps' requests waiting for this user's decision (docs/connected-apps.md):
 * one card per request with which application asks (name, id, the fingerprint of the
 * transit key its key is sealed to), what it asks, why, when and from which address,
 * and Approve (with the PIN when one is set) / Deny. Nothing happens without a click;
 * an expired request cannot be approved (the engine and the key service refuse it).
 * A sign-in that named nobody is claimed with the code the application's page shows.
 *
 * Self-contained on purpose (only sealpost.approvals.*, engine.status and onEvent): it
 * refreshes on the engine's `approvals` event (the push stream) and `sync` (the timer's
 * fallback).
 *
 * A request that expires while shown turns into an "expired" card the user dismisses,
 * rather than vanishing on the next refresh: the key service stops listing it then, so
 * a card that simply went away would look like a decision made somewhere else.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { AppWindow, KeyRound, LogIn } from 'lucide-react';
import { sealpost } from '../bridge';
import { expiry, mergeRequests, type Approval } from '../lib/approval-list';
import { PinField } from './PinField';
import './approvals.css';

const WHAT: Record<Approval['kind'], string> = {
  key: 'for your personal encryption key for this application',
  'sign-in': 'to sign you in',
  'sign-in+key': 'to sign you in, with your personal encryption key for this application',
};

const TAGS: Record<Approval['kind'], string[]> = { key: ['Key'], 'sign-in': ['Sign-in'], 'sign-in+key': ['Sign-in', 'Key'] };

/** How often the list is read when no event came (the stream may be down). */
const FALLBACK_MS = 10_000;

/** The card of an expired request: what it was, that it cannot be approved, Dismiss. */
function ExpiredActions({ a, onDismiss }: { a: Approval; onDismiss: (id: string) => void }) {
  return (
    <div className="row approval-actions">
      <p className="notice small" data-testid="approval-expired">
        This request expired at {new Date(a.expiresAt).toLocaleTimeString()} and can no longer be approved: {a.app.name} must ask again.
      </p>
      <button type="button" className="secondary" onClick={() => onDismiss(a.id)}>
        Dismiss
      </button>
    </div>
  );
}

type RequestProps = {
  a: Approval;
  pinSet: boolean;
  busy: boolean;
  expired: boolean;
  onDecide: (id: string, approve: boolean, pin: string) => Promise<boolean>;
  onDismiss: (id: string) => void;
};

function Request({ a, pinSet, busy, expired, onDecide, onDismiss }: RequestProps) {
  const [pin, setPin] = useState('');
  const titleId = `approval-${a.id}`;
  async function decide(approve: boolean) {
    if (await onDecide(a.id, approve, pin)) setPin('');
  }
  return (
    <article className={expired ? 'panel approval approval-expired' : 'panel approval'} aria-labelledby={titleId} data-testid="approval-card" data-request={a.id}>
      <header className="panel-header">
        <AppWindow size={16} aria-hidden="true" />
        <h2 id={titleId}>
          {a.app.name} {expired ? 'asked' : 'asks'} {WHAT[a.kind]}
        </h2>
        <span className="tags">
          {TAGS[a.kind].map((t) => (
            <span key={t} className="tag tag-accent">
              {t === 'Key' ? <KeyRound size={12} aria-hidden="true" /> : <LogIn size={12} aria-hidden="true" />} {t}
            </span>
          ))}
        </span>
      </header>
      <dl className="small">
        <dt>Application</dt>
        <dd>
          {a.app.name} <span className="mono">{a.app.id}</span>
        </dd>
        {a.app.transitKeyFingerprint && (
          <>
            <dt>Key sealed to</dt>
            <dd className="mono approval-fingerprint" data-testid="transit-fingerprint">
              {a.app.transitKeyFingerprint}
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
          {new Date(a.createdAt).toLocaleString()} from <span className="mono">{a.ip}</span>; expires {new Date(a.expiresAt).toLocaleTimeString()}
        </dd>
      </dl>
      {a.blocked && !expired && <p className="notice small">You stopped approvals for this application: it can only be denied.</p>}
      {expired ? (
        <ExpiredActions a={a} onDismiss={onDismiss} />
      ) : (
        <form
          className="row approval-actions"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void decide(true);
          }}
        >
          {pinSet && <PinField label="PIN (if you use one)" value={pin} onChange={setPin} autoComplete="current-password" />}
          <button type="submit" disabled={busy || a.blocked || (pinSet && pin.length < 4)}>
            Approve
          </button>
          <button type="button" className="secondary" disabled={busy} onClick={() => void decide(false)}>
            Deny
          </button>
        </form>
      )}
    </article>
  );
}

/** Tells the request cards that a claim just made a request theirs (no need to wait for the event). */
const CLAIMED_EVENT = 'sealpost:approval-claimed';

/**
 * `requests` (above every screen): the pending requests' cards, nothing when there
 * are none. `claim` (Settings, Connected apps): the form for the code an
 * application shows when its sign-in named nobody.
 */
export function ApprovalCard({ mode = 'requests' }: { mode?: 'requests' | 'claim' }) {
  const [requests, setRequests] = useState<Approval[]>([]);
  const [pinSet, setPinSet] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [code, setCode] = useState('');
  // The clock the cards' expiry is read against: moved on at the next expiry (below).
  const [now, setNow] = useState(() => Date.now());

  const reload = useCallback(async () => {
    try {
      const r = await sealpost.approvals.list({});
      // Not registered or offline: nothing to show (the sync bar says why).
      if (r.code === 0) {
        const listed = r.value.requests;
        const at = Date.now();
        setRequests((shown) => mergeRequests(shown, listed, at));
        setNow(at);
      }
      const s = await sealpost.engine.status({});
      if (s.code === 0) setPinSet(!s.value.pinDisabled);
    } catch {
      // the bridge is gone: the app shows that elsewhere
    }
  }, []);

  useEffect(() => {
    if (mode !== 'requests') return;
    void reload();
    const off = sealpost.onEvent((e) => {
      if (e.type === 'approvals' || e.type === 'sync') void reload();
    });
    const onClaimed = () => void reload();
    window.addEventListener(CLAIMED_EVENT, onClaimed);
    const timer = setInterval(() => void reload(), FALLBACK_MS);
    return () => {
      off();
      window.removeEventListener(CLAIMED_EVENT, onClaimed);
      clearInterval(timer);
    };
  }, [reload, mode]);

  // Re-render when the next shown request expires, so its card turns "expired" on time.
  useEffect(() => {
    const next = Math.min(...requests.map(expiry).filter((t) => t > now));
    if (!Number.isFinite(next)) return;
    const timer = setTimeout(() => setNow(Date.now()), Math.min(next - Date.now(), 2 ** 31 - 1) + 50);
    return () => clearTimeout(timer);
  }, [requests, now]);

  const dismiss = useCallback((id: string) => setRequests((shown) => shown.filter((a) => a.id !== id)), []);

  async function decide(id: string, approve: boolean, pin: string): Promise<boolean> {
    setBusy(id);
    setError(null);
    try {
      const r = approve ? await sealpost.approvals.approve({ id, ...(pin && { pin }) }) : await sealpost.approvals.deny({ id });
      if (r.code !== 0) setError(r.message);
      // Decided here: the card goes now (not kept as "expired" should the refresh come late).
      else dismiss(id);
      return r.code === 0;
    } finally {
      setBusy(null);
      await reload();
    }
  }

  async function claim(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const r = await sealpost.approvals.claim({ code });
    if (r.code !== 0) setError(r.message);
    else {
      setCode('');
      window.dispatchEvent(new Event(CLAIMED_EVENT));
    }
  }

  if (mode === 'claim') {
    return (
      <div className="approval-code" data-testid="approval-claim">
        <form className="row" onSubmit={(e) => void claim(e)}>
          <label>
            Signing in to an application that shows a code? Type it here
            <input value={code} maxLength={9} placeholder="ABCD-EFGH" autoComplete="off" onChange={(e) => setCode(e.target.value)} />
          </label>
          <button type="submit" className="secondary" disabled={code.trim().length < 8}>
            Continue
          </button>
        </form>
        {error && (
          <p role="alert" className="alarm small">
            {error}
          </p>
        )}
      </div>
    );
  }
  if (requests.length === 0 && !error) return null;

  return (
    <section className="approvals" aria-label="Requests from connected apps" data-testid="approvals">
      {requests.map((a) => (
        <Request key={a.id} a={a} pinSet={pinSet} busy={busy !== null} expired={expiry(a) <= now} onDecide={decide} onDismiss={dismiss} />
      ))}
      {error && (
        <p role="alert" className="alarm small" data-testid="approval-error">
          {error}
        </p>
      )}
    </section>
  );
}
