/** What must still hold after the hostile sweep: the service is up, its store intact, and it still does its job. */
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { MessagesResponse } from '../../shared/wire.js';
import type { Target } from './server.js';

export async function afterSweepChecks(target: Target): Promise<void> {
  const { ks } = target;
  const health = await ks.request('GET', '/health');
  expect(health.status).toBe(200);
  if (target.sqliteFile) {
    const db = new Database(target.sqliteFile, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  }
  expect(await ks.server.admin.verifyAudit(ks.app.appId)).toMatchObject({ ok: true });

  const bob = await ks.registerDevice(`after-sweep-${Date.now()}`);
  const key = await ks.request<{ token: string }>('POST', '/v1/keys', { jwt: bob.jwt, body: { publickey: bob.rsaPublicPem, privatekeyhash: bob.privateKeyHash } });
  expect(key.status).toBe(200);
  const path = `/v1/keys/${key.json.token}/messages`;
  const sent = await ks.request<{ MessageId: number }>('PUT', path, { clientKey: ks.app.clientKey, body: { encryptedmessage: 'c2VhbGVk', encryptionkey: 'a2V5' } });
  expect(sent.status).toBe(200);
  const read = await ks.request('GET', path, { jwt: bob.jwt, headers: { 'x-private-key-hash': bob.privateKeyHash } });
  expect(read.status).toBe(200);
  expect(MessagesResponse.parse(read.json).Messages.map((m) => m.MessageId)).toEqual([sent.json.MessageId]);
}
