/**
 * API suite part: the audit log (who sees which entries, the hash chain and
 * tamper detection). Runs last: it checks what the earlier parts' requests logged.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { startKeyService } from '../../helpers/key-service.js';
import { expectError, JWT_SECRET, rawSql, type ApiState, type SuiteEnv } from './api-shared.js';

export function defineAuditTests(env: () => SuiteEnv, state: () => ApiState): void {
  describe('audit', () => {
    let { ks, alice, bob, inbox } = {} as ApiState;
    beforeAll(() => void ({ ks, alice, bob, inbox } = state()));

    it('logs key and data requests with who, what, when and result; users see their own, the app admin all', async () => {
      await ks.request('GET', `/v1/keys/${inbox}/messages`, { jwt: alice.jwt, headers: { 'x-private-key-hash': 'wrong' } });
      const mine = await ks.request<{ entries: Array<Record<string, unknown>> }>('GET', '/v1/audit?limit=1000', { jwt: alice.jwt });
      expect(mine.status).toBe(200);
      expect(mine.json.entries.every((e) => e.userId === alice.userid)).toBe(true);
      expect(mine.json.entries).toContainEqual(expect.objectContaining({ action: 'messages.list', result: 'denied', status: 403, deviceId: alice.deviceId, actor: `device:${alice.deviceId}` }));
      expect(mine.json.entries).toContainEqual(expect.objectContaining({ action: 'keys.create', result: 'ok' }));
      const all = await ks.request<{ entries: Array<Record<string, unknown>>; hasMore: boolean }>('GET', '/v1/audit?limit=1000', { serverKey: ks.app.serverKey });
      const actions = new Set(all.json.entries.map((e) => e.action));
      for (const a of ['users.register', 'jwt.issue', 'keys.create', 'keys.get', 'messages.send', 'messages.list', 'users.lookup']) expect(actions, a).toContain(a);
      expect(all.json.entries.some((e) => e.userId === bob.userid)).toBe(true);
      for (const e of all.json.entries) {
        expect(typeof e.ts).toBe('string');
        expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      }
      expectError(await ks.request('GET', '/v1/audit', { clientKey: ks.app.clientKey }), 401, 'wrong_credential');
    });

    it('the hash chain verifies, and an edited entry is found', async () => {
      const ok = await ks.request<{ ok: boolean; count: number }>('GET', '/v1/audit/verify', { serverKey: ks.app.serverKey });
      expect(ok.json.ok).toBe(true);
      expect(ok.json.count).toBeGreaterThan(10);
      const other = await startKeyService({ ...env().store(), jwtSecret: JWT_SECRET });
      try {
        const dev = await other.registerDevice('tamper');
        for (let i = 0; i < 3; i++) await other.request('GET', '/v1/users/tamper', { jwt: dev.jwt });
        const chain = other.app.appId;
        expect((await other.server.admin.verifyAudit(chain)).ok).toBe(true);
        await rawSql(other.server, `UPDATE audit_log SET result = 'ok', status = 200 WHERE chain = '${chain}' AND seq = 3`);
        await rawSql(other.server, `UPDATE audit_log SET actor = 'someone-else' WHERE chain = '${chain}' AND seq = 3`);
        const broken = await other.request<{ ok: boolean; firstBadSeq: number }>('GET', '/v1/audit/verify', { serverKey: other.app.serverKey });
        expect(broken.json).toMatchObject({ ok: false, firstBadSeq: 3 });
      } finally {
        await other.close();
      }
    });
  });
}
