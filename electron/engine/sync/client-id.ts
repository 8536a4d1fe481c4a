/**
 * The id an outbox entry carries so the key service stores a retried send once.
 *
 *   m-<48-bit send time in ms, 12 hex digits><80 random bits, 20 hex digits>
 *
 * Time first, like UUIDv7 (RFC 9562 §6.10): the key service keeps a unique
 * index on (key, clientId), and ids that grow with time are added at the end
 * of that index instead of at a random leaf, so a commit of many sends writes
 * a few index pages rather than one per send. The random part keeps ids from
 * different devices (and the same millisecond) apart; 80 bits make a clash
 * within one millisecond negligible. Only uniqueness is relied on, never the
 * time (a clock set back still gives distinct ids).
 * @module
 */
import { randomBytes } from 'node:crypto';

const TIME_DIGITS = 12;

/** Length of the part after the time: 80 bits as hex. */
export const CLIENT_ID_SUFFIX_DIGITS = 20;

/** `m-` and the send time: the part of an id that orders it. */
export function clientIdTimePrefix(now: number = Date.now()): string {
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('clientId time must be a non-negative whole number of ms');
  return `m-${now.toString(16).padStart(TIME_DIGITS, '0').slice(-TIME_DIGITS)}`;
}

export function newClientId(now: number = Date.now()): string {
  return `${clientIdTimePrefix(now)}${randomBytes(CLIENT_ID_SUFFIX_DIGITS / 2).toString('hex')}`;
}
