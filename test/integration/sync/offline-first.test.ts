/**
 * Issue 4 reliability: compose while the key service is down, restart the
 * client, start the key service: every message arrives exactly once. And the
 * basics on the way: registration, directory lookup with safety numbers,
 * NoInternetAccess while local work goes on, unread state, search.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '../../../shared/codes.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, newUser, type Profile, tmp } from './helpers.js';

describe('offline-first messaging through a real key service', () => {
  const root = tmp('sealpost-sync-');
  const db = path.join(root, 'ks.db');
  let ks: KeyService;
  let port = 0;
  let alice: Profile;
  let bob: Profile;

  beforeAll(async () => {
    ks = await startKeyService({ db });
    port = ks.server.port;
    alice = await newUser(root, 'alice', ks);
    bob = await newUser(root, 'bob', ks);
  });

  afterAll(async () => {
    alice?.close();
    bob?.close();
    await ks?.close();
    cleanup(root);
  });

  it('registers, and a contact lookup shows the fingerprint and one safety number on both sides', async () => {
    const status = await alice.ok('sync:status', {});
    expect(status).toMatchObject({ registered: true, username: 'alice' });
    const b = await alice.ok('contacts:lookup', { username: 'bob' });
    const a = await bob.ok('contacts:lookup', { username: 'alice' });
    const bobId = await bob.ok('identity:get', {});
    expect(b.fingerprint).toBe(bobId.fingerprint);
    expect(b.safetyNumber).toBe(a.safetyNumber);
    expect(b).toMatchObject({ verified: false, keyChanged: false, reachable: true });
    expect((await alice.ok('contacts:verify', { userId: b.userId, fingerprint: b.fingerprint })).verified).toBe(true);
    const wrong = await alice.call('contacts:verify', { userId: b.userId, fingerprint: 'f'.repeat(64) });
    expect(wrong.code).toBe(ResultCode.Conflict);
  });

  it('queues while the key service is down, survives a client restart, and delivers each message exactly once', async () => {
    await ks.close();
    const texts = Array.from({ length: 12 }, (_, i) => `offline note ${i} ${'x'.repeat(i * 50)}`);
    for (const [i, text] of texts.entries()) {
      const r = await alice.ok('messages:send', { to: ['bob'], text, subject: `s${i}` });
      expect(r.messageIds).toHaveLength(1);
    }
    const down = await alice.call('sync:now', {});
    expect(down.code).toBe(ResultCode.NoInternetAccess);
    const lookup = await alice.call('contacts:lookup', { username: 'bob' });
    expect(lookup.code).toBe(ResultCode.NoInternetAccess);
    const status = await alice.ok('sync:status', {});
    expect(status).toMatchObject({ online: false, pending: 12 });
    const listed = await alice.ok('messages:list', {});
    expect(listed.every((m) => m.state === 'queued' && m.direction === 'out')).toBe(true);
    expect(listed[0]!.reason).toMatch(/cannot be reached/);

    alice = await alice.reopen();
    await alice.ok('session:authenticate', { pin: '0' });
    ks = await startKeyService({ db, port, keepDir: true });

    await alice.call('messages:retry', {});
    const sent = await alice.ok('sync:now', {});
    expect(sent.sent).toBe(12);
    expect((await alice.ok('sync:status', {})).pending).toBe(0);
    expect((await alice.ok('messages:list', {})).every((m) => m.state === 'sent')).toBe(true);

    const got = await bob.ok('sync:now', {});
    expect(got.received).toBe(12);
    expect((await bob.ok('sync:now', {})).received).toBe(0);
    // Resending everything (as after a crash before markSent) stores nothing twice.
    const again = await alice.ok('sync:now', {});
    expect(again.sent).toBe(0);

    const inbox = await bob.ok('messages:list', {});
    expect(inbox).toHaveLength(12);
    expect(new Set(inbox.map((m) => m.text))).toEqual(new Set(texts));
    expect(inbox.every((m) => m.sender === 'unverified' && m.peerName === 'alice' && !m.read)).toBe(true);
    expect((await bob.ok('sync:status', {})).unread).toBe(12);

    const found = await bob.ok('messages:list', { query: 'NOTE 3' });
    expect(found.map((m) => m.text)).toEqual([texts[3]]);
    const one = await bob.ok('messages:read', { id: found[0]!.id });
    expect(one).toMatchObject({ read: true, subject: 's3', text: texts[3] });
    expect((await bob.ok('sync:status', {})).unread).toBe(11);

    // Bob verifies Alice: her messages signed with that key now show as verified.
    const a = (await bob.ok('contacts:list', {})).find((c) => c.username === 'alice')!;
    await bob.ok('contacts:verify', { userId: a.userId, fingerprint: a.fingerprint });
    expect((await bob.ok('messages:list', {})).every((m) => m.sender === 'verified')).toBe(true);
  });

  it('a send to an unknown user while offline fails clearly, local reads keep working', async () => {
    await ks.close();
    const r = await alice.call('messages:send', { to: ['carol'], text: 'hi' });
    expect(r.code).toBe(ResultCode.NoInternetAccess);
    expect((await bob.ok('messages:list', { limit: 1 })).length).toBe(1);
    ks = await startKeyService({ db, port, keepDir: true });
  });
});
