/**
 * The new-conversation dialog: pick one of your contacts (filtered as you
 * type), or look someone up in the key service's directory by user name.
 * Opened from the chat list's button and by Ctrl/Cmd+N (the shell bumps
 * Chats' `newConversationRequest`).
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Lock, Search, ShieldAlert, UserPlus } from 'lucide-react';
import type { Output } from '../../../../shared/contract';
import { sealpost } from '../../bridge';
import { Avatar } from '../../components/Avatar';
import { Dialog } from '../../components/Dialog';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';

type Contact = Output<'contacts:list'>[number];

export function NewConversation({ open, onClose, onPick }: { open: boolean; onClose: () => void; onPick: (c: Contact) => void }) {
  const [contacts, setContacts] = useState<Contact[]>([]);
  const [filter, setFilter] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    if (!open) return;
    setFilter('');
    setError(null);
    void call(sealpost.contacts.list({})).then((r) => (r.ok ? setContacts(r.value) : setError(r.error)));
  }, [open]);

  const shown = useMemo(() => {
    const f = filter.trim().toLocaleLowerCase();
    return contacts.filter((c) => !f || c.username.toLocaleLowerCase().includes(f)).sort((a, b) => a.username.localeCompare(b.username));
  }, [contacts, filter]);
  const exact = contacts.some((c) => c.username === filter.trim());

  async function lookup(event?: FormEvent) {
    event?.preventDefault();
    const username = filter.trim();
    if (!username) return;
    const known = contacts.find((c) => c.username === username);
    if (known) return onPick(known);
    setBusy(true);
    const r = await call(sealpost.contacts.lookup({ username }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    onPick(r.value);
  }

  return (
    <Dialog open={open} title="New conversation" onClose={onClose} description="Choose a contact, or find someone by their user name.">
      <form onSubmit={(e) => void lookup(e)} className="stack">
        <div className="search-field">
          <Search size={16} aria-hidden="true" />
          <input type="search" aria-label="Contact or user name" placeholder="Name" value={filter} onChange={(e) => setFilter(e.target.value)} autoFocus autoComplete="off" />
        </div>
        {shown.length > 0 && (
          <ul className="list picker" aria-label="Contacts">
            {shown.map((c) => (
              <li key={c.userId}>
                <button type="button" className="list-row" onClick={() => onPick(c)} disabled={!c.reachable}>
                  <Avatar name={c.username} size="sm" />
                  <span className="row-main">
                    <span className="row-title">
                      {c.username}
                      {c.verified && !c.keyChanged && <Lock size={13} aria-label="verified" className="ok" />}
                      {c.keyChanged && <ShieldAlert size={14} aria-label="key changed" className="warning" />}
                    </span>
                    {!c.reachable && <span className="row-sub">No inbox on the key service yet</span>}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
        {shown.length === 0 && !filter.trim() && <p className="muted">No contacts yet. Type a user name to find someone.</p>}
        {filter.trim() && !exact && (
          <button type="submit" className="secondary" disabled={busy}>
            <UserPlus size={16} aria-hidden="true" />
            {busy ? 'Looking up…' : `Find “${filter.trim()}” on the key service`}
          </button>
        )}
        {error && <ErrorBanner error={error} />}
      </form>
    </Dialog>
  );
}
