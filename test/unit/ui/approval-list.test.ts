/**
 * The approval cards between refreshes (renderer/src/lib/approval-list.ts): the key
 * service stops listing a request once it expires, and the desktop keeps that card as
 * "expired" until dismissed; a request that went away before its expiry was decided
 * elsewhere and goes.
 */
import { describe, expect, it } from 'vitest';
import { mergeRequests, type Approval } from '../../../renderer/src/lib/approval-list.js';

const T0 = Date.parse('2026-12-04T10:00:00Z');

function request(id: string, createdAt: number, expiresAt: number): Approval {
  return {
    id,
    kind: 'key',
    app: { id: 'ca_1', name: 'Acme Notes', transitKeyFingerprint: null, keyBits: 256 },
    reason: null,
    returnTo: null,
    ip: '127.0.0.1',
    createdAt: new Date(createdAt).toISOString(),
    expiresAt: new Date(expiresAt).toISOString(),
    blocked: false,
  };
}

describe('approval cards between refreshes', () => {
  const a = request('a', T0, T0 + 120_000);
  const b = request('b', T0 + 1_000, T0 + 30_000);

  it('shows what the key service lists, oldest first', () => {
    expect(mergeRequests([], [b, a], T0 + 2_000).map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('keeps a shown request the key service stopped listing once it has expired', () => {
    expect(mergeRequests([a, b], [a], T0 + 30_000).map((r) => r.id)).toEqual(['a', 'b']);
    expect(mergeRequests([a, b], [], T0 + 120_000).map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('drops a shown request that went away before its expiry (decided on another device)', () => {
    expect(mergeRequests([a, b], [b], T0 + 5_000).map((r) => r.id)).toEqual(['b']);
    expect(mergeRequests([a, b], [], T0 + 29_999).map((r) => r.id)).toEqual([]);
  });

  it('takes the listed copy of a request over the shown one', () => {
    const blocked = { ...a, blocked: true };
    expect(mergeRequests([a], [blocked], T0 + 1_000)).toEqual([blocked]);
  });
});
