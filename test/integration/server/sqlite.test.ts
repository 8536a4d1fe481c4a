/** The API and safety suites against the embedded SQLite store, plus two instances on one file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MessagesResponse } from '../../../shared/wire.js';
import { apiRequest, startKeyService } from '../../helpers/key-service.js';
import { startServer } from '../../../server/index.js';
import { defineApiSuite } from './api-suite.js';
import { expectAgentReplayRefusedAcross } from './api-devices.js';
import { defineSafetySuite } from './safety-suite.js';
import { defineLinkSuite } from './link-suite.js';

// {} = a new temporary SQLite file per server (startKeyService).
const env = () => ({ store: () => ({}), freshStore: async () => ({}) });
defineApiSuite('sqlite', env);
defineSafetySuite('sqlite', env);
defineLinkSuite('sqlite', env);

describe('two instances on one SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-two-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('share apps, keys, messages, dedupe and the audit chain', async () => {
    const db = join(dir, 'shared.db');
    const a = await startKeyService({ db });
    const b = await startServer({ host: '127.0.0.1', port: 0, db });
    try {
      const dev = await a.registerDevice('shared');
      const k = await a.request<{ token: string }>('POST', '/v1/keys', { jwt: dev.jwt, body: { publickey: dev.rsaPublicPem, privatekeyhash: dev.privateKeyHash } });
      const body = { encryptedmessage: 'AAAA', encryptionkey: 'BBBB', clientId: 'both' };
      const [r1, r2] = await Promise.all([
        a.request<{ MessageId: number }>('PUT', `/v1/keys/${k.json.token}/messages`, { jwt: dev.jwt, body }),
        apiRequest<{ MessageId: number }>(b.url, 'PUT', `/v1/keys/${k.json.token}/messages`, { jwt: dev.jwt, body }),
      ]);
      expect(r1.json.MessageId).toBe(r2.json.MessageId);
      const read = await apiRequest(b.url, 'GET', `/v1/keys/${k.json.token}/messages`, { jwt: dev.jwt, headers: { 'x-private-key-hash': dev.privateKeyHash } });
      expect(MessagesResponse.parse(read.json).Messages).toHaveLength(1);
      expect((await b.admin.verifyAudit(a.app.appId)).ok).toBe(true);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('an agent token used on one instance is a replay on the other', async () => {
    const db = join(dir, 'agent.db');
    const a = await startKeyService({ db });
    const b = await startServer({ host: '127.0.0.1', port: 0, db });
    try {
      await expectAgentReplayRefusedAcross(a.url, b.url, a.app.appId, await a.registerDevice('agent'));
    } finally {
      await b.close();
      await a.close();
    }
  });
});
