import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPaddedBase64 } from '../../../shared/wire.js';

/** RFC 4648 §4 padded base64 spelled out as groups of four: what isPaddedBase64 must agree with. */
const GROUPS_OF_FOUR = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

describe('isPaddedBase64', () => {
  it('accepts what Buffer encodes, at every length', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => isPaddedBase64(Buffer.from(bytes).toString('base64'))));
  });

  it('agrees with the groups-of-four definition on strings near base64', () => {
    const near = fc.string({ unit: fc.constantFrom(...'AZaz09+/=-_ \n'.split('')), maxLength: 24 });
    fc.assert(fc.property(near, (s) => isPaddedBase64(s) === GROUPS_OF_FOUR.test(s)), { numRuns: 20_000 });
  });

  it('refuses missing padding, padding inside, three "=" and the URL alphabet', () => {
    for (const bad of ['QQ', 'QUI', 'QQ==QQ==', 'Q===', 'QQ=A', 'ab-_', 'QUJD\n']) expect(isPaddedBase64(bad), bad).toBe(false);
    for (const good of ['', 'QQ==', 'QUI=', 'QUJD', '++//']) expect(isPaddedBase64(good), good).toBe(true);
  });
});
