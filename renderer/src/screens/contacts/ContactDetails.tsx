/**
 * One contact: who they are, whether you compared safety numbers, the number
 * as digits and as a QR code, and the actions — mark verified when the numbers
 * match, acknowledge a key change. A changed key is said loudly. Used by the
 * Contacts screen and from a conversation's header.
 */
import { useState } from 'react';
import { Lock, MessageSquare, ShieldAlert, ShieldCheck, ShieldQuestion } from 'lucide-react';
import type { Output } from '../../../../shared/contract';
import { sealpost } from '../../bridge';
import { Avatar } from '../../components/Avatar';
import { ErrorBanner } from '../../components/ErrorBanner';
import { SafetyNumber } from '../../components/SafetyNumber';
import type { UiError } from '../../errors';
import { call, type Outcome } from '../../lib/call';
import { SafetyQr } from './SafetyQr';

export type Contact = Output<'contacts:list'>[number];

export function ContactStatus({ contact }: { contact: Contact }) {
  if (contact.keyChanged)
    return (
      <span className="tag tag-alarm">
        <ShieldAlert size={14} aria-hidden="true" /> Key changed
      </span>
    );
  if (contact.verified)
    return (
      <span className="tag tag-ok">
        <ShieldCheck size={14} aria-hidden="true" /> Verified
      </span>
    );
  return (
    <span className="tag">
      <ShieldQuestion size={14} aria-hidden="true" /> Not verified
    </span>
  );
}

/** The loud warning of a changed key, with the way out. */
export function KeyChangedAlarm({ contact }: { contact: Contact }) {
  return (
    <div className="alarm stack-sm" role="alert">
      <strong>
        <ShieldAlert size={16} aria-hidden="true" /> {contact.username}’s key changed.
      </strong>
      <span>
        This can be a new device — or someone in between. Messages signed with the new key are not shown as verified until you compare the safety number again.
      </span>
    </div>
  );
}

export function ContactDetails({ contact, onChange, onMessage }: { contact: Contact; onChange: (c: Contact) => void; onMessage?: (c: Contact) => void }) {
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function act(pending: () => Promise<Outcome<Contact>>) {
    setBusy(true);
    const r = await pending();
    setBusy(false);
    if (r.ok) {
      setError(null);
      onChange(r.value);
    } else setError(r.error);
  }
  const verify = () => act(() => call(sealpost.contacts.verify({ userId: contact.userId, fingerprint: contact.fingerprint })));
  const acknowledge = () => act(() => call(sealpost.contacts.acknowledgeKeyChange({ userId: contact.userId })));

  return (
    <div className="contact-details stack" aria-label={`Contact ${contact.username}`} role="group">
      <div className="contact-head">
        <Avatar name={contact.username} size="lg" />
        <div className="stack-sm grow">
          <h2 className="contact-name">{contact.username}</h2>
          <div className="row">
            <ContactStatus contact={contact} />
            {!contact.reachable && <span className="tag tag-warn">No inbox yet</span>}
          </div>
        </div>
        {onMessage && contact.reachable && (
          <button type="button" className="secondary" onClick={() => onMessage(contact)}>
            <MessageSquare size={16} aria-hidden="true" /> Message
          </button>
        )}
      </div>
      {contact.keyChanged && <KeyChangedAlarm contact={contact} />}
      {!contact.keyChanged && contact.keyChangedAt != null && (
        <p className="notice" data-testid={`rotated-${contact.username}`}>
          {contact.username} rotated their key on {new Date(contact.keyChangedAt).toLocaleDateString()}. The change is signed by the identity key
          {contact.verified ? ' you verified, so they stay verified' : ' they use'}; new messages go to the new key.
        </p>
      )}
      <section className="panel safety-panel" aria-labelledby={`safety-title-${contact.userId}`}>
        <h3 id={`safety-title-${contact.userId}`}>
          <Lock size={16} aria-hidden="true" /> Safety number
        </h3>
        <p className="muted small">
          Compare it with what {contact.username} sees for you — in person (scan the code) or on a call. If every digit matches, nobody is in between.
        </p>
        <div className="safety-compare">
          <SafetyNumber value={contact.safetyNumber} testId={`safety-${contact.username}`} />
          <SafetyQr value={contact.safetyNumber} label={`QR code of the safety number with ${contact.username}`} />
        </div>
        <p className="muted xsmall mono fingerprint">Fingerprint {contact.fingerprint}</p>
        <div className="row">
          {!contact.verified && (
            <button type="button" onClick={() => void verify()} disabled={busy}>
              The numbers match: mark verified
            </button>
          )}
          {contact.keyChanged && (
            <button type="button" className="secondary" onClick={() => void acknowledge()} disabled={busy}>
              I have seen the key change
            </button>
          )}
        </div>
      </section>
      {error && <ErrorBanner error={error} />}
    </div>
  );
}
