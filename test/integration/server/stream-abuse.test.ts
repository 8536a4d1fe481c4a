/**
 * Push stream abuse on the SQLite key service: bad credentials are refused
 * before the upgrade with the service's error shape; a flood of connections
 * from one address is bounded; a client that never reads is closed with 4408
 * without delaying anyone else; a client that sends data is closed; and after
 * all of it the service still answers /health and delivers a normal send.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { StreamClose } from '../../../shared/stream-wire.js';
import { signDeviceJwt } from '../../../server/auth/jwt.js';
import { inboxTag } from '../../../server/index.js';
import { apiRequest, makeDevice, makeIdentity, startKeyService, type KeyService, type RegisteredDevice } from '../../helpers/key-service.js';
import { attemptUpgrade, openStream, refusedUpgrade, waitUntil, type StreamClient } from '../../helpers/stream-client.js';

const JWT_SECRET = 'stream-abuse-secret-0123456789abcdef012345678';
const PER_IP = 20;

describe('push stream abuse (SQLite)', () => {
  let ks: KeyService;
  let ivy: RegisteredDevice;
  let ivyInbox: string;
  let watcher: StreamClient;

  beforeAll(async () => {
    ks = await startKeyService({ jwtSecret: JWT_SECRET, stream: { perIp: PER_IP, sendBufferBytes: 16 * 1024 } });
    ivy = await ks.registerDevice('ivy');
    const k = await ks.request<{ token: string }>('POST', '/v1/keys', { jwt: ivy.jwt, body: { publickey: ivy.rsaPublicPem, privatekeyhash: ivy.privateKeyHash, publish: true } });
    ivyInbox = k.json.token;
    // A well-behaved stream that must keep getting its events through everything below.
    watcher = await openStream(ks.url, { jwt: ivy.jwt });
  });
  afterAll(async () => {
    await watcher.close();
    await ks.close();
  });

  /** A send to ivy reaches her well-behaved stream. */
  async function ivyStillServed(): Promise<void> {
    const sent = await ks.request<{ MessageId: number }>('PUT', `/v1/keys/${ivyInbox}/messages`, { jwt: ivy.jwt, body: { encryptedmessage: 'AAAA', encryptionkey: 'AAAA' } });
    expect(sent.status, sent.text).toBe(200);
    await watcher.next((e) => e.type === 'message' && e.messageId === sent.json.MessageId, 'the watcher\'s message event');
    expect(watcher.isClosed()).toBe(false);
  }

  it('refuses bad credentials before the upgrade, in the error shape', async () => {
    expect(await refusedUpgrade(ks.url, {})).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(await refusedUpgrade(ks.url, { jwt: 'not-a-token' })).toMatchObject({ status: 401, body: { code: 'invalid_token' } });
    // A client key names no device.
    expect(await refusedUpgrade(ks.url, { clientKey: ks.app.clientKey })).toMatchObject({ status: 401, body: { code: 'wrong_credential' } });

    const expired = signDeviceJwt({ appId: ks.app.appId, deviceId: ivy.deviceId, userId: ivy.userid, ttlSeconds: 60, now: Date.now() - 3_600_000 }, Buffer.from(JWT_SECRET));
    expect(await refusedUpgrade(ks.url, { jwt: expired.jwt })).toMatchObject({ status: 401, body: { code: 'token_expired' } });

    // Another key service's token (another secret), and a token naming this device under another app.
    const foreign = signDeviceJwt({ appId: ks.app.appId, deviceId: ivy.deviceId, userId: ivy.userid, ttlSeconds: 60 }, Buffer.from('another-service-secret-0123456789abcdef01234'));
    expect(await refusedUpgrade(ks.url, { jwt: foreign.jwt })).toMatchObject({ status: 401, body: { code: 'invalid_token' } });
    const otherApp = await ks.server.admin.createApp({ name: 'other app' });
    const crossed = signDeviceJwt({ appId: otherApp.appId, deviceId: ivy.deviceId, userId: ivy.userid, ttlSeconds: 60 }, Buffer.from(JWT_SECRET));
    expect(await refusedUpgrade(ks.url, { jwt: crossed.jwt })).toMatchObject({ status: 401, body: { code: 'invalid_token' } });

    const jack = await ks.registerDevice('jack');
    expect((await ks.request('POST', `/v1/devices/${jack.deviceId}/revoke`, { jwt: jack.jwt })).status).toBe(200);
    expect(await refusedUpgrade(ks.url, { jwt: jack.jwt })).toMatchObject({ status: 403, body: { code: 'device_revoked' } });

    for (const r of [await refusedUpgrade(ks.url, {}), await refusedUpgrade(ks.url, { jwt: jack.jwt })]) expect(typeof r.body.message).toBe('string');
    await ivyStillServed();
  });

  it('a plain GET, or an upgrade of another WebSocket version, is a clean 4xx', async () => {
    const plain = await ks.request('GET', '/v1/stream', { jwt: ivy.jwt });
    expect(plain.status).toBe(426);
    expect(plain.json).toMatchObject({ code: 'upgrade_required' });
    expect((await ks.request('GET', '/v1/stream')).status).toBe(401);

    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${ks.url}/v1/stream`, {
        headers: { authorization: `Bearer ${ivy.jwt}`, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '8', 'sec-websocket-key': randomBytes(16).toString('base64') },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('upgrade', (_res, socket) => {
        socket.destroy();
        reject(new Error('upgraded'));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(426);
  });

  it('1,000 connection attempts from one address: at most the per-address limit open, the rest refused with 429', async () => {
    const identity = makeIdentity();
    const devices: RegisteredDevice[] = [];
    for (let i = 0; i < 25; i++) devices.push(await ks.registerDevice('kim', makeDevice(identity)));
    const open: WebSocket[] = [];
    const statuses: number[] = [];
    let next = 0;
    // 50 at a time; the loop ends by itself after 1,000 attempts.
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < 1000) {
          const device = devices[next++ % devices.length]!;
          const r = await attemptUpgrade(ks.url, { jwt: device.jwt });
          statuses.push(r.status);
          if (r.ws) open.push(r.ws);
        }
      }),
    );
    expect(statuses).toHaveLength(1000);
    // The watcher holds one of the address's slots.
    expect(statuses.filter((s) => s === 101)).toHaveLength(PER_IP - 1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1000 - (PER_IP - 1));
    expect(ks.server.streams.size).toBe(PER_IP);
    const refused = await refusedUpgrade(ks.url, { jwt: ivy.jwt });
    expect(refused).toMatchObject({ status: 429, body: { code: 'too_many_streams' } });
    await ivyStillServed();

    for (const ws of open) ws.close();
    await waitUntil(() => ks.server.streams.size === 1, 'the flood\'s streams to close');
    const again = await openStream(ks.url, { jwt: ivy.jwt });
    await again.close();
  });

  it('a client that never reads is closed with 4408; the others still get their events', async () => {
    const liv = await ks.registerDevice('liv');
    const slow = await openStream(ks.url, { jwt: liv.jwt });
    const fine = await openStream(ks.url, { jwt: liv.jwt });
    slow.ws.pause(); // stops reading its socket: the kernel buffers fill, then the server's send buffer
    const closedBefore = ks.server.streams.closed.slowConsumer;
    let made = 0;
    // Item events of ~230 bytes each, until the server gives up on the slow stream: the kernel's socket buffers take
    // ~3.5 MB first on Linux loopback (~15,000 events). Bounded: the test fails past 100,000.
    while (ks.server.streams.countForDevice(ks.app.appId, liv.deviceId) === 2) {
      if (made > 100_000) throw new Error('the slow stream was never closed');
      const batch = Array.from({ length: 25 }, () => `x${randomBytes(8).toString('hex')}${'y'.repeat(180)}`);
      made += batch.length;
      const puts = await Promise.all(batch.map((id) => ks.request('PUT', `/v1/items/${id}`, { jwt: liv.jwt, body: { version: 0, data: 'AAAA' } })));
      expect(puts.every((p) => p.status === 200)).toBe(true);
    }
    expect(ks.server.streams.closed.slowConsumer).toBe(closedBefore + 1);
    // The reading stream of the same device got every event and stays open; so does everyone else's.
    await waitUntil(() => fine.events.filter((e) => e.type === 'item').length === made, 'the reading stream\'s item events');
    expect(fine.isClosed()).toBe(false);
    await ivyStillServed();
    // Once it reads again, it finds the close code after what was queued.
    slow.ws.resume();
    expect((await slow.closed).code).toBe(StreamClose.slowConsumer);
    await fine.close();
  });

  it('a client that sends data frames is closed with 1008', async () => {
    const s = await openStream(ks.url, { jwt: ivy.jwt });
    s.ws.send('hello?');
    expect(await s.closed).toEqual({ code: StreamClose.protocol, reason: 'the stream accepts no data frames' });
    const big = await openStream(ks.url, { jwt: ivy.jwt });
    big.ws.send(Buffer.alloc(64 * 1024));
    expect((await big.closed).code).toBe(1009); // over maxPayload: ws refuses the frame itself
  });

  it('after all that: /health is ok and a normal send is delivered live', async () => {
    const health = await apiRequest(ks.url, 'GET', '/health');
    expect(health.status).toBe(200);
    await ivyStillServed();
    const inboxes = new Set(watcher.events.flatMap((e) => (e.type === 'message' ? [e.inbox] : [])));
    expect([...inboxes]).toEqual([inboxTag(ivyInbox)]);
  });
});
