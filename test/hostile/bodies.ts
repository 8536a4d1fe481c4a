/**
 * Hostile request bodies for a route, from the fields of its zod body schema
 * (schema-walk.ts): a plausible object with one field given the wrong type or
 * a hostile string at a length bound, extra and `__proto__` fields, the wrong
 * top-level type; encoded as JSON, XML or a form, or replaced by malformed,
 * deeply nested or non-UTF-8 text; sent with the right, a wrong or no
 * Content-Type. Secret-looking canaries ride in string fields: the log must
 * never show them.
 */
import fc from 'fast-check';
import type { FieldSpec } from './schema-walk.js';
import { canary, hostileString } from './strings.js';

export interface BodyCase {
  body?: string | Buffer;
  contentType?: string;
  secrets: string[];
}

function plausible(field: FieldSpec): unknown {
  if (field.values?.length) return field.values[0];
  if (field.fields) return Object.fromEntries(field.fields.map((f) => [f.name, plausible(f)]));
  switch (field.kinds[0]) {
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'record':
      return {};
    default:
      return 'A'.repeat(Math.max(4, field.minLength ?? 1));
  }
}

function deepValue(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** Values of the wrong type (or of the right type but hostile) for one field. */
function wrongValue(field: FieldSpec): fc.Arbitrary<unknown> {
  const others = fc.constantFrom<unknown>(null, 0, -1, 1.5, 2 ** 53 + 1, 1e308, true, false, [], ['a'], {}, { $gt: '' }, deepValue(40));
  const options: fc.Arbitrary<unknown>[] = [others, hostileString(field.maxLength, field.minLength)];
  if (field.fields?.length) options.push(objectWithOneWrongField(field.fields));
  return fc.oneof(...options);
}

function objectWithOneWrongField(fields: FieldSpec[]): fc.Arbitrary<Record<string, unknown>> {
  const base = () => Object.fromEntries(fields.map((f) => [f.name, plausible(f)]));
  if (!fields.length) return fc.constant({});
  return fc.integer({ min: 0, max: fields.length - 1 }).chain((i) => wrongValue(fields[i]!).map((v) => ({ ...base(), [fields[i]!.name]: v })));
}

/** The body's value before encoding. */
function bodyValue(fields: FieldSpec[]): fc.Arbitrary<{ value: unknown; secrets: string[] }> {
  const withCanaries = fc.tuple(canary, fc.boolean()).map(([c, all]) => {
    const value = Object.fromEntries(fields.map((f) => [f.name, all || /pass|key|hash|secret|jwt|message/i.test(f.name) ? c : plausible(f)]));
    return { value, secrets: [c] };
  });
  const plain = (arb: fc.Arbitrary<unknown>) => arb.map((value) => ({ value, secrets: [] as string[] }));
  return fc.oneof(
    withCanaries,
    plain(objectWithOneWrongField(fields)),
    plain(objectWithOneWrongField(fields).map((o) => ({ ...o, unknownField: 'x' }))),
    plain(fc.constantFrom<unknown>([], 'text', 0, null, true, [{}], { '': '' })),
  );
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function toXml(value: unknown, name = 'request'): string {
  if (Array.isArray(value)) return `<${name}>${value.map((v) => toXml(v, 'item')).join('')}</${name}>`;
  if (value !== null && typeof value === 'object') {
    return `<${name}>${Object.entries(value as Record<string, unknown>).map(([k, v]) => toXml(v, /^[A-Za-z_][\w.-]*$/.test(k) ? k : '_')).join('')}</${name}>`;
  }
  return `<${name}>${xmlEscape(String(value ?? ''))}</${name}>`;
}

const toForm = (value: unknown) =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? new URLSearchParams(Object.entries(value as Record<string, unknown>).map(([k, v]): [string, string] => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)])).toString()
    : String(value);

/** Text that is not what its Content-Type says, or not text at all. */
const malformed: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.constantFrom<string | Buffer>(
    '{',
    '{"a":',
    '{"a":1,"a":2}',
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"x":1}}}',
    '[' .repeat(5000) + ']'.repeat(5000),
    '{"a":'.repeat(3000) + '1' + '}'.repeat(3000),
    '<a>'.repeat(2000) + '</a>'.repeat(2000),
    '<r>' + '<a/>'.repeat(20_000) + '</r>',
    '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><r><x>&b;</x></r>',
    '<?xml version="1.0" encoding="UTF-16"?><r/>',
    '<r><![CDATA[</r>]]></r>',
    '<r><a>1</a><a>2</a></r>',
    '<r>text<a>1</a></r>',
    '<r xmlns:x="urn:x"><x:a>1</x:a></r>',
    '<?xml version="1.0"?>',
    '\ufeff{}',
    'a=1&a=2&__proto__=x',
    '%ZZ=%',
    Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
    Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
    Buffer.from([0x3c, 0x72, 0x3e, 0xed, 0xa0, 0x80, 0x3c, 0x2f, 0x72, 0x3e]),
    Buffer.alloc(1024, 0),
  ),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
);

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/vnd.api+json'];
const XML_TYPES = ['application/xml', 'text/xml; charset=UTF-8'];
const OTHER_TYPES = [undefined, '', 'text/plain', 'application/octet-stream', 'application/json; charset=latin1', 'application/xml; charset=utf-16', 'multipart/form-data', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', '*/*', 'application/json, application/xml', ';;;', 'application/json\u0000'];

export function bodyCase(fields: FieldSpec[]): fc.Arbitrary<BodyCase> {
  const encoded = fc.tuple(bodyValue(fields), fc.constantFrom('json', 'xml', 'form', 'json-as-xml')).map(([{ value, secrets }, enc]): BodyCase => {
    if (enc === 'json') return { body: JSON.stringify(value) ?? 'null', contentType: 'application/json', secrets };
    if (enc === 'xml') return { body: toXml(value), contentType: 'application/xml', secrets };
    if (enc === 'form') return { body: toForm(value), contentType: 'application/x-www-form-urlencoded', secrets };
    return { body: JSON.stringify(value) ?? 'null', contentType: 'application/xml', secrets };
  });
  const broken = fc.tuple(malformed, fc.constantFrom(...JSON_TYPES, ...XML_TYPES, ...OTHER_TYPES)).map(([body, contentType]): BodyCase => ({ body, contentType, secrets: [] }));
  const mislabelled = fc.tuple(bodyValue(fields), fc.constantFrom(...OTHER_TYPES)).map(([{ value, secrets }, contentType]): BodyCase => ({ body: JSON.stringify(value) ?? '', contentType, secrets }));
  return fc.oneof(encoded, encoded, broken, mislabelled, fc.constant<BodyCase>({ secrets: [] }));
}
