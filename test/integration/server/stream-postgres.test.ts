/**
 * The push stream across key-service instances on one PostgreSQL
 * (LISTEN/NOTIFY): an event raised on instance A reaches a device connected
 * to B; a revocation on A (route, admin, CLI) closes the device's streams on
 * B; a dropped listener connection reconnects and events flow again. With
 * CI=true this must run: no PostgreSQL is a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { StreamClose } from '../../../shared/stream-wire.js';
import { runCli } from '../../../server/cli.js';
import { inboxTag, startServer, type RunningServer } from '../../../server/index.js';
import type { PgEventBus } from '../../../server/stream/pg-bus.js';
import { postgresForSuite } from '../../helpers/postgres-suite.js';
import { apiRequest, makeDevice, makeIdentity, type RegisteredDevice, type TestDevice } from '../../helpers/key-service.js';
import { openStream, waitUntil, type StreamClient } from '../../helpers/stream-client.js';

const cluster = await postgresForSuite('push stream on PostgreSQL');
if (cluster) {
  describe('push stream across two instances on one PostgreSQL', () => {
    let url: string;
    let a: RunningServer;
    let b: RunningServer;
    let app: { appId: string; serverKey: string; clientKey: string };
    let alice: RegisteredDevice;
    let bob1: RegisteredDevice;
    let bob2: RegisteredDevice;
    let bobInbox: string;
    const streams: StreamClient[] = [];

    async function register(s: RunningServer, username: string, device: TestDevice = makeDevice()): Promise<RegisteredDevice> {
      const reg = await apiRequest<{ userid: string }>(s.url, 'POST', '/v1/user/register', { body: { appid: app.appId, serverkey: app.serverKey, username, devicePackage: device.pkg } });
      const tok = await apiRequest<{ jwt: string }>(s.url, 'POST', '/v1/gen-jwt', { serverKey: app.serverKey, body: { instance_id: device.deviceId } });
      expect([reg.status, tok.status]).toEqual([200, 200]);
      return { ...device, userid: reg.json.userid, username, jwt: tok.json.jwt };
    }
    const stream = async (s: RunningServer, d: RegisteredDevice) => {
      const c = await openStream(s.url, { jwt: d.jwt });
      streams.push(c);
      return c;
    };
    const send = async (s: RunningServer, from: RegisteredDevice, clientId?: string) => {
      const r = await apiRequest<{ MessageId: number }>(s.url, 'PUT', `/v1/keys/${bobInbox}/messages`, { jwt: from.jwt, body: { encryptedmessage: 'AQID', encryptionkey: 'BAUG', ...(clientId ? { clientId } : {}) } });
      expect(r.status, r.text).toBe(200);
      return r.json.MessageId;
    };
    const busOf = (s: RunningServer) => s.events as PgEventBus;

    beforeAll(async () => {
      url = await cluster.createDatabase();
      const options = { host: '127.0.0.1', port: 0, databaseUrl: url, rsaBits: 2048 as const, rateLimit: { perIp: 1_000_000, perDevice: 1_000_000 } };
      a = await startServer(options);
      b = await startServer(options);
      app = await a.admin.createApp({ name: 'stream-multi' });
      alice = await register(a, 'alice');
      const bobId = makeIdentity();
      bob1 = await register(a, 'bob', makeDevice(bobId));
      bob2 = await register(b, 'bob', makeDevice(bobId));
      const k = await apiRequest<{ token: string }>(a.url, 'POST', '/v1/keys', { jwt: bob1.jwt, body: { publickey: bob1.rsaPublicPem, privatekeyhash: bob1.privateKeyHash, publish: true } });
      bobInbox = k.json.token;
    });
    afterAll(async () => {
      await Promise.all(streams.map((s) => s.close()));
      await Promise.all([a?.close(), b?.close()]);
    });

    it('a send on A reaches the recipient connected to B; a stream on A gets it once, not again from its own NOTIFY', async () => {
      const onB = await stream(b, bob1);
      const onA = await stream(a, bob2);
      const id = await send(a, alice, 'x-1');
      const expected = { type: 'message', inbox: inboxTag(bobInbox), messageId: id };
      expect(await onB.next((e) => e.type === 'message')).toEqual(expected);
      expect(await onA.next((e) => e.type === 'message')).toEqual(expected);
      // A second send: its event on A arrives after any echo of the first would have.
      const id2 = await send(b, alice, 'x-2');
      await onA.next((e) => e.type === 'message' && e.messageId === id2);
      await onB.next((e) => e.type === 'message' && e.messageId === id2);
      expect(onA.events.filter((e) => e.type === 'message').map((e) => (e.type === 'message' ? e.messageId : 0))).toEqual([id, id2]);
    });

    it('delivered crosses instances: the sender on A hears the read made on B', async () => {
      const aliceOnA = await stream(a, alice);
      const first = await apiRequest<{ Cursor: number }>(b.url, 'GET', `/v1/keys/${bobInbox}/messages`, { jwt: bob1.jwt, headers: { 'x-private-key-hash': bob1.privateKeyHash } });
      await apiRequest(b.url, 'GET', `/v1/keys/${bobInbox}/messages?after=${first.json.Cursor}`, { jwt: bob1.jwt, headers: { 'x-private-key-hash': bob1.privateKeyHash } });
      expect(await aliceOnA.next((e) => e.type === 'delivered')).toEqual({ type: 'delivered', clientIds: ['x-1', 'x-2'] });
    });

    it('the listener connection dropped: the instance reconnects it and events flow again', async () => {
      const onB = await stream(b, bob1);
      const before = [busOf(a).listenerPid, busOf(b).listenerPid];
      expect(before.every((pid) => typeof pid === 'number')).toBe(true);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        // Both instances lose their LISTEN connection (A's is also the one it NOTIFYs on).
        const killed = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend(pid) AS ok FROM unnest($1::int[]) AS pid', [before]);
        expect(killed.rows.map((r) => r.ok)).toEqual([true, true]);
      } finally {
        await admin.end();
      }
      await waitUntil(() => [a, b].every((s, i) => busOf(s).listenerPid !== null && busOf(s).listenerPid !== before[i]), 'both listeners to reconnect');
      const id = await send(a, alice);
      await onB.next((e) => e.type === 'message' && e.messageId === id, 'a message event after the reconnect');
    });

    it('a device revoked through A: its stream on B closes with 4403, the user\'s other device on B hears it', async () => {
      const victim = await stream(b, bob2);
      const witness = await stream(b, bob1);
      const r = await apiRequest(a.url, 'POST', `/v1/devices/${bob2.deviceId}/revoke`, { jwt: bob1.jwt });
      expect(r.status, r.text).toBe(200);
      expect(await witness.next((e) => e.type === 'device-revoked')).toEqual({ type: 'device-revoked', deviceId: bob2.deviceId });
      expect((await victim.closed).code).toBe(StreamClose.deviceRevoked);
      expect(witness.isClosed()).toBe(false);
    });

    it('revoked by an admin: in-process (A) and with the CLI (another process\'s NOTIFY) both close the stream on B', async () => {
      const carol = await register(a, 'carol');
      const carolOnB = await stream(b, carol);
      await a.admin.revokeDevice(app.appId, carol.deviceId);
      expect((await carolOnB.closed).code).toBe(StreamClose.deviceRevoked);

      const dan = await register(b, 'dan');
      const danOnB = await stream(b, dan);
      const out: string[] = [];
      const code = await runCli(['revoke-device', '--app', app.appId, '--device', dan.deviceId], { stdout: (t) => out.push(t), stderr: (t) => out.push(t), env: { DATABASE_URL: url } });
      expect(code, out.join('')).toBe(0);
      expect((await danOnB.closed).code).toBe(StreamClose.deviceRevoked);
    });
  });
}
