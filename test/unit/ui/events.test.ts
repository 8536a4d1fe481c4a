/**
 * The UI event plumbing that needs no transport: buildApi's onEvent (used by
 * the Electron preload and the browser bridge alike) checks events against
 * the schema and unsubscribes; newMessagesToNotify decides when a new-message
 * notification is due (Electron and browser mode share it).
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../../shared/contract-events.js';
import { buildApi } from '../../../shared/contract.js';
import { mayWithdrawNotice, newMessagesToNotify, notificationContent } from '../../../shared/notification-text.js';

function transport() {
  const raw = new Set<(value: unknown) => void>();
  return {
    subscribe(listener: (value: unknown) => void) {
      raw.add(listener);
      return () => void raw.delete(listener);
    },
    send: (value: unknown) => raw.forEach((l) => l(value)),
    size: () => raw.size,
  };
}

describe('buildApi onEvent', () => {
  it('hands listeners only events that match the schema, until unsubscribed', () => {
    const t = transport();
    const api = buildApi(() => Promise.resolve({ code: 0, value: {} }), t.subscribe);
    const got: EngineEvent[] = [];
    const stop = api.onEvent((event) => got.push(event));
    const invalid: unknown[] = [undefined, null, 'sync', 42, [], {}, { type: 'unknown' }, { type: 'lock' }, { type: 'lock', unlocked: 'no' }, { type: 'messages', received: 1.5, changed: 0 }, { type: 'messages', received: -1, changed: 0 }];
    for (const value of invalid) t.send(value);
    t.send({ type: 'sync' });
    t.send({ type: 'messages', received: 3, changed: 1 });
    expect(got).toEqual([{ type: 'sync' }, { type: 'messages', received: 3, changed: 1 }]);
    stop();
    expect(t.size()).toBe(0);
    t.send({ type: 'sync' });
    expect(got).toHaveLength(2);
  });

  it('keeps the contract groups beside onEvent', () => {
    const t = transport();
    const api = buildApi(() => Promise.resolve({ code: 0, value: {} }), t.subscribe);
    expect(typeof api.onEvent).toBe('function');
    expect(typeof api.engine.status).toBe('function');
    expect(typeof api.messages.list).toBe('function');
  });
});

describe('new-message notifications', () => {
  it('are due only for received messages while the user is not looking', () => {
    expect(newMessagesToNotify({ type: 'messages', received: 2, changed: 0 }, false)).toBe(2);
    expect(newMessagesToNotify({ type: 'messages', received: 2, changed: 0 }, true)).toBe(0);
    expect(newMessagesToNotify({ type: 'messages', received: 0, changed: 3 }, false)).toBe(0);
    expect(newMessagesToNotify({ type: 'sync' }, false)).toBe(0);
    expect(newMessagesToNotify({ type: 'lock', unlocked: false }, false)).toBe(0);
  });

  it('may be withdrawn after messages changed state and none arrived (read here or on another device)', () => {
    expect(mayWithdrawNotice({ type: 'messages', received: 0, changed: 1 })).toBe(true);
    expect(mayWithdrawNotice({ type: 'messages', received: 1, changed: 1 })).toBe(false);
    expect(mayWithdrawNotice({ type: 'messages', received: 0, changed: 0 })).toBe(false);
    expect(mayWithdrawNotice({ type: 'sync' })).toBe(false);
  });

  it('say only how many without the opt-in', () => {
    expect(notificationContent(2, null)).toEqual({ title: 'Sealpost', body: '2 new messages arrived.' });
    expect(notificationContent(1, [])).toEqual({ title: 'Sealpost', body: 'A new message arrived.' });
  });
});
