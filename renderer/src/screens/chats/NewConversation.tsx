/**
 * The new-conversation dialog: pick one of your contacts (filtered as you
 * type), or look someone up in the key service's directory by user name.
 * "New group" turns the list into check boxes: two or more people start a
 * group conversation (every message goes to all of them). Opened from the
 * chat list's button and by Ctrl/Cmd+N (the shell bumps Chats'
 * `newConversationRequest`).
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Check, Lock, Search, ShieldAlert, UserPlus, Users } from 'lucide-react';
import type { Output } from '../../../../shared/contract';
import { sealpost } from '../../bridge';
import { Avatar } from '../../components/Avatar';
import { Dialog } from '../../components/Dialog';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';

type Contact = Output<'contacts:list'>[number];

/** `onPick`: one contact (a two-person conversation) or several (a group). */
export function NewConversation({ open, onClose, onPick }: { open: boolean; onClose: () => void; onPick: (people: Contact[]) => void }) {
  const [contacts, setContacts] = useState<Contact[]>([]);
  const [filter, setFilter] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  /** Group mode: the user ids ticked so far; null picks one person. */
  const [group, setGroup] = useState<string[] | null>(null);

  useEffect(() => {
    if (!open) return;
    setFilter('');
    setError(null);
    setGroup(null);
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
    if (known) return choose(known);
    setBusy(true);
    const r = await call(sealpost.contacts.lookup({ username }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    const found = r.value;
    setContacts((all) => [...all.filter((c) => c.userId !== found.userId), found]);
    setFilter('');
    choose(found);
  }

  /** One person opens at once; in group mode a person is ticked or unticked. */
  function choose(c: Contact) {
    if (group === null) return onPick([c]);
    setGroup(group.includes(c.userId) ? group.filter((id) => id !== c.userId) : [...group, c.userId]);
  }
  const ticked = group ? contacts.filter((c) => group.includes(c.userId)) : [];

  return (
    <Dialog
      open={open}
      title={group ? 'New group' : 'New conversation'}
      onClose={onClose}
      description={group ? 'Tick two or more people. Every message in the group goes to all of them.' : 'Choose a contact, or find someone by their user name.'}
    >
      <form onSubmit={(e) => void lookup(e)} className="stack">
        <div className="search-field">
          <Search size={16} aria-hidden="true" />
          <input type="search" aria-label="Contact or user name" placeholder="Name" value={filter} onChange={(e) => setFilter(e.target.value)} autoFocus autoComplete="off" />
        </div>
        {shown.length > 0 && (
          <ul className="list picker" aria-label="Contacts">
            {shown.map((c) => (
              <li key={c.userId}>
                <button
                  type="button"
                  className="list-row"
                  onClick={() => choose(c)}
                  disabled={!c.reachable}
                  {...(group && { role: 'checkbox', 'aria-checked': group.includes(c.userId) })}
                >
                  {group && <span className={`tick${group.includes(c.userId) ? ' on' : ''}`}>{group.includes(c.userId) && <Check size={14} aria-hidden="true" />}</span>}
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
        {group === null ? (
          contacts.length > 1 && (
            <button type="button" className="secondary" onClick={() => setGroup([])}>
              <Users size={16} aria-hidden="true" /> New group
            </button>
          )
        ) : (
          <div className="row row-end">
            <button type="button" className="secondary" onClick={() => setGroup(null)}>
              Back
            </button>
            <button type="button" onClick={() => onPick(ticked)} disabled={ticked.length < 2}>
              <Users size={16} aria-hidden="true" />
              {ticked.length < 2 ? 'Start group' : `Start group with ${ticked.map((c) => c.username).join(', ')}`}
            </button>
          </div>
        )}
      </form>
    </Dialog>
  );
}
