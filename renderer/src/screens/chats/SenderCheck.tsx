/**
 * The sender check, shown once at the top of a conversation: quiet when every
 * person in it is verified, a nudge to compare safety numbers when someone is
 * not, and loud when someone's key changed. `members` are the people besides
 * us: undefined while their contacts load, null for someone who is not a
 * contact. `onDetails` opens a person's contact details.
 */
import { Lock, ShieldAlert, ShieldQuestion } from 'lucide-react';
import { KeyChangedAlarm, type Contact } from '../contacts/ContactDetails';

export type MemberContact = { userId: string; name: string; contact: Contact | null };

const listOf = (names: string[]): string => (names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`);

export function SenderCheck({ members, onDetails }: { members: MemberContact[] | undefined; onDetails: (userId: string) => void }) {
  if (members === undefined) return null;
  const strangers = members.filter((m) => !m.contact);
  const changed = members.flatMap((m) => (m.contact?.keyChanged ? [m.contact] : []));
  const unverified = members.filter((m) => m.contact && !m.contact.verified && !m.contact.keyChanged);
  const solo = members.length === 1;

  if (changed.length > 0) {
    return (
      <div className="sender-check-alarm" data-testid="sender-check">
        {changed.map((c) => (
          <KeyChangedAlarm key={c.userId} contact={c} />
        ))}
        <button type="button" className="secondary small" onClick={() => onDetails(changed[0]!.userId)}>
          Compare the safety number{changed.length > 1 ? ` with ${changed[0]!.username}` : ''}
        </button>
      </div>
    );
  }
  if (strangers.length > 0) {
    return (
      <p className="sender-check warn" data-testid="sender-check">
        <ShieldAlert size={16} aria-hidden="true" />
        <span>{solo ? 'Not a contact: who sent these could not be checked.' : `${listOf(strangers.map((m) => m.name))} ${strangers.length === 1 ? 'is' : 'are'} not a contact: their messages could not be checked.`}</span>
      </p>
    );
  }
  if (unverified.length === 0) {
    return (
      <p className="sender-check ok" data-testid="sender-check">
        <Lock size={14} aria-hidden="true" />
        <span>
          {solo ? `Verified: you compared safety numbers with ${members[0]!.name}.` : 'Verified: you compared safety numbers with everyone here.'} Messages are end-to-end encrypted.
        </span>
      </p>
    );
  }
  return (
    <p className="sender-check" data-testid="sender-check">
      <ShieldQuestion size={16} aria-hidden="true" />
      <span>
        {listOf(unverified.map((m) => m.name))} {unverified.length === 1 ? 'is' : 'are'} not verified yet.{' '}
        <button type="button" className="link" onClick={() => onDetails(unverified[0]!.userId)}>
          Compare safety numbers{unverified.length > 1 ? ` with ${unverified[0]!.name}` : ''}
        </button>
      </span>
    </p>
  );
}
