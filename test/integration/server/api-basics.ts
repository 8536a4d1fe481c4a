/**
 * API suite part: service basics (health, XML answers and errors, ?v=, CORS,
 * unknown routes). Split out as the cross-cutting HTTP behaviour every route shares.
 */
import { XMLParser } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { MessagesResponse } from '../../../shared/wire.js';
import { expectError, type ApiState } from './api-shared.js';

export function defineBasicsTests(label: string, state: () => ApiState): void {
  describe('service basics', () => {
    let { ks, alice, inbox } = {} as ApiState;
    beforeAll(() => void ({ ks, alice, inbox } = state()));

    it('GET /health reports liveness and the store', async () => {
      const r = await ks.request<{ status: string; store: { kind: string; ok: boolean } }>('GET', '/health');
      expect(r.status).toBe(200);
      expect(r.json.status).toBe('ok');
      expect(r.json.store).toMatchObject({ kind: label, ok: true });
    });

    it('answers in XML with Accept or ?format=xml, well-formed and with the same fields as JSON', async () => {
      await ks.request('PUT', `/v1/keys/${inbox}/messages`, { clientKey: ks.app.clientKey, body: { encryptedmessage: 'AAECAw==', encryptionkey: 'BAUG', clientId: 'xml-1' } });
      const headers = { 'x-private-key-hash': alice.privateKeyHash };
      const json = await ks.request('GET', `/v1/keys/${inbox}/messages`, { jwt: alice.jwt, headers });
      const viaAccept = await ks.request('GET', `/v1/keys/${inbox}/messages`, { jwt: alice.jwt, headers: { ...headers, accept: 'application/xml' } });
      const viaQuery = await ks.request('GET', `/v1/keys/${inbox}/messages?format=xml&v=1`, { jwt: alice.jwt, headers });
      expect(viaAccept.status).toBe(200);
      expect(viaAccept.headers.get('content-type')).toMatch(/^application\/xml/);
      expect(viaQuery.text).toBe(viaAccept.text);
      const parsed = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'item' }).parse(viaAccept.text) as {
        response: { Messages: { item: Array<Record<string, string>> }; Cursor: string; HasMore: string };
      };
      const fromJson = MessagesResponse.parse(json.json);
      expect(parsed.response.Cursor).toBe(String(fromJson.Cursor));
      expect(parsed.response.HasMore).toBe(String(fromJson.HasMore));
      const xmlMessages = parsed.response.Messages.item;
      expect(xmlMessages).toHaveLength(fromJson.Messages.length);
      fromJson.Messages.forEach((m, i) => {
        for (const [k, v] of Object.entries(m)) expect(xmlMessages[i]![k], k).toBe(String(v));
      });
    });

    it('XML errors are well-formed with code and message; hostile text is escaped', async () => {
      const r = await ks.request('GET', `/v1/keys/${inbox}?v=9&format=xml`, { jwt: alice.jwt });
      expect(r.status).toBe(400);
      const doc = new XMLParser({ parseTagValue: false }).parse(r.text) as { error: { code: string; message: string } };
      expect(doc.error.code).toBe('unsupported_version');
      const online = await ks.request<{ token: string }>('POST', '/v1/keys?format=json', { clientKey: ks.app.clientKey, body: { passphrase: 'xml escaping test' } });
      const hostile = 'a < b && c > d ]]> <![CDATA[x]]> "q" \u0001 end';
      await ks.request('PUT', `/v1/keys/${online.json.token}/messages`, { clientKey: ks.app.clientKey, body: { message: hostile } });
      const x = await ks.request('GET', `/v1/keys/${online.json.token}/messages?format=xml`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': 'xml escaping test' } });
      const parsed = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'item' }).parse(x.text) as { response: { Messages: { item: Array<{ Message: string }> } } };
      expect(parsed.response.Messages.item[0]!.Message).toBe(hostile.replace('\u0001', '\uFFFD'));
    });

    it('?v=1 is accepted, another version is a 400 with a message', async () => {
      expect((await ks.request('GET', `/v1/keys/${inbox}?v=1`, { jwt: alice.jwt })).status).toBe(200);
      expectError(await ks.request('GET', `/v1/keys/${inbox}?v=2`, { jwt: alice.jwt }), 400, 'unsupported_version');
    });

    it('CORS: preflight allows any origin and the credential headers', async () => {
      const res = await fetch(`${ks.url}/v1/keys`, {
        method: 'OPTIONS',
        headers: { origin: 'https://example.org', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-client-key,content-type' },
      });
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-client-key');
      const get = await fetch(`${ks.url}/health`, { headers: { origin: 'https://example.org' } });
      expect(get.headers.get('access-control-allow-origin')).toBe('*');
    });

    it('unknown routes are a 404 with code and message', async () => {
      expectError(await ks.request('GET', '/v1/nothing-here'), 404, 'no_such_route');
    });
  });
}
