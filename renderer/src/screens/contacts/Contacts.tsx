/**
 * Contacts: the people you can write to, beside one contact's details (safety
 * number as digits and QR code, verify, acknowledge a key change). Add someone
 * by looking them up in the key service's directory (their keys are checked
 * against their signature). Reloads on the engine's `contacts` events, so a
 * key change shows at once.
 *
 * `onMessage` (from the shell): open the conversation with a contact in Chats.
 */
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { AlertTriangle, ArrowLeft, Lock, UserPlus, Users } from 'lucide-react';
import { sealpost } from '../../bridge';
import { Avatar } from '../../components/Avatar';
import { EmptyState } from '../../components/EmptyState';
import { ListPane } from '../../components/ListPane';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';
import { useRefreshOn } from '../../lib/events';
import { ContactDetails, type Contact } from './ContactDetails';
import '../chats/chats.css';

export interface ContactsProps {
  onMessage?: (target: { peer: string; name: string }) => void;
}

export function Contacts({ onMessage }: ContactsProps) {
  const [contacts, setContacts] = useState<Contact[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
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
    setSelected(r.value.userId);
    void load();
  }

  const shown = useMemo(() => {
    const f = filter.trim().toLocaleLowerCase();
    return (contacts ?? []).filter((c) => !f || c.username.toLocaleLowerCase().includes(f)).sort((a, b) => Number(b.keyChanged) - Number(a.keyChanged) || a.username.localeCompare(b.username));
  }, [contacts, filter]);
  const current = contacts?.find((c) => c.userId === selected) ?? null;

  return (
    <section className="screen contacts" aria-labelledby="contacts-title">
      <div className={`split-view${current ? ' show-detail' : ''}`}>
        <ListPane
          title="Contacts"
          titleId="contacts-title"
          search={{ label: 'Search contacts', value: filter, onChange: setFilter }}
          tools={
            <form className="toolbar add-contact" onSubmit={(e) => void lookup(e)}>
              <div className="row">
                <label className="grow">
                  Find someone by user name
                  <input value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="off" />
                </label>
                <button type="submit" disabled={busy || !username.trim()} className="add-contact-btn">
                  <UserPlus size={16} aria-hidden="true" />
                  {busy ? 'Looking up…' : 'Add contact'}
                </button>
              </div>
            </form>
          }
          error={error}
          empty={
            contacts?.length === 0 && (
              <EmptyState icon={Users} title="No contacts yet">
                Find someone by their user name above. Their keys come from the key service’s directory; compare safety numbers to verify them.
              </EmptyState>
            )
          }
        >
          <ul className="list" aria-label="Contacts">
            {shown.map((c) => (
              <li key={c.userId}>
                <button type="button" className="list-row" aria-current={c.userId === selected ? 'true' : undefined} onClick={() => setSelected(c.userId)}>
                  <Avatar name={c.username} />
                  <span className="row-main">
                    <span className="row-title">
                      <span className="truncate">{c.username}</span>
                      {c.verified && !c.keyChanged && <Lock size={13} aria-hidden="true" className="ok flex-none" />}
                      {c.keyChanged && <AlertTriangle size={14} aria-hidden="true" className="warning flex-none" />}
                    </span>
                    <span className="row-sub">{c.keyChanged ? 'Key changed: compare again' : c.verified ? 'Verified' : 'Not verified'}</span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </ListPane>
        <div className="pane-detail">
          {current ? (
            <>
              <header className="pane-header contacts-back">
                <button type="button" className="icon-btn back-btn" onClick={() => setSelected(null)} aria-label="Back to contacts">
                  <ArrowLeft size={18} aria-hidden="true" />
                </button>
                <h2 className="sr-only">Contact details</h2>
              </header>
              <div className="pane-body">
                <ContactDetails
                  key={current.userId}
                  contact={current}
                  onChange={() => void load()}
                  {...(onMessage && { onMessage: (c: Contact) => onMessage({ peer: c.userId, name: c.username }) })}
                />
              </div>
            </>
          ) : (
            <EmptyState icon={Users} title="Choose a contact">
              See their safety number, compare it with them and mark them verified.
            </EmptyState>
          )}
        </div>
      </div>
    </section>
  );
}
