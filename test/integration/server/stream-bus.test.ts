/**
 * The push stream's pure parts: NOTIFY payload packing (under PostgreSQL's
 * 8000-byte limit, own echo skipped, malformed input ignored) and how
 * delivered events are split (at most 100 clientIds, and small enough for one
 * payload each).
 */
import { describe, expect, it } from 'vitest';
import { StreamEvent } from '../../../shared/stream-wire.js';
import { LocalEventBus, type BusMessage } from '../../../server/stream/bus.js';
import { MAX_PAYLOAD_BYTES, packPayloads, splitAudience, unpackPayload } from '../../../server/stream/pg-bus.js';
import { inboxTag, publishDelivered } from '../../../server/stream/publish.js';

const message = (i: number): BusMessage => ({ to: { appId: 'app', users: [`user-${i}`] }, event: { type: 'message', inbox: 'a'.repeat(16), messageId: i + 1 } });

describe('NOTIFY payloads', () => {
  it('packs many messages into few payloads, each under the limit, and unpacks them on another instance', () => {
    const messages = Array.from({ length: 1000 }, (_, i) => message(i));
    const payloads = packPayloads('me', messages, () => expect.fail('nothing is too big'));
    expect(payloads.length).toBeGreaterThan(1);
    expect(payloads.length).toBeLessThan(30);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(payloads.flatMap((p) => unpackPayload('other', p)!)).toEqual(messages);
  });

  it('skips its own echo, and ignores malformed payloads and messages', () => {
    const [payload] = packPayloads('me', [message(1)], () => undefined);
    expect(unpackPayload('me', payload!)).toBeNull();
    expect(unpackPayload('x', 'not json')).toBeNull();
    expect(unpackPayload('x', '{"o":"y","m":"no"}')).toBeNull();
    const mixed = JSON.stringify({ o: 'y', m: [message(2), { to: { appId: 'a' }, event: { type: 'message', inbox: 'XYZ', messageId: 1 } }, { to: {}, event: {} }] });
    expect(unpackPayload('x', mixed)).toEqual([message(2)]);
  });

  it('splits a long audience so every part fits a payload; drops (and reports) what cannot fit', () => {
    const users = Array.from({ length: 900 }, (_, i) => `user-with-a-long-id-${i}`);
    const huge: BusMessage = { to: { appId: 'app', users, devices: ['d1'] }, event: { type: 'item', item: 'x'.repeat(200) } };
    const dropped: BusMessage[] = [];
    expect(packPayloads('me', [huge, message(1)], (m) => dropped.push(m)).length).toBe(1);
    expect(dropped).toEqual([huge]);

    const parts = splitAudience(huge);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flatMap((m) => m.to.users ?? [])).toEqual(users);
    expect(parts.flatMap((m) => m.to.devices ?? [])).toEqual(['d1']);
    for (const m of parts) expect(packPayloads('me', [m], () => expect.fail('each part fits'))).toHaveLength(1);
    expect(splitAudience({ to: { appId: 'app', everyone: true }, event: huge.event })).toHaveLength(1);
  });
});

describe('delivered events', () => {
  it('one per sender device, at most 100 clientIds and ~6 KB each; client-key sends get none', () => {
    const bus = new LocalEventBus();
    const seen: BusMessage[] = [];
    bus.subscribe((m) => seen.push(m));
    const long = (i: number) => `${String(i).padStart(4, '0')}-${'c'.repeat(123)}`;
    publishDelivered(bus, 'app', [
      ...Array.from({ length: 250 }, (_, i) => ({ sender: 'device:d1', clientId: `s${i}` })),
      ...Array.from({ length: 120 }, (_, i) => ({ sender: 'device:d2', clientId: long(i) })),
      { sender: 'client', clientId: 'from-a-client-key' },
    ]);
    const d1 = seen.filter((m) => m.to.devices?.[0] === 'd1');
    expect(d1.map((m) => (m.event.type === 'delivered' ? m.event.clientIds.length : 0))).toEqual([100, 100, 50]);
    const d2 = seen.filter((m) => m.to.devices?.[0] === 'd2');
    expect(d2.flatMap((m) => (m.event.type === 'delivered' ? m.event.clientIds : []))).toEqual(Array.from({ length: 120 }, (_, i) => long(i)));
    for (const m of seen) {
      expect(StreamEvent.safeParse(m.event).success).toBe(true);
      expect(packPayloads('me', [m], () => expect.fail('a delivered event must fit a payload'))).toHaveLength(1);
    }
    expect(seen).toHaveLength(3 + d2.length);
  });

  it('inbox tags are the first 16 hex digits of SHA-256(token)', () => {
    expect(inboxTag('abc')).toBe('ba7816bf8f01cfea');
  });
});
