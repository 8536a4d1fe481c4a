/**
 * Hostile text for fields, query values, headers and path segments: lengths
 * at a field's bounds (0, max, max + 1, 10 × max, capped so a case stays
 * cheap), NUL and control characters, lone surrogates, bidi overrides,
 * traversal and injection strings, and whatever fast-check makes of full
 * Unicode.
 */
import fc from 'fast-check';

/** Longest string the sweep builds (bigger bodies are the real-HTTP limit tests' job). */
export const LENGTH_CAP = 256 * 1024;

const SPECIAL = [
  '',
  '\u0000',
  'a\u0000b',
  '\u0001\u0002\u0003\u0007\u0008\u001b[31m\u007f',
  '\r\n\r\nX-Injected: 1',
  '\uD800',
  'x\uDC00y',
  '\uDBFF\uDBFF',
  '\u202Egnp.exe',
  '\u202D\u2066\u2069\u200F\u200E',
  '\uFEFF\uFFFE\uFFFF',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  "' OR 1=1 --",
  "'); DROP TABLE messages; --",
  '%s%s%n%x',
  '${jndi:ldap://127.0.0.1/a}',
  '<script>alert(1)</script>',
  ']]><x>&amp;&lt;&#0;',
  '__proto__',
  'constructor',
  '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
  'ÿ'.repeat(3),
  '😀'.repeat(40),
  'NaN',
  '-0',
  '1e309',
  '9007199254740993',
  'true',
  'null',
];

export const specialString = fc.constantFrom(...SPECIAL);

/** Lengths at a field's bounds; unbounded fields get a few round sizes. */
export function boundaryLength(max: number | undefined, min: number | undefined): fc.Arbitrary<number> {
  const lengths = max === undefined ? [0, 1, 64, 4096, 65_536] : [0, max, max + 1, max * 10, Math.max(0, (min ?? 1) - 1), min ?? 1];
  return fc.constantFrom(...new Set(lengths.map((n) => Math.min(n, LENGTH_CAP))));
}

/** A string of exactly `length` characters, filled with one (possibly hostile) character. */
export const filled = (length: number) =>
  fc.constantFrom('a', 'A', '0', '=', '\u0000', '\uD800', '\u202E', 'é', '/', '%').map((c) => c.repeat(length));

export function hostileString(max?: number, min?: number): fc.Arbitrary<string> {
  return fc.oneof(
    specialString,
    boundaryLength(max, min).chain(filled),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
  );
}

/** Path segment, already URL-encoded or deliberately not. */
export const hostilePathSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('..', '.', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2f', '%2F', 'a%2Fb', '%5C..%5C', '%00', 'a%00b', '%ZZ', '%', '%C0%AF', '%E2%80%AE', '%F0%9F%98%80', '%D8%00', ';x=1', 'a?b=c', '*', '~', ' '),
  fc.constantFrom(257, 256, 1000, 5000).map((n) => 'a'.repeat(n)),
  hostileString(300).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))),
);

export const canary = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 16 }).map((hex) => `sk-canary-${hex}`);
