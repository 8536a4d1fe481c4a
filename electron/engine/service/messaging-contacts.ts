/**
 * The contacts handlers of the messaging contract (contacts:lookup, :list,
 * :verify, :acknowledgeKeyChange) and the contact lookups compose and the sync
 * engine need: a contact by id or name, from the directory when not known yet.
 * @module
 */
import { ResultCode } from '../../../shared/codes.js';
import type { Handlers, Output } from '../../../shared/contract.js';
import { safetyNumber } from '../crypto/fingerprint.js';
import { acknowledgeKeyChange, type Contact, getContact, getContactByUsername, listContacts, markVerified } from '../vault/contacts.js';
import { listContactKeys, markPeerMessagesVerified } from '../vault/sync-store.js';
import type { Connection } from '../sync/connection.js';
import { lookupContact } from '../sync/directory.js';
import { rotationOf } from './contact-rotation-value.js';
import type { MessagingContext } from './messaging-context.js';
import { audited, run } from './messaging-results.js';
import { ServiceError } from './results.js';

type ContactValue = Output<'contacts:list'>[number];

type ContactChannels = 'contacts:lookup' | 'contacts:list' | 'contacts:verify' | 'contacts:acknowledgeKeyChange';

export class MessagingContacts {
  /** `connection` is the sync engine's key-service connection (null when unregistered). */
  constructor(
    private readonly c: MessagingContext,
    private readonly connection: () => Connection | null,
  ) {}

  /** A contact's keys again from the directory (a key-change event); false when it is not a contact. */
  async refresh(userId: string): Promise<boolean> {
    const known = getContact(this.c.db, userId);
    const conn = this.connection();
    if (!known || !conn) return false;
    await lookupContact(conn, this.c.db, known.username, this.c.now());
    return true;
  }

  /** A contact by username; looked up in the directory when not known yet. */
  async resolve(username: string): Promise<Contact> {
    const known = getContactByUsername(this.c.db, username);
    if (known) return known;
    const conn = this.connection();
    if (!conn) throw new ServiceError(ResultCode.DeviceUnregistered, 'This device is not registered with a key service yet.');
    return (await lookupContact(conn, this.c.db, username, this.c.now())).contact;
  }

  private value(contact: Contact): ContactValue {
    const own = this.c.identity().fingerprint;
    return {
      userId: contact.userId,
      username: contact.username,
      fingerprint: contact.fingerprint,
      safetyNumber: safetyNumber(own, contact.fingerprint),
      verified: contact.verified,
      keyChanged: contact.keyChanged,
      previousFingerprint: contact.previousFingerprint,
      did: contact.did,
      reachable: listContactKeys(this.c.db, contact.userId).some((k) => k.inbox !== null),
      ...rotationOf(this.c.db, contact),
    };
  }

  private or404(userId: string): Contact {
    const c = getContact(this.c.db, userId) ?? getContactByUsername(this.c.db, userId);
    if (!c) throw new ServiceError(ResultCode.NotFound, 'No such contact.');
    return c;
  }

  handlers(): Pick<Handlers, ContactChannels> {
    const c = this.c;
    return {
      'contacts:lookup': (input) =>
        run(async () => {
          c.identity();
          const conn = this.connection();
          if (!conn) throw new ServiceError(ResultCode.DeviceUnregistered, 'This device is not registered with a key service yet.');
          const { contact } = await lookupContact(conn, c.db, input.username, c.now());
          return this.value(contact);
        }),
      'contacts:list': () => run(() => listContacts(c.db).map((x) => this.value(x))),
      'contacts:verify': (input) =>
        audited(c, 'contact.verify', input.userId, () => {
          const contact = this.or404(input.userId);
          if (!markVerified(c.db, contact.userId, input.fingerprint, c.now())) {
            throw new ServiceError(ResultCode.Conflict, "That is not the contact's current fingerprint: compare the safety number again.");
          }
          markPeerMessagesVerified(c.db, contact.userId, input.fingerprint);
          return this.value(this.or404(contact.userId));
        }),
      'contacts:acknowledgeKeyChange': (input) =>
        run(() => {
          const contact = this.or404(input.userId);
          acknowledgeKeyChange(c.db, contact.userId, c.now());
          return this.value(this.or404(contact.userId));
        }),
    };
  }
}
