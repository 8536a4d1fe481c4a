/**
 * The same API and safety suites against a real PostgreSQL (a throwaway
 * cluster from Debian's binaries, or DATABASE_URL), plus several instances
 * serving one database. With CI=true this must run: no PostgreSQL is a failure.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MessagesResponse } from '../../../shared/wire.js';
import { AuditLog, canonicalAuditEntry } from '../../../server/audit.js';
import { openStore, startServer, type RunningServer } from '../../../server/index.js';
import type { PostgresStore } from '../../../server/store/postgres.js';
import { postgresForSuite } from '../../helpers/postgres-suite.js';
import { apiRequest, makeDevice, type RegisteredDevice } from '../../helpers/key-service.js';
import { defineApiSuite } from './api-suite.js';
import { JWT_SECRET } from './api-shared.js';
import { expectAgentReplayRefusedAcross } from './api-devices.js';
import { defineSafetySuite } from './safety-suite.js';
import { defineLinkSuite } from './link-suite.js';

const pg = await postgresForSuite('key service on PostgreSQL');
if (pg) {
  const url = pg.url;
  const cluster = pg;
  const env = () => ({ store: () => ({ databaseUrl: url }), freshStore: async () => ({ databaseUrl: await cluster.createDatabase() }) });
  defineApiSuite('postgres', env);
  defineSafetySuite('postgres', env);
  defineLinkSuite('postgres', env);

  describe('group commit on PostgreSQL', () => {
    const stores: PostgresStore[] = [];
    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
    });

    async function storePair(): Promise<[PostgresStore, PostgresStore]> {
      const databaseUrl = await cluster.createDatabase();
      const a = (await openStore({ databaseUrl })) as PostgresStore;
      const b = (await openStore({ databaseUrl })) as PostgresStore;
      stores.push(a, b);
      await a.insertApp({ id: 'gc', name: 'gc', serverKeyHash: `s-${databaseUrl}`, clientKeyHash: `c-${databaseUrl}`, createdAt: 1 });
      return [a, b];
    }

    const newKey = (store: PostgresStore, tokenHash: string) =>
      store.insertKey({
        appId: 'gc', tokenHash, mode: 'offline', publicKey: 'pk', fingerprint: 'f', bits: 2048, privateKeyKind: null, privateKey: null,
        passphraseVerifier: null, privateKeyHashVerifier: 'v', ownerUserId: null, publishedToken: null, createdAt: 1,
      });
    const msg = (text: string) => ({ kind: 'offline' as const, isFile: false, fileName: null, contentType: null, body: Buffer.from(text), encKey: Buffer.from('k'), size: text.length, sentOn: 1, sender: null });
    const entry = (n: number) => ({ chain: 'gc', ts: n, userId: null, deviceId: null, actor: 'a', action: 'x', target: `t${n}`, result: 'ok', status: 200, ip: '::1' });
    const append = (n: number) => ({ entry: entry(n), canonical: canonicalAuditEntry(entry(n)) });

    it('one turn\'s sends and audit entries commit as one batch, each with its own result', async () => {
      const [store] = await storePair();
      const [a, b] = [await newKey(store, 'gc-a'), await newKey(store, 'gc-b')];
      const before = { ...store.groupCommits };
      const results = await Promise.allSettled([
        store.insertMessages(a, [msg('a1')], 'x', null, append(1)),
        store.insertMessages(b, [msg('b1')], 'x', null, append(2)),
        store.insertMessages(a, [msg('a2')], 'y', null, append(3)),
        store.insertMessages(a, [msg('a1')], 'x', null, append(4)),
        store.insertMessages(a + b + 999, [msg('gone')], 'z', null, append(5)),
        store.appendAudit(entry(6), canonicalAuditEntry(entry(6))),
      ]);
      expect(store.groupCommits).toEqual({ batches: before.batches + 1, writes: before.writes + 6, fallbacks: before.fallbacks });
      const values = results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).name));
      expect(values).toEqual([
        { ids: [1], duplicate: false, sameContent: true },
        { ids: [1], duplicate: false, sameContent: true },
        { ids: [2], duplicate: false, sameContent: true },
        { ids: [1], duplicate: true, sameContent: true },
        'MissingRow',
        5,
      ]);
      expect((await store.listMessages(a, 0, 10)).map((m) => m.body.toString())).toEqual(['a1', 'a2']);
      // Entries of the stored sends (the repeat with the same content too) and the plain one, chained in queue order.
      expect((await store.listAudit('gc', null, 0, 10)).map((r) => r.target)).toEqual(['t1', 't2', 't3', 't4', 't6']);
      expect(await new AuditLog(store).verify('gc')).toEqual({ ok: true, count: 5, firstBadSeq: null });
    });

    it('a batch whose transaction fails is retried write by write, also with a pool of one connection', async () => {
      const databaseUrl = await cluster.createDatabase();
      const store = (await openStore({ databaseUrl, pgPoolSize: 1 })) as PostgresStore;
      stores.push(store);
      await store.insertApp({ id: 'gc', name: 'gc', serverKeyHash: 's-one', clientKeyHash: 'c-one', createdAt: 1 });
      const key = await newKey(store, 'gc-one');
      // The next BEGIN fails, as when the connection drops between batches.
      type Client = { query: (sql: string, ...rest: unknown[]) => Promise<unknown> };
      const pool = (store as unknown as { pool: { connect(callback?: unknown): Promise<Client> } }).pool;
      const connect = pool.connect.bind(pool);
      let failures = 1;
      // pool.query() connects with a callback: only the group commit's promise-style connect is changed.
      pool.connect = (callback?: unknown) => {
        if (callback) return connect(callback);
        return connect().then((client) => {
          const query = client.query.bind(client);
          client.query = (sql: string, ...rest: unknown[]) => (sql === 'BEGIN' && failures-- > 0 ? Promise.reject(new Error('connection lost')) : query(sql, ...rest));
          return client;
        });
      };
      const results = await Promise.allSettled([
        store.insertMessages(key, [msg('one')], 'r1', null, append(1)),
        store.insertMessages(key + 999, [msg('gone')], 'r2', null, append(2)),
        store.insertMessages(key, [msg('two')], 'r3', null, append(3)),
      ]);
      expect(store.groupCommits.fallbacks).toBe(1);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value.ids : (r.reason as Error).name))).toEqual([[1], 'MissingRow', [2]]);
      expect(await new AuditLog(store).verify('gc')).toEqual({ ok: true, count: 2, firstBadSeq: null });
      // The next batch takes the normal path again.
      expect((await store.insertMessages(key, [msg('three')], 'r4', null, append(4))).ids).toEqual([3]);
      expect(store.groupCommits.fallbacks).toBe(1);
    });

    it('two instances sending to one key at once: every MessageId once, in order, and an intact chain', async () => {
      const [one, two] = await storePair();
      const key = await newKey(one, 'gc-shared');
      const sends = (store: PostgresStore, tag: string) =>
        Array.from({ length: 60 }, (_, i) => store.insertMessages(key, [msg(`${tag}${i}`)], `${tag}-${i}`, null, append(i)));
      const fallbacks = one.groupCommits.fallbacks + two.groupCommits.fallbacks;
      const results = await Promise.all([...sends(one, 'p'), ...sends(two, 'q')]);
      expect(results.flatMap((r) => r.ids).sort((x, y) => x - y)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(one.groupCommits.fallbacks + two.groupCommits.fallbacks).toBe(fallbacks);
      expect((await one.listMessages(key, 0, 200)).map((m) => m.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(await new AuditLog(two).verify('gc')).toEqual({ ok: true, count: 120, firstBadSeq: null });
    });
  });

  describe('several instances on one PostgreSQL database', () => {
    const servers: RunningServer[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });

    async function instance(extra: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
      const s = await startServer({ host: '127.0.0.1', port: 0, databaseUrl: url, rsaBits: 2048, ...extra });
      servers.push(s);
      return s;
    }

    async function register(s: RunningServer, app: { appId: string; serverKey: string }, username: string): Promise<RegisteredDevice> {
      const device = makeDevice();
      const reg = await apiRequest<{ userid: string }>(s.url, 'POST', '/v1/user/register', { body: { appid: app.appId, serverkey: app.serverKey, username, devicePackage: device.pkg } });
      const tok = await apiRequest<{ jwt: string }>(s.url, 'POST', '/v1/gen-jwt', { serverKey: app.serverKey, body: { instance_id: device.deviceId } });
      expect([reg.status, tok.status]).toEqual([200, 200]);
      return { ...device, userid: reg.json.userid, username, jwt: tok.json.jwt };
    }

    it('send on one, read on the other; clientId dedupes across instances; ids never skip', async () => {
      const [a, b] = [await instance(), await instance()];
      const app = await a.admin.createApp({ name: 'multi' });
      const dev = await register(a, app, 'multi-user');
      // A token from instance A is valid on B: the JWT secret is shared through the database.
      const k = await apiRequest<{ token: string }>(b.url, 'POST', '/v1/keys', { jwt: dev.jwt, body: { publickey: dev.rsaPublicPem, privatekeyhash: dev.privateKeyHash } });
      const path = `/v1/keys/${k.json.token}/messages`;
      const sent = await apiRequest<{ MessageId: number }>(a.url, 'PUT', path, { jwt: dev.jwt, body: { encryptedmessage: 'AQID', encryptionkey: 'BAUG' } });
      const read = await apiRequest(b.url, 'GET', path, { jwt: dev.jwt, headers: { 'x-private-key-hash': dev.privateKeyHash } });
      expect(MessagesResponse.parse(read.json).Messages.map((m) => m.MessageId)).toEqual([sent.json.MessageId]);

      const body = { encryptedmessage: 'ZGVkdXBl', encryptionkey: 'a2V5', clientId: 'cross-instance' };
      const racing = await Promise.all(Array.from({ length: 10 }, (_, i) => apiRequest<{ MessageId: number }>((i % 2 ? a : b).url, 'PUT', path, { jwt: dev.jwt, body })));
      expect(racing.every((r) => r.status === 200)).toBe(true);
      expect(new Set(racing.map((r) => r.json.MessageId)).size).toBe(1);

      const burst = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          apiRequest<{ MessageId: number }>((i % 2 ? a : b).url, 'PUT', path, { jwt: dev.jwt, body: { encryptedmessage: 'AAAA', encryptionkey: 'AAAA', clientId: `burst-${i}` } }),
        ),
      );
      const all = await apiRequest(a.url, 'GET', `${path}?limit=1000`, { jwt: dev.jwt, headers: { 'x-private-key-hash': dev.privateKeyHash } });
      const ids = MessagesResponse.parse(all.json).Messages.map((m) => m.MessageId);
      expect(ids).toHaveLength(42);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      expect(new Set(burst.map((r) => r.json.MessageId)).size).toBe(40);
      expect(await a.admin.verifyAudit(app.appId)).toMatchObject({ ok: true });
    });

    it('revocation on one instance is enforced by the other at once', async () => {
      const [a, b] = [await instance(), await instance()];
      const app = await a.admin.createApp({ name: 'revoke-multi' });
      const dev = await register(a, app, 'rev');
      expect((await apiRequest(b.url, 'GET', '/v1/users/rev', { jwt: dev.jwt })).status).toBe(200);
      await a.admin.revokeDevice(app.appId, dev.deviceId);
      expect((await apiRequest(b.url, 'GET', '/v1/users/rev', { jwt: dev.jwt })).status).toBe(403);
    });

    it('an agent token used on one instance is a replay on the other', async () => {
      const [a, b] = [await instance(), await instance()];
      const app = await a.admin.createApp({ name: 'agent-multi' });
      await expectAgentReplayRefusedAcross(a.url, b.url, app.appId, await register(a, app, 'agent'));
    });

    it('rate limits are shared by the instances', async () => {
      const limits = { rateLimit: { perDevice: 10, perIp: 10_000 } };
      const [a, b] = [await instance(limits), await instance(limits)];
      const app = await a.admin.createApp({ name: 'limits-multi' });
      const dev = await register(a, app, 'lim');
      const statuses: number[] = [];
      for (let i = 0; i < 14; i++) statuses.push((await apiRequest((i % 2 ? a : b).url, 'GET', '/v1/users/lim', { jwt: dev.jwt })).status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.slice(10)).toEqual([429, 429, 429, 429]);
    });

    it('a JWT secret from the environment works on every instance that has it', async () => {
      const [a, b] = [await instance({ jwtSecret: JWT_SECRET }), await instance({ jwtSecret: JWT_SECRET })];
      const app = await a.admin.createApp({ name: 'env-secret' });
      const dev = await register(a, app, 'envsecret');
      expect((await apiRequest(b.url, 'GET', '/v1/users/envsecret', { jwt: dev.jwt })).status).toBe(200);
    });
  });
}
