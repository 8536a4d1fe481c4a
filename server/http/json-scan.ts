/**
 * One linear pass over a JSON body's structure before JSON.parse, for what
 * JSON.parse does not refuse:
 *   - nesting deeper than MAX_JSON_DEPTH (V8 parses 100,000 levels, and the
 *     validators after it would walk them);
 *   - a key twice in one object (JSON.parse keeps the last silently, so two
 *     readers of one body could disagree on a field);
 *   - a "__proto__" key, also when spelled with escapes ("\u005f_proto__").
 * The scan only tracks brackets and strings (skipping string contents with
 * indexOf, so a 10 MiB base64 field costs one native search); whether the text
 * is valid JSON is JSON.parse's job, which runs after it.
 */

/** Deepest nesting any request body needs is about 4; 64 leaves room without letting a body be a stack. */
export const MAX_JSON_DEPTH = 64;

export type JsonScanProblem = { kind: 'depth' } | { kind: 'duplicate'; key: string } | { kind: 'proto' } | null;

interface Frame {
  object: boolean;
  expectKey: boolean;
  keys: Set<string> | null;
}

function decodeKey(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw; // a malformed escape: JSON.parse of the whole body reports it
  }
}

/** The first structural problem in `text`, or null. Never throws. */
export function scanJsonStructure(text: string): JsonScanProblem {
  const stack: Frame[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = i + 1;
      for (;;) {
        end = text.indexOf('"', end);
        if (end < 0) return null; // unterminated: JSON.parse reports it
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
        end++;
      }
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey) {
        const key = decodeKey(text.slice(i + 1, end));
        if (key === '__proto__') return { kind: 'proto' };
        top.keys ??= new Set();
        if (top.keys.has(key)) return { kind: 'duplicate', key };
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_JSON_DEPTH) return { kind: 'depth' };
      stack.push({ object: c === 0x7b, expectKey: c === 0x7b, keys: null });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.object) top.expectKey = true;
    }
    i++;
  }
  return null;
}
