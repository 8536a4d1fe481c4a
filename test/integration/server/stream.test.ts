/**
 * The push stream (GET /v1/stream) on the SQLite key service: every event
 * reaches the devices it is addressed to and no others, revocation closes the
 * stream, and abuse is refused or closed cleanly while the service keeps
 * serving everyone else. Real key service on 127.0.0.1, real `ws` clients.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamClose, type StreamEvent } from '../../../shared/stream-wire.js';
import { signKeyChange } from '../../../electron/engine/crypto/key-change.js';
import { signDeviceJwt } from '../../../server/auth/jwt.js';
import { inboxTag } from '../../../server/index.js';
import { makeDevice, makeIdentity, startKeyService, type KeyService, type RegisteredDevice } from '../../helpers/key-service.js';
import { openStream, refusedUpgrade, type StreamClient } from '../../helpers/stream-client.js';

const JWT_SECRET = 'stream-test-secret-0123456789abcdef0123456789';

/** Publishes the device's RSA key as an inbox of its user; returns the token. */
async function inboxOf(ks: KeyService, device: RegisteredDevice): Promise<string> {
  const r = await ks.request<{ token: string }>('POST', '/v1/keys', { jwt: device.jwt, body: { publickey: device.rsaPublicPem, privatekeyhash: device.privateKeyHash, publish: true } });
  expect(r.status, r.text).toBe(200);
  return r.json.token;
}

async function send(ks: KeyService, from: RegisteredDevice, token: string, clientId?: string, message = randomBytes(24).toString('base64')): Promise<number> {
  const r = await ks.request<{ MessageId: number }>('PUT', `/v1/keys/${token}/messages`, {
    jwt: from.jwt,
    body: { encryptedmessage: message, encryptionkey: 'a2V5', ...(clientId ? { clientId } : {}) },
  });
  expect(r.status, r.text).toBe(200);
  return r.json.MessageId;
}

/** Nothing of `type` for this stream: checked after a later event proved the stream is caught up. */
const none = (s: StreamClient, match: (e: StreamEvent) => boolean) => expect(s.events.filter(match)).toEqual([]);

describe('push stream on SQLite: events reach the right devices', () => {
  let ks: KeyService;
  let alice: RegisteredDevice;
  let bob1: RegisteredDevice;
  let bob2: RegisteredDevice;
  let carol: RegisteredDevice;
  const streams: StreamClient[] = [];
  let sa: StreamClient, sb1: StreamClient, sb2: StreamClient, sc: StreamClient;
  let bobInbox: string;

  beforeAll(async () => {
    ks = await startKeyService();
    alice = await ks.registerDevice('alice');
    const bobId = makeIdentity();
    bob1 = await ks.registerDevice('bob', makeDevice(bobId));
    bob2 = await ks.registerDevice('bob', makeDevice(bobId));
    carol = await ks.registerDevice('carol');
    bobInbox = await inboxOf(ks, bob1);
    for (const d of [alice, bob1, bob2, carol]) streams.push(await openStream(ks.url, { jwt: d.jwt }));
    [sa, sb1, sb2, sc] = streams as [StreamClient, StreamClient, StreamClient, StreamClient];
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await ks.close();
  });

  /** An app-wide event on the real bus: once every open stream has it, each has seen everything published before. */
  async function barrier(): Promise<void> {
    const marker = randomBytes(4).toString('hex');
    ks.server.events.publish({ appId: ks.app.appId, everyone: true }, { type: 'link', linkId: marker.padEnd(32, '0') });
    for (const s of streams.filter((x) => !x.isClosed())) await s.next((e) => e.type === 'link' && e.linkId === marker.padEnd(32, '0'), 'the barrier');
  }

  it('says hello with the device and the heartbeat', () => {
    expect(sb1.events[0]).toEqual({ type: 'hello', deviceId: bob1.deviceId, heartbeatMs: 30_000 });
    expect(ks.server.streams.size).toBe(4);
  });

  it('message: the inbox owner\'s devices, with the inbox tag and the newest MessageId', async () => {
    const id = await send(ks, alice, bobInbox, 'm-1', 'AAAA');
    const expected = { type: 'message', inbox: inboxTag(bobInbox), messageId: id };
    expect(await sb1.next((e) => e.type === 'message')).toEqual(expected);
    expect(await sb2.next((e) => e.type === 'message')).toEqual(expected);
    expect(inboxTag(bobInbox)).toMatch(/^[0-9a-f]{16}$/);
    // A retry with the same clientId stores nothing: no event.
    await send(ks, alice, bobInbox, 'm-1', 'AAAA');
    await barrier();
    none(sa, (e) => e.type === 'message');
    none(sc, (e) => e.type === 'message');
    expect(sb1.events.filter((e) => e.type === 'message')).toHaveLength(1);
  });

  it('delivered: the sender device hears its clientIds when the recipient\'s read acknowledges them', async () => {
    await send(ks, alice, bobInbox, 'm-2');
    await send(ks, carol, bobInbox, 'c-1');
    await send(ks, alice, bobInbox); // no clientId: nothing to report
    const first = await ks.request<{ Cursor: number }>('GET', `/v1/keys/${bobInbox}/messages?limit=1000`, { jwt: bob1.jwt, headers: { 'x-private-key-hash': bob1.privateKeyHash } });
    expect(first.status).toBe(200);
    // Reading past the cursor acknowledges everything up to it.
    const ack = await ks.request('GET', `/v1/keys/${bobInbox}/messages?after=${first.json.Cursor}`, { jwt: bob2.jwt, headers: { 'x-private-key-hash': bob2.privateKeyHash } });
    expect(ack.status).toBe(304);
    expect(await sa.next((e) => e.type === 'delivered')).toEqual({ type: 'delivered', clientIds: ['m-1', 'm-2'] });
    expect(await sc.next((e) => e.type === 'delivered')).toEqual({ type: 'delivered', clientIds: ['c-1'] });
    // Acknowledging the same again reports nothing new.
    await ks.request('GET', `/v1/keys/${bobInbox}/messages?after=${first.json.Cursor}`, { jwt: bob1.jwt, headers: { 'x-private-key-hash': bob1.privateKeyHash } });
    await barrier();
    expect(sa.events.filter((e) => e.type === 'delivered')).toHaveLength(1);
    none(sb1, (e) => e.type === 'delivered');
    none(sb2, (e) => e.type === 'delivered');
  });

  it('item, grant, revoke: the owner and the grantees only', async () => {
    const item = `notes-${randomBytes(4).toString('hex')}`;
    const put = (device: RegisteredDevice, version: number) => ks.request('PUT', `/v1/items/${item}`, { jwt: device.jwt, body: { version, data: 'AAAA' } });
    expect((await put(alice, 0)).status).toBe(200);
    expect(await sa.next((e) => e.type === 'item')).toEqual({ type: 'item', item });

    const grant = await ks.request('PUT', `/v1/items/${item}/grants`, { jwt: alice.jwt, body: { grants: [{ userid: bob1.userid, role: 'edit', wrappedKey: 'AAAA' }] } });
    expect(grant.status, grant.text).toBe(200);
    for (const s of [sb1, sb2, sa]) expect(await s.next((e) => e.type === 'grant')).toEqual({ type: 'grant', item });

    expect((await put(bob2, 1)).status).toBe(200);
    for (const s of [sa, sb1, sb2]) expect(await s.next((e) => e.type === 'item')).toEqual({ type: 'item', item });

    const removed = await ks.request('DELETE', `/v1/items/${item}/grants?userid=${bob1.userid}`, { jwt: alice.jwt });
    expect(removed.status, removed.text).toBe(200);
    for (const s of [sb1, sb2, sa]) expect(await s.next((e) => e.type === 'revoke')).toEqual({ type: 'revoke', item });

    await barrier();
    none(sc, (e) => e.type === 'item' || e.type === 'grant' || e.type === 'revoke');
  });

  it('key-change: every device of the app, not another app\'s', async () => {
    const other = await startKeyService();
    try {
      const stranger = await other.registerDevice('alice');
      const so = await openStream(other.url, { jwt: stranger.jwt });
      const next = makeIdentity();
      const nextInbox = await ks.request<{ token: string }>('POST', '/v1/keys', {
        jwt: carol.jwt,
        body: { publickey: next.rsaPublicPem, privatekeyhash: 'ab'.repeat(32), publish: true },
      });
      expect(nextInbox.status).toBe(200);
      const change = signKeyChange(carol.signingSecretKey, { oldFingerprint: carol.pkg.fingerprint, newPublicKey: next.rsaPublicPem, changedAt: Date.now() });
      const r = await ks.request('POST', '/v1/users/me/key-changes', { jwt: carol.jwt, body: { keyChange: change } });
      expect(r.status, r.text).toBe(200);
      for (const s of streams) expect(await s.next((e) => e.type === 'key-change')).toEqual({ type: 'key-change', userId: carol.userid });
      other.server.events.publish({ appId: other.app.appId, everyone: true }, { type: 'link', linkId: 'f'.repeat(32) });
      await so.next((e) => e.type === 'link');
      none(so, (e) => e.type === 'key-change');
      await so.close();
    } finally {
      await other.close();
    }
  });

  it('link: a new device\'s request reaches the user\'s devices', async () => {
    const r = await ks.request<{ linkId: string }>('POST', '/v1/link', { clientKey: ks.app.clientKey, body: { username: 'bob', commitment: randomBytes(32).toString('base64url') } });
    expect(r.status, r.text).toBe(200);
    for (const s of [sb1, sb2]) expect(await s.next((e) => e.type === 'link' && e.linkId === r.json.linkId)).toEqual({ type: 'link', linkId: r.json.linkId });
    await barrier();
    for (const s of [sa, sc]) none(s, (e) => e.type === 'link' && e.linkId === r.json.linkId);
  });

  it('device-revoked: the user\'s devices hear it, the revoked device\'s streams close with 4403', async () => {
    const extra = await openStream(ks.url, { jwt: bob2.jwt });
    const r = await ks.request('POST', `/v1/devices/${bob2.deviceId}/revoke`, { jwt: bob1.jwt });
    expect(r.status, r.text).toBe(200);
    expect(await sb1.next((e) => e.type === 'device-revoked')).toEqual({ type: 'device-revoked', deviceId: bob2.deviceId });
    for (const s of [sb2, extra]) {
      await s.next((e) => e.type === 'device-revoked');
      expect(await s.closed).toEqual({ code: StreamClose.deviceRevoked, reason: 'this device was revoked' });
    }
    expect(sb1.isClosed()).toBe(false);
    // And it cannot come back.
    const again = await refusedUpgrade(ks.url, { jwt: bob2.jwt });
    expect(again).toMatchObject({ status: 403, body: { code: 'device_revoked' } });
    await barrier();
    none(sa, (e) => e.type === 'device-revoked');
  });

  it('one audit entry per opened stream', async () => {
    const audit = await ks.request<{ entries: Array<{ action: string; status: number; deviceId: string | null }> }>('GET', '/v1/audit?limit=1000', { serverKey: ks.app.serverKey });
    expect(audit.status, audit.text).toBe(200);
    const opened = audit.json.entries.filter((e) => e.action === 'stream.connect' && e.status === 101);
    expect(opened.filter((e) => e.deviceId === alice.deviceId)).toHaveLength(1);
    expect(opened.filter((e) => e.deviceId === bob2.deviceId)).toHaveLength(2);
  });
});

describe('push stream: the periodic re-check and shutdown', () => {
  it('a device revoked without an event (another process, a lost NOTIFY) is closed by the re-check', async () => {
    const ks = await startKeyService({ stream: { recheckSeconds: 1 } });
    try {
      const dave = await ks.registerDevice('dave');
      const s = await openStream(ks.url, { jwt: dave.jwt });
      // Straight to the store: nobody publishes.
      await ks.server.store.revokeDevice(ks.app.appId, dave.deviceId, Date.now());
      expect((await s.closed).code).toBe(StreamClose.deviceRevoked);
    } finally {
      await ks.close();
    }
  });

  it('a stream whose credential expires is closed with 4401', async () => {
    const ks = await startKeyService({ jwtSecret: JWT_SECRET, stream: { recheckSeconds: 1 } });
    try {
      const erin = await ks.registerDevice('erin');
      const { jwt } = signDeviceJwt({ appId: ks.app.appId, deviceId: erin.deviceId, userId: erin.userid, ttlSeconds: 2 }, Buffer.from(JWT_SECRET));
      const s = await openStream(ks.url, { jwt });
      expect(await s.closed).toEqual({ code: StreamClose.unauthorized, reason: 'the credential expired: reconnect with a new one' });
    } finally {
      await ks.close();
    }
  });

  it('a stream that does not answer pings is dropped by the heartbeat; one that answers stays', async () => {
    const ks = await startKeyService({ stream: { heartbeatSeconds: 2 } });
    try {
      const gus = await ks.registerDevice('gus');
      const deaf = await openStream(ks.url, { jwt: gus.jwt }, { autoPong: false });
      const alive = await openStream(ks.url, { jwt: gus.jwt });
      expect((await deaf.closed).code).toBe(1006); // terminated: no close frame
      expect(ks.server.streams.closed.heartbeat).toBe(1);
      expect(alive.isClosed()).toBe(false);
      await alive.close();
    } finally {
      await ks.close();
    }
  });

  it('server shutdown closes streams with 1001', async () => {
    const ks = await startKeyService();
    const frank = await ks.registerDevice('frank');
    const s = await openStream(ks.url, { jwt: frank.jwt });
    await ks.close();
    expect((await s.closed).code).toBe(StreamClose.goingAway);
  });
});
