/**
 * The key service's API suite, run unchanged against SQLite (sqlite.test.ts)
 * and PostgreSQL (postgres.test.ts). Everything goes over real HTTP to a
 * server listening on 127.0.0.1 with a free port. One service and two users
 * are set up here; the parts (api-*.ts, one per area of the API) run in order
 * against them, so later parts see what earlier ones did (the audit part relies on it).
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startKeyService, type KeyService, type RegisteredDevice } from '../../helpers/key-service.js';
import { JWT_SECRET, type ApiState, type SuiteEnv } from './api-shared.js';
import { defineBasicsTests } from './api-basics.js';
import { defineAuthTests } from './api-auth.js';
import { defineMessagesTests } from './api-messages.js';
import { defineDeviceTests, defineDirectoryTests } from './api-devices.js';
import { defineKeyChangeTests } from './key-change-suite.js';
import { defineItemsTests } from './api-items.js';
import { defineAuditTests } from './api-audit.js';

export function defineApiSuite(label: string, env: () => SuiteEnv): void {
  describe(`key service API (${label})`, () => {
    let ks: KeyService;
    let alice: RegisteredDevice;
    let bob: RegisteredDevice;
    /** Alice's published offline inbox. */
    let inbox: string;

    beforeAll(async () => {
      ks = await startKeyService({ ...env().store(), jwtSecret: JWT_SECRET });
      alice = await ks.registerDevice('alice');
      bob = await ks.registerDevice('bob');
      const k = await ks.request<{ token: string }>('POST', '/v1/keys', {
        jwt: alice.jwt,
        body: { publickey: alice.rsaPublicPem, privatekeyhash: alice.privateKeyHash, publish: true },
      });
      expect(k.status, k.text).toBe(200);
      inbox = k.json.token;
    });
    afterAll(async () => {
      await ks?.close();
    });

    const state = (): ApiState => ({ ks, alice, bob, inbox });
    defineBasicsTests(label, state);
    defineAuthTests(state);
    defineMessagesTests(state);
    defineDirectoryTests(state);
    defineKeyChangeTests(() => ks);
    defineDeviceTests(state);
    defineItemsTests(state);
    defineAuditTests(env, state);
  });
}
