/**
 * The managed policy's readReceipts (docs/deploy.md) on the real engine with a
 * real key service: forced off, reading a message (messages:read, the UI's path,
 * and messages:markRead) queues no receipt even though the user's own setting is
 * on, and the sender never sees Read. The same profile without the policy queues
 * one at once: the user's choice was never overwritten, and the set-up is one in
 * which a receipt is sent.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../../shared/codes.js';
import type { Channel, Input, Output } from '../../../shared/contract.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../../electron/engine/dispatch.js';
import { loadPolicy, NO_POLICY, type LoadedPolicy } from '../../../electron/engine/policy/load.js';
import { openService, type Service } from '../../../electron/engine/service/index.js';
import { RECEIPT_KIND } from '../../../electron/engine/sync/receipts.js';
import { listOutbox } from '../../../electron/engine/vault/outbox.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { engineOf } from '../../helpers/seed-conversation.js';
import { cleanup, newUser, type Profile, syncUntilSent, tmp } from './helpers.js';

describe('read receipts under the managed policy', () => {
  const root = tmp('sealpost-receipts-policy-');
  let ks: KeyService;
  let alice: Profile;
  let bob: Profile;
  /** bob's profile reopened under a policy (the tests' own handle; `bob` is closed by then). */
  let bobService: Service | undefined;
  let aliceId = '';

  beforeAll(async () => {
    ks = await startKeyService({});
    [alice, bob] = await Promise.all([newUser(root, 'alice', ks), newUser(root, 'bob', ks)]);
    await alice.ok('contacts:lookup', { username: 'bob' });
    aliceId = (await bob.ok('contacts:lookup', { username: 'alice' })).userId;
  });

  afterAll(async () => {
    bobService?.close();
    alice?.close();
    bob?.close();
    await ks?.close();
    cleanup(root);
  });

  /** Closes bob's engine and opens his profile again under `policy`, unlocked (PIN 0). */
  async function reopenBob(policy: LoadedPolicy): Promise<<C extends Channel>(channel: C, input: Input<C>) => Promise<Result<Output<C>>>> {
    bob.close();
    bobService?.close();
    bobService = await openService({ profileDir: bob.dir, keychain: 'file', kdfParams: TEST_KDF_PARAMS, actor: 'test', syncBackoff: { baseMs: 20, capMs: 200 }, policy });
    const s = bobService;
    const call = <C extends Channel>(channel: C, input: Input<C>) => dispatch(s.handlers, channel, input) as Promise<Result<Output<C>>>;
    expect(await call('session:authenticate', { pin: '0' })).toMatchObject({ code: 0 });
    return call;
  }

  const receiptsOfBob = () => listOutbox(engineOf(bobService!).db).filter((e) => e.kind === RECEIPT_KIND);

  /** alice writes each text to bob; both sync until bob has them. Returns alice's message ids. */
  async function aliceWrites(sync: () => Promise<unknown>, ...texts: string[]): Promise<number[]> {
    const ids: number[] = [];
    for (const text of texts) ids.push((await alice.ok('messages:send', { to: ['bob'], text })).messageIds[0]!);
    await syncUntilSent(alice);
    await sync();
    return ids;
  }

  it("forced off: reading queues no receipt and the sender sees Delivered; without the policy the user's choice (on) applies again", async () => {
    expect(await bob.ok('readReceipts:get', {})).toEqual({ enabled: true }); // the user's own setting: on (the default)

    const file = path.join(root, 'policy.json');
    writeFileSync(file, JSON.stringify({ readReceipts: false }));
    let call = await reopenBob(await loadPolicy({ env: { SEALPOST_POLICY_FILE: file } }));
    expect(await call('readReceipts:get', {})).toEqual({ code: 0, value: { enabled: false } });

    const [first, second] = await aliceWrites(() => call('sync:now', {}), 'read in the UI', 'read with the rest');
    const inBob = (await call('messages:list', { conversation: aliceId })) as Result<Output<'messages:list'>>;
    if (inBob.code !== 0) expect.fail(inBob.message);
    const opened = inBob.value.find((m) => m.text === 'read in the UI')!;
    expect(await call('messages:read', { id: opened.id })).toMatchObject({ code: 0, value: { text: 'read in the UI' } });
    expect(await call('messages:markRead', { conversation: aliceId })).toEqual({ code: 0, value: { changed: 1 } });
    expect(receiptsOfBob()).toEqual([]);

    await call('sync:now', {});
    await alice.ok('sync:now', {});
    for (const id of [first!, second!]) expect(await alice.ok('messages:read', { id })).toMatchObject({ state: 'delivered', readAt: null });

    // The policy lifted: the user's choice was never changed, so the next reading sends a receipt.
    call = await reopenBob(NO_POLICY);
    expect(await call('readReceipts:get', {})).toEqual({ code: 0, value: { enabled: true } });
    await aliceWrites(() => call('sync:now', {}), 'read after the policy went');
    expect(await call('messages:markRead', { conversation: aliceId })).toEqual({ code: 0, value: { changed: 1 } });
    expect(receiptsOfBob()).toHaveLength(1);
    expect(receiptsOfBob()[0]).toMatchObject({ recipient: aliceId });
  });
});
