/**
 * Who can open an item, for its owner (docs/sharing.md): share with a contact
 * as read or edit (the item key is wrapped for their public key; a key the
 * user has not verified needs an explicit confirmation), revoke (the item key
 * is rotated, so they cannot open any version saved after that — but what
 * they already opened, they may keep), and the key service's log of who
 * fetched the item or was refused. Changes go to the key service at once when
 * it can be reached, else with the next sync.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { Output } from '../../../../shared/contract';
import { ResultCode } from '../../../../shared/codes';
import { sealpost } from '../../bridge';
import { ErrorBanner } from '../../components/ErrorBanner';
import { describeError, type UiError } from '../../errors';
import { call } from '../../lib/call';

type Sharing = Output<'items:sharing'>;
type Grant = Sharing['grants'][number];
type Log = Output<'items:serviceLog'>;
type Role = 'read' | 'edit';

/** Pushes the change now when possible; offline it waits for the next sync (not an error). */
async function pushNow(): Promise<boolean> {
  const r = await call(sealpost.items.sync({}));
  return r.ok;
}

export function SharingPanel({ identifier, onChanged }: { identifier: string; onChanged: () => void }) {
  const [contacts, setContacts] = useState<string[]>([]);
  const [sharing, setSharing] = useState<Sharing | null>(null);
  const [who, setWho] = useState('');
  const [role, setRole] = useState<Role>('read');
  const [unverified, setUnverified] = useState<string[] | null>(null);
  const [revoking, setRevoking] = useState<Grant | null>(null);
  const [log, setLog] = useState<Log | null>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  const load = useCallback(async () => {
    const r = await call(sealpost.items.sharing({ identifier }));
    if (r.ok) setSharing(r.value);
    else setError(r.error);
  }, [identifier]);

  useEffect(() => {
    void load();
    void call(sealpost.contacts.list({})).then((r) => r.ok && setContacts(r.value.map((c) => c.username)));
  }, [load]);

  async function share(confirmUnverified: boolean) {
    const name = who.trim();
    setBusy(true);
    setNote(null);
    const raw = await sealpost.items.share({ identifier, to: [name], role, confirmUnverified }).catch(() => null);
    if (raw && raw.code === ResultCode.InvalidState && Array.isArray(raw.details?.unverified)) {
      // Ask first: the directory vouches for the key, only a compared safety number rules out a lying directory.
      setBusy(false);
      setUnverified(raw.details.unverified as string[]);
      return;
    }
    setUnverified(null);
    if (!raw || raw.code !== 0) {
      setBusy(false);
      return setError(raw ? describeError(raw) : { text: 'The Sealpost engine is not reachable.', details: 'Failed (-1)' });
    }
    const synced = await pushNow();
    setBusy(false);
    setError(null);
    setNote(`Shared with ${name} (${role === 'edit' ? 'can edit' : 'read only'}).${synced ? '' : ' It reaches them after the next sync.'}`);
    setWho('');
    onChanged();
    void load();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void share(false);
  }

  async function revoke(g: Grant) {
    setBusy(true);
    setNote(null);
    const r = await call(sealpost.items.revoke({ identifier, userIds: [g.userId] }));
    if (!r.ok) {
      setBusy(false);
      return setError(r.error);
    }
    const synced = await pushNow();
    setBusy(false);
    setRevoking(null);
    setError(null);
    setNote(
      `${g.label} can no longer open this item from version ${r.value.version} on (the item key was replaced). ` +
        `They may keep what they already opened.${synced ? '' : ' The key service is told at the next sync.'}`,
    );
    onChanged();
    void load();
  }

  async function showLog() {
    const r = await call(sealpost.items.serviceLog({ identifier }));
    if (r.ok) setLog(r.value);
    else setError(r.error);
  }

  return (
    <div className="stack" aria-label="Sharing">
      <h3>Who has access</h3>
      <ul className="plain" aria-label="People with access">
        <li className="row">
          <span>You (owner)</span>
        </li>
        {sharing?.grants.map((g) => (
          <li key={g.userId} className="row">
            <span>
              {g.label} · {g.role === 'edit' ? 'can edit' : 'read only'}
              {!g.verified && <span className="tag">key not verified</span>}
              {!g.synced && <span className="tag">not synced</span>}
            </span>
            <button type="button" className="danger" onClick={() => setRevoking(g)} disabled={busy} aria-label={`Revoke access for ${g.label}`}>
              Revoke
            </button>
          </li>
        ))}
      </ul>
      {revoking && (
        <div className="confirm" role="alertdialog" aria-labelledby="revoke-q">
          <p id="revoke-q">
            Revoke {revoking.label}’s access? The item is re-encrypted under a new key, so they cannot open any version saved after this.{' '}
            <strong>They may keep what they already opened</strong> — copies, saved files, what they remember. Revoking cannot take those back.
          </p>
          <div className="row">
            <button type="button" className="danger" onClick={() => void revoke(revoking)} disabled={busy} autoFocus>
              Revoke access
            </button>
            <button type="button" className="secondary" onClick={() => setRevoking(null)}>
              Keep access
            </button>
          </div>
        </div>
      )}
      <form className="row row-bottom" onSubmit={submit}>
        <label>
          Share with (a user name)
          <input value={who} onChange={(e) => setWho(e.target.value)} list="share-contacts" required />
          <datalist id="share-contacts">
            {contacts.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value === 'edit' ? 'edit' : 'read')}>
            <option value="read">Read only</option>
            <option value="edit">Read and edit</option>
          </select>
        </label>
        <button type="submit" disabled={busy || !who.trim()}>
          Share
        </button>
      </form>
      {unverified && (
        <div className="confirm" role="alertdialog" aria-labelledby="unverified-q">
          <p id="unverified-q">
            You have not verified {unverified.join(', ')}’s key. If the directory handed you someone else’s key, that person could read this item. Compare safety
            numbers in Contacts first, or share anyway.
          </p>
          <div className="row">
            <button type="button" className="danger" onClick={() => void share(true)} disabled={busy}>
              Share with an unverified key
            </button>
            <button type="button" className="secondary" onClick={() => setUnverified(null)} autoFocus>
              Cancel
            </button>
          </div>
        </div>
      )}
      {note && (
        <p className="ok" role="status">
          {note}
        </p>
      )}
      {error && <ErrorBanner error={error} />}
      <div className="row">
        <button type="button" className="secondary" onClick={() => void showLog()}>
          Key service log
        </button>
      </div>
      {log && (
        <div aria-label="Key service log">
          {log.chainOk === false && (
            <p className="alarm" role="alert">
              The key service’s audit chain does not verify: its log may have been altered. Do not rely on it, and tell whoever runs the key service.
            </p>
          )}
          {log.entries.length === 0 ? (
            <p className="muted">No entries about this item yet.</p>
          ) : (
            <ul className="plain small">
              {log.entries.map((e) => (
                <li key={e.seq}>
                  {new Date(e.ts).toLocaleString()} · {e.who} · {e.action} · {e.status >= 400 ? <strong>refused ({e.status})</strong> : e.result}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
