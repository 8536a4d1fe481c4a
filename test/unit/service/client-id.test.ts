import { describe, expect, it } from 'vitest';
import { newClientId } from '../../../electron/engine/sync/client-id.js';
import { ClientId } from '../../../shared/wire.js';

describe('outbox clientId', () => {
  it('is accepted by the key service schema and starts with the send time', () => {
    const id = newClientId(0x18f2a3b4c5d);
    expect(id).toMatch(/^m-018f2a3b4c5d[0-9a-f]{20}$/);
    expect(ClientId.safeParse(id).success).toBe(true);
  });

  it('sorts by send time, so the key service appends to its dedupe index', () => {
    const ids = [5, 1_700_000_000_000, 1_700_000_000_001, 2 ** 47].map((t) => newClientId(t));
    expect([...ids].sort()).toEqual(ids);
  });

  it('differs within one millisecond and refuses a bad time', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 1000 }, () => newClientId(now)));
    expect(ids.size).toBe(1000);
    expect(() => newClientId(-1)).toThrow(RangeError);
    expect(() => newClientId(1.5)).toThrow(RangeError);
  });
});
