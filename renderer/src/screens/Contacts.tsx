/**
 * Contacts: find people in the key service's directory, compare safety
 * numbers and mark them verified. A changed key is shown loudly and stays
 * unverified until the user looks at it again. The list reloads on the
 * engine's `contacts` events, so a key change shows up at once.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import { SafetyNumber } from '../components/SafetyNumber';
import type { UiError } from '../errors';
import { call } from '../lib/call';
import { useRefreshOn } from '../lib/events';

type Contact = Output<'contacts:list'>[number];

function ContactCard({ contact, onChange }: { contact: Contact; onChange: (c: Contact) => void }) {
  const [error, setError] = useState<UiError | null>(null);

  async function verify() {
    const r = await call(sealpost.contacts.verify({ userId: contact.userId, fingerprint: contact.fingerprint }));
    if (r.ok) onChange(r.value);
    else setError(r.error);
  }
  async function acknowledge() {
    const r = await call(sealpost.contacts.acknowledgeKeyChange({ userId: contact.userId }));
    if (r.ok) onChange(r.value);
    else setError(r.error);
  }

  return (
    <li className="card" aria-label={`Contact ${contact.username}`}>
      <div className="row">
        <h3 className="grow">{contact.username}</h3>
        {contact.verified ? <span className="tag tag-ok">Verified</span> : <span className="tag">Not verified</span>}
      </div>
      {contact.keyChanged && (
        <p className="alarm" role="alert">
          {contact.username}’s key changed. This can be a new device — or someone in between. Messages signed with the new key are not shown as verified until you compare
          the safety number again.
        </p>
      )}
      {!contact.keyChanged && contact.keyChangedAt != null && (
        <p className="notice" data-testid={`rotated-${contact.username}`}>
          {contact.username} rotated their key on {new Date(contact.keyChangedAt).toLocaleDateString()}. The change is signed by the identity key
          {contact.verified ? ' you verified, so they stay verified' : ' they use'}; new messages go to the new key.
        </p>
      )}
      <p className="muted small">Safety number (compare it with what {contact.username} sees for you):</p>
      <SafetyNumber value={contact.safetyNumber} testId={`safety-${contact.username}`} />
      <p className="muted small mono">Fingerprint {contact.fingerprint}</p>
      <div className="row">
        {!contact.verified && (
          <button type="button" onClick={() => void verify()}>
            The numbers match: mark verified
          </button>
        )}
        {contact.keyChanged && (
          <button type="button" className="secondary" onClick={() => void acknowledge()}>
            I have seen the key change
          </button>
        )}
      </div>
      {error && <ErrorBanner error={error} />}
    </li>
  );
}

export function Contacts() {
  const [contacts, setContacts] = useState<Contact[]>([]);
  const [username, setUsername] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  const load = useCallback(async () => {
    const r = await call(sealpost.contacts.list({}));
    if (r.ok) setContacts(r.value);
    else setError(r.error);
  }, []);

  useEffect(() => {
    void load();
  }, [load]);
  useRefreshOn('contacts', load);

  async function lookup(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    const r = await call(sealpost.contacts.lookup({ username: username.trim() }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setError(null);
    setUsername('');
    void load();
  }

  return (
    <div>
      <form className="card" onSubmit={lookup} aria-labelledby="contacts-title">
        <h2 id="contacts-title">Contacts</h2>
        <div className="row">
          <label>
            Find someone by user name
            <input value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="off" />
          </label>
          <button type="submit" disabled={busy || !username.trim()}>
            {busy ? 'Looking up…' : 'Add contact'}
          </button>
        </div>
        <p className="muted small">Their public keys come from the key service's directory, checked against their signature.</p>
        {error && <ErrorBanner error={error} />}
      </form>
      {contacts.length === 0 && <p className="muted">No contacts yet.</p>}
      <ul className="plain grid">
        {contacts.map((c) => (
          <ContactCard key={c.userId} contact={c} onChange={() => void load()} />
        ))}
      </ul>
    </div>
  );
}
