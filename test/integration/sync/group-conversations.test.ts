/**
 * Conversations of several people (vault/threads.ts) end to end through a real
 * key service: a message to bob and carol and every reply to all of them meet
 * in one group conversation on each of the three devices, apart from the
 * two-person ones; the sender sees one bubble per send with each recipient's
 * state; reading and paging work by conversation; rows stored before this
 * version are filed under their group when they are next listed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '../../../shared/codes.js';
import { markFailed } from '../../../electron/engine/vault/outbox.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { engineOf } from '../../helpers/seed-conversation.js';
import { cleanup, type Profile, syncUntilSent, threeUsers, tmp } from './helpers.js';

describe('group conversations', () => {
  const root = tmp('sealpost-groups-');
  let ks: KeyService;
  let alice: Profile;
  let bob: Profile;
  let carol: Profile;
  let ids: Record<string, string> = {};

  beforeAll(async () => {
    ks = await startKeyService({});
    ({ alice, bob, carol, ids } = await threeUsers(root, ks));
  });

  afterAll(async () => {
    for (const p of [alice, bob, carol]) p?.close();
    await ks?.close();
    cleanup(root);
  });

  const groupOf = async (p: Profile) => {
    const rows = await p.ok('messages:conversations', {});
    const g = rows.find((r) => r.group);
    if (!g) return expect.fail('no group conversation');
    return { g, rows };
  };

  it('a message to two people opens one group conversation on all three devices, apart from the two-person ones', async () => {
    await alice.ok('messages:send', { to: ['bob'], text: 'just bob' });
    const sent = await alice.ok('messages:send', { to: ['bob', 'carol'], subject: 'plan', text: 'dinner at eight?' });
    expect(sent.messageIds).toHaveLength(2);
    await syncUntilSent(alice);
    await bob.ok('sync:now', {});
    await carol.ok('sync:now', {});

    const mine = await groupOf(alice);
    expect(mine.rows).toHaveLength(2);
    expect(mine.g).toMatchObject({ name: 'bob, carol', messages: 1, unread: 0, last: { direction: 'out', preview: 'dinner at eight?' } });
    expect(mine.g.members.map((m) => m.name)).toEqual(['bob', 'carol']);
    expect(mine.g.peer).toMatch(/^group:[0-9a-f]{32}$/);
    expect(mine.rows.find((r) => !r.group)).toMatchObject({ peer: ids.bob, name: 'bob', messages: 1, group: false });

    const bobs = await groupOf(bob);
    expect(bobs.g).toMatchObject({ name: 'alice, carol', messages: 1, unread: 1 });
    const carols = await groupOf(carol);
    expect(carols.g).toMatchObject({ name: 'alice, bob', messages: 1, unread: 1 });
    expect(carols.rows).toHaveLength(1);
    // Each device names the group for the people besides itself, so the ids differ between devices; the members agree.
    expect(new Set([mine.g.peer, bobs.g.peer, carols.g.peer]).size).toBe(3);
  });

  it('replies to everyone land in the same conversation; the sender sees one bubble per send with each copy', async () => {
    await carol.ok('messages:send', { to: ['alice', 'bob'], text: 'eight works' });
    await syncUntilSent(carol);
    await bob.ok('messages:send', { to: ['carol', 'alice'], text: 'me too' });
    await syncUntilSent(bob);
    await alice.ok('sync:now', {});
    // carol fetching bob's reply is what turns its copy to her delivered; alice's sync picks up the receipts.
    await carol.ok('sync:now', {});
    await bob.ok('sync:now', {});
    await alice.ok('sync:now', {});

    const { g } = await groupOf(alice);
    expect(g).toMatchObject({ messages: 3, unread: 2, last: { direction: 'in', preview: 'me too' } });
    const thread = await alice.ok('messages:list', { conversation: g.peer });
    expect(thread.map((m) => m.text)).toEqual(['me too', 'eight works', 'dinner at eight?']);
    expect(thread.every((m) => m.conversation === g.peer)).toBe(true);
    const [fromBob, fromCarol, own] = thread;
    expect(fromBob).toMatchObject({ direction: 'in', peerName: 'bob', recipients: null });
    expect(fromCarol).toMatchObject({ direction: 'in', peerName: 'carol' });
    expect(own!.recipients!.map((r) => r.peerName).sort()).toEqual(['bob', 'carol']);
    expect(own!.recipients!.every((r) => r.state === 'delivered')).toBe(true);
    expect(own).toMatchObject({ state: 'delivered', direction: 'out' });
    expect(own!.deliveredAt).not.toBeNull();

    // By person, every copy is still there: bob's view holds the two-person message and his copy of the group send.
    const withBob = await alice.ok('messages:list', { peer: ids.bob! });
    expect(withBob.filter((m) => m.direction === 'out').map((m) => m.text).sort()).toEqual(['dinner at eight?', 'just bob']);
    // The two-person conversation holds only what was between the two.
    expect((await alice.ok('messages:list', { conversation: ids.bob! })).map((m) => m.text)).toEqual(['just bob']);
  });

  it('marks a conversation read, pages it, and refuses peer and conversation together', async () => {
    const { g } = await groupOf(alice);
    expect(await alice.ok('messages:markRead', { conversation: g.peer })).toEqual({ changed: 2 });
    expect((await groupOf(alice)).g.unread).toBe(0);
    const first = await alice.ok('messages:list', { conversation: g.peer, limit: 2 });
    const rest = await alice.ok('messages:list', { conversation: g.peer, beforeId: first[1]!.id });
    expect([...first, ...rest].map((m) => m.text)).toEqual(['me too', 'eight works', 'dinner at eight?']);
    const both = await alice.call('messages:list', { conversation: g.peer, peer: ids.bob! });
    expect(both.code).toBe(ResultCode.InvalidParameter);
  });

  it('a failed copy shows on the send (failed overall), and Retry of that copy sends it', async () => {
    const sent = await alice.ok('messages:send', { to: ['bob', 'carol'], text: 'one copy fails' });
    // What the outbox does when the key service refuses a copy for good (a 4xx): that copy alone is failed.
    markFailed(engineOf(alice.service).db, sent.clientIds[1]!, { error: 'refused by the key service' });
    await alice.ok('sync:now', {});
    const { g } = await groupOf(alice);
    const [latest] = await alice.ok('messages:list', { conversation: g.peer, limit: 1 });
    expect(latest!.text).toBe('one copy fails');
    expect(latest!.recipients!.map((r) => [r.peerName, r.state])).toEqual([
      ['bob', 'sent'],
      ['carol', 'failed'],
    ]);
    expect(latest!.recipients![1]!.reason).toBe('refused by the key service');
    expect(latest!.state).toBe('failed');

    expect(await alice.ok('messages:retry', { id: latest!.recipients![1]!.id })).toEqual({ requeued: 1 });
    await alice.ok('sync:now', {});
    const [again] = await alice.ok('messages:list', { conversation: g.peer, limit: 1 });
    expect(again!.recipients!.map((r) => r.state)).toEqual(['sent', 'sent']);
    expect(again!.state).toBe('sent');
  });

  it('files messages stored before groups existed under their group when next listed', async () => {
    const { g } = await groupOf(bob);
    const db = engineOf(bob.service).db;
    db.prepare('UPDATE messages SET thread = NULL, batch = NULL').run();
    db.prepare('DELETE FROM thread_members').run();
    const again = await groupOf(bob);
    expect(again.g).toMatchObject({ peer: g.peer, name: 'alice, carol' });
    expect((db.prepare('SELECT count(*) AS n FROM messages WHERE thread IS NULL').get() as { n: number }).n).toBe(0);

    // The sender's batches come back too: one bubble per send.
    const adb = engineOf(alice.service).db;
    const before = await groupOf(alice);
    const beforeList = await alice.ok('messages:list', { conversation: before.g.peer });
    adb.prepare('UPDATE messages SET thread = NULL, batch = NULL').run();
    const after = await groupOf(alice);
    expect(after.g).toMatchObject({ peer: before.g.peer, messages: before.g.messages });
    expect((await alice.ok('messages:list', { conversation: after.g.peer })).map((m) => m.id)).toEqual(beforeList.map((m) => m.id));
  });
});
