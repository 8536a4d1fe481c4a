/**
 * Issue 18: every failure of the body parsers is a 400 in the error shape,
 * never a 500. The parsers alone under generated input (only ApiError /
 * XmlBodyError may come out), then the classes that slipped through before,
 * over real HTTP in both response formats.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../server/http/errors.js';
import { decodeBody, parseFormBody, parseJsonBody } from '../../../server/http/body-parsers.js';
import { MAX_JSON_DEPTH, scanJsonStructure } from '../../../server/http/json-scan.js';
import { parseXmlBody, XmlBodyError } from '../../../server/http/xml.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { hostileRuns, HOSTILE_SEED } from '../../hostile/runs.js';

const onlyTyped = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof ApiError || error instanceof XmlBodyError)) throw error;
    if (error instanceof ApiError) expect(error.status).toBe(400);
  }
};

describe('body parsers under generated input', () => {
  const text = fc.oneof(fc.string({ unit: 'binary' }), fc.json(), fc.string({ unit: fc.constantFrom('<', '>', '/', 'a', '!', '?', '&', ';', '"', '=', ' ', '[', ']', '#', 'x') }));
  it('throw only typed 400 errors', () => {
    fc.assert(
      fc.property(text, (t) => {
        onlyTyped(() => parseJsonBody(t));
        onlyTyped(() => parseXmlBody(t));
        onlyTyped(() => parseFormBody(t));
        expect(() => scanJsonStructure(t)).not.toThrow();
      }),
      { seed: HOSTILE_SEED, numRuns: hostileRuns(300) },
    );
  });

  it('decode only UTF-8, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'text/xml; charset="latin1"', 'application/json;charset=UTF-16'), (bytes, type) => {
        onlyTyped(() => decodeBody(Buffer.from(bytes), type));
      }),
      { seed: HOSTILE_SEED, numRuns: hostileRuns(300) },
    );
  });

  it('refuse duplicate keys (also escaped), __proto__ and deep nesting; keep trailing commas and BOMs working', () => {
    expect(() => parseJsonBody('{"a":1,"a":2}')).toThrow(/key "a" twice/);
    expect(() => parseJsonBody('{"a":1,"\\u0061":2}')).toThrow(/twice/);
    expect(() => parseJsonBody('{"x":{"\\u005f_proto__":{}}}')).toThrow(/__proto__/);
    expect(parseJsonBody('{"a":{"a":1},"b":[{"a":1},{"a":2}]}')).toEqual({ a: { a: 1 }, b: [{ a: 1 }, { a: 2 }] });
    expect(parseJsonBody('{"a":"\\"a\\"","b":"\\\\"}')).toEqual({ a: '"a"', b: '\\' });
    expect(() => parseJsonBody('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1))).toThrow(/nested/);
    expect(parseJsonBody('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))).toBeDefined();
    expect(parseJsonBody('{"a":1,}')).toEqual({ a: 1 });
    expect(decodeBody(Buffer.from('\ufeff{}'), 'application/json')).toBe('{}');
    expect(() => parseXmlBody('<a>'.repeat(2000) + '</a>'.repeat(2000))).toThrow(XmlBodyError);
    expect(() => parseXmlBody('<?xml version="1.0" encoding="ISO-8859-1"?><r/>')).toThrow(/UTF-8/);
    expect(() => parseXmlBody('<r><__proto__><a>1</a></__proto__></r>')).toThrow(XmlBodyError);
    expect(parseXmlBody('<r><a>1</a><b/></r>')).toEqual({ a: '1', b: '' });
  });
});

describe('parser failures over HTTP', () => {
  let ks: KeyService;
  beforeAll(async () => {
    ks = await startKeyService();
  });
  afterAll(async () => {
    await ks?.close();
  });

  const bodies: Array<[string, string | Buffer, string, string]> = [
    ['2,000 nested tags', '<a>'.repeat(2000) + '</a>'.repeat(2000), 'application/xml', 'invalid_xml'],
    ['100,000 nested arrays', '['.repeat(100_000) + ']'.repeat(100_000), 'application/json', 'invalid_json'],
    ['a duplicate key', '{"instance_id":"a","instance_id":"b"}', 'application/json', 'invalid_json'],
    ['invalid UTF-8 in JSON', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 'application/json', 'invalid_encoding'],
    ['invalid UTF-8 in XML', Buffer.from([0x3c, 0x72, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x72, 0x3e]), 'text/xml', 'invalid_encoding'],
    ['a Latin-1 charset', '{}', 'application/json; charset=iso-8859-1', 'invalid_encoding'],
    ['an entity declaration', '<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>', 'application/xml', 'invalid_xml'],
    ['a UTF-16 declaration', '<?xml version="1.0" encoding="UTF-16"?><r/>', 'application/xml', 'invalid_xml'],
  ];
  const routes: Array<[string, string]> = [['POST', '/v1/gen-jwt'], ['POST', '/v1/user/register'], ['POST', '/v1/keys'], ['PUT', '/v1/keys/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/messages']];

  it.each(bodies)('%s is a 400 in both formats on every body route', async (_name, body, contentType, code) => {
    for (const [method, path] of routes) {
      const asJson = await ks.request(method, path, { clientKey: ks.app.clientKey, body, contentType });
      expect([asJson.status, asJson.json]).toEqual([400, { code, message: expect.any(String) }]);
      const asXml = await ks.request(method, `${path}?format=xml`, { clientKey: ks.app.clientKey, body, contentType });
      expect(asXml.status).toBe(400);
      expect(asXml.headers.get('content-type')).toMatch(/^application\/xml/);
      expect(asXml.text).toMatch(new RegExp(`^<\\?xml[^>]*\\?><error><code>${code}</code><message>[^<]+</message></error>$`));
    }
  });
});
