/**
 * Conversation order and the chat list (messages:list, messages:conversations)
 * through the same dispatch IPC uses, on real profiles: bob's messages are real
 * envelopes stored the way a receive stores them, alice's are real composes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode, type Result } from '../../../shared/codes.js';
import type { Channel, Input, Output } from '../../../shared/contract.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../../electron/engine/dispatch.js';
import { openService, type Service } from '../../../electron/engine/service/index.js';
import { queueOutgoingMessage } from '../../../electron/engine/vault/index.js';
import { putMessageInfo } from '../../../electron/engine/vault/sync-store.js';
import { cacheKey, sealCache } from '../../../electron/engine/sync/content.js';
import { engineOf, seedConversation } from '../../helpers/seed-conversation.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-conversations-'));
let alice: Service;
let bob: Service;
let carol: Service;
const T = Date.UTC(2025, 4, 6, 6, 7, 20);

async function profile(name: string): Promise<Service> {
  const s = await openService({ profileDir: path.join(dir, name), keychain: 'file', kdfParams: TEST_KDF_PARAMS, actor: 'test' });
  const r = await dispatch(s.handlers, 'identity:create', { pin: '0', rsaBits: 2048 });
  if (r.code !== 0) throw new Error(r.message);
  return s;
}

async function ok<C extends Channel>(channel: C, input: Input<C>): Promise<Output<C>> {
  const r = (await dispatch(alice.handlers, channel, input)) as Result<Output<C>>;
  if (r.code !== 0) throw new Error(`${channel}: ${r.code} ${r.message}`);
  return r.value;
}

/** An outgoing message of alice's, stored as compose stores it, sealed at `at`. */
function sent(peer: string, text: string, at: number): number {
  const c = engineOf(alice);
  const key = cacheKey(c.unlocked().seed);
  const content = { v: 1 as const, from: { username: 'alice', userid: 'alice-id' }, to: [{ username: peer, userid: peer }], text, attachments: [] };
  const { messageId } = queueOutgoingMessage(c.db, { clientId: `c-${text}`, peer, envelope: new Uint8Array([1, 2, 3]), payload: new Uint8Array([123, 125]), now: at });
  putMessageInfo(c.db, { messageId, sender: 'self', cache: sealCache(key, content), sentAt: at, attachments: 0 });
  key.fill(0);
  return messageId;
}

beforeAll(async () => {
  [alice, bob, carol] = await Promise.all([profile('alice'), profile('bob'), profile('carol')]);
});

afterAll(() => {
  for (const s of [alice, bob, carol]) s?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('conversation order', () => {
  it("shows bob's messages by the time he signed them, not by when they arrived here", async () => {
    // The outbox uploads several at once: 6:07:26 reached the key service (and this device) before 6:07:25.
    const [late, early] = seedConversation(alice, bob, {
      username: 'bob',
      userId: 'bob-id',
      count: 2,
      sentAt: (i) => (i === 0 ? T + 6000 : T + 5000),
      text: (i) => (i === 0 ? 'second' : 'first'),
      verified: true,
    });
    expect(late).toBeLessThan(early!);
    const mine = sent('bob-id', 'mine in between', T + 5500);
    const list = await ok('messages:list', { peer: 'bob-id' });
    expect(list.map((m) => m.text)).toEqual(['second', 'mine in between', 'first']);
    expect(list.map((m) => m.id)).toEqual([late, mine, early]);
  });

  it('breaks ties of the same millisecond by id, the same on every page', async () => {
    const ids = seedConversation(alice, bob, { username: 'bob', userId: 'bob-id', count: 5, sentAt: () => T + 9000, text: (i) => `tie ${i}`, firstServerId: 100 });
    const all = (await ok('messages:list', { peer: 'bob-id' })).map((m) => m.id);
    expect(all.slice(0, 5)).toEqual([...ids].reverse());
    // Paged two at a time, the pages join up to the same order with nothing lost or repeated.
    const paged: number[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const page = await ok('messages:list', { peer: 'bob-id', limit: 2, ...(beforeId && { beforeId }) });
      if (page.length === 0) break;
      paged.push(...page.map((m) => m.id));
      beforeId = page[page.length - 1]!.id;
    }
    expect(paged).toEqual(all);
  });

  it('answers NotFound for a page before a message that does not exist', async () => {
    const r = await dispatch(alice.handlers, 'messages:list', { peer: 'bob-id', beforeId: 999_999 });
    expect(r.code).toBe(ResultCode.NotFound);
  });

  it('searches the opened text in conversation order', async () => {
    const found = await ok('messages:list', { query: 'TIE', limit: 3 });
    expect(found.map((m) => m.text)).toEqual(['tie 4', 'tie 3', 'tie 2']);
  });
});

describe('the chat list', () => {
  it('has one row per peer by last activity, with unread counts, the sender check and a preview from the cache', async () => {
    seedConversation(alice, carol, { username: 'carol', userId: 'carol-id', count: 3, sentAt: (i) => T + 20_000 + i, text: (i) => `carol   says\n${i}`, read: false });
    let rows = await ok('messages:conversations', {});
    expect(rows.map((r) => r.name)).toEqual(['carol', 'bob']);
    expect(rows[0]).toMatchObject({ peer: 'carol-id', verified: false, keyChanged: false, messages: 3, unread: 3, lastAt: T + 20_002 });
    expect(rows[0]!.last).toMatchObject({ direction: 'in', state: 'received', sender: 'unverified', preview: 'carol says 2', attachments: 0 });
    expect(rows[1]).toMatchObject({ peer: 'bob-id', verified: true, messages: 8, unread: 7 });
    expect(rows[1]!.last.preview).toBe('tie 4');

    // alice writes to bob: bob's conversation moves to the top with her message as its preview.
    sent('bob-id', 'see you at eight', T + 30_000);
    rows = await ok('messages:conversations', {});
    expect(rows.map((r) => r.name)).toEqual(['bob', 'carol']);
    expect(rows[0]!.last).toMatchObject({ direction: 'out', state: 'queued', sender: 'self', preview: 'see you at eight' });

    // Paged.
    expect((await ok('messages:conversations', { limit: 1, offset: 1 })).map((r) => r.name)).toEqual(['carol']);
    expect(await ok('messages:conversations', { limit: 1, offset: 2 })).toEqual([]);

    await ok('messages:markRead', { peer: 'carol-id' });
    expect((await ok('messages:conversations', {})).find((r) => r.name === 'carol')!.unread).toBe(0);
  });

  it('refuses bad paging input at the edge', async () => {
    expect((await dispatch(alice.handlers, 'messages:conversations', { limit: 0 })).code).toBe(ResultCode.InvalidParameter);
    expect((await dispatch(alice.handlers, 'messages:conversations', { offset: -1 })).code).toBe(ResultCode.InvalidParameter);
    expect((await dispatch(alice.handlers, 'messages:conversations', { peer: 'x' })).code).toBe(ResultCode.InvalidParameter);
  });
});
