/**
 * Who can open an item: grant it to a contact (IDENTOS grantAccess wraps the
 * item key for their public key) and revoke (the item key is rotated, so they
 * cannot open any version saved after that).
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { Output } from '../../../../shared/contract';
import { sealpost } from '../../bridge';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';

type Grantee = Output<'items:access'>[number];

export function SharingPanel({ identifier, onChanged }: { identifier: string; onChanged: () => void }) {
  const [contacts, setContacts] = useState<string[]>([]);
  const [grantees, setGrantees] = useState<Grantee[]>([]);
  const [who, setWho] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  const load = useCallback(async () => {
    const r = await call(sealpost.items.access({ identifier }));
    if (r.ok) setGrantees(r.value);
    else setError(r.error);
  }, [identifier]);

  useEffect(() => {
    void load();
    void call(sealpost.contacts.list({})).then((r) => r.ok && setContacts(r.value.map((c) => c.username)));
  }, [load]);

  async function grant(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setNote(null);
    const r = await call(sealpost.vault.grantAccess({ identifier, userIds: [who.trim()] }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setError(null);
    setNote(`Shared with ${who.trim()}.`);
    setWho('');
    onChanged();
    void load();
  }

  async function revoke(g: Grantee) {
    setBusy(true);
    setNote(null);
    const r = await call(sealpost.items.revoke({ identifier, userIds: [g.grantee] }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setError(null);
    setNote(`${g.label} can no longer open new versions (the item key was replaced; now version ${r.value.version}).`);
    onChanged();
    void load();
  }

  return (
    <div className="subpanel" aria-label="Sharing">
      <h3>Who has access</h3>
      <ul className="plain">
        {grantees.map((g) => (
          <li key={g.grantee} className="row">
            <span>
              {g.label}
              {g.owner ? ' (owner)' : ''}
            </span>
            {!g.owner && (
              <button type="button" className="danger" onClick={() => void revoke(g)} disabled={busy} aria-label={`Revoke access for ${g.label}`}>
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
      <form className="row" onSubmit={grant}>
        <label>
          Share with (a contact's user name)
          <input value={who} onChange={(e) => setWho(e.target.value)} list="share-contacts" required />
          <datalist id="share-contacts">
            {contacts.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </label>
        <button type="submit" disabled={busy || !who.trim()}>
          Share
        </button>
      </form>
      {note && (
        <p className="ok" role="status">
          {note}
        </p>
      )}
      {error && <ErrorBanner error={error} />}
    </div>
  );
}
