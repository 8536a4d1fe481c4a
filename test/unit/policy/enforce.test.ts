/**
 * The engine enforces the managed policy on the contract (IPC, bridge and CLI alike):
 * auto-lock capped (also a value saved before the policy), notification text and read
 * receipts forced off, escrow preset, and under an invalid policy every channel but engine:status and
 * policy:get answers PolicyInvalid. Real engine, file keychain, in-process dispatch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../../electron/engine/dispatch.js';
import { loadPolicy } from '../../../electron/engine/policy/load.js';
import { openService, type Service } from '../../../electron/engine/service/index.js';

let dir: string;
let service: Service | undefined;

async function open(policy: unknown): Promise<(channel: string, input?: unknown) => Promise<{ code: number; value?: unknown; message?: string; details?: Record<string, unknown> }>> {
  service?.close();
  const file = path.join(dir, 'policy.json');
  writeFileSync(file, typeof policy === 'string' ? policy : JSON.stringify(policy));
  service = await openService({ profileDir: path.join(dir, 'p'), keychain: 'file', kdfParams: TEST_KDF_PARAMS, policy: await loadPolicy({ env: { SEALPOST_POLICY_FILE: file } }) });
  const s = service;
  return (channel, input = {}) => dispatch(s.handlers, channel, input) as never;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-enforce-'));
});
afterEach(() => {
  service?.close();
  service = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('policy enforced by the engine', () => {
  it('auto-lock: "never" and longer than the maximum are refused; a value saved before the policy is capped', async () => {
    let call = await open({});
    await call('identity:create', { pin: '0', rsaBits: 2048 });
    expect(await call('session:setAutoLock', { ms: 0 })).toMatchObject({ code: 0 });
    call = await open({ autoLockMaxMs: 900_000 });
    expect(await call('engine:status')).toMatchObject({ code: 0, value: { autoLockMs: 900_000 } });
    expect(await call('session:setAutoLock', { ms: 0 })).toMatchObject({ code: -430, details: { policy: 'autoLockMaxMs' }, message: expect.stringMatching(/at most 15 min/) });
    expect(await call('session:setAutoLock', { ms: 3_600_000 })).toMatchObject({ code: -430 });
    expect(await call('session:setAutoLock', { ms: 300_000 })).toMatchObject({ code: 0, value: { autoLockMs: 300_000 } });
  });

  it('notification text forced off: set refused, get reports off even if it was on before', async () => {
    let call = await open({});
    await call('identity:create', { pin: '0', rsaBits: 2048 });
    expect(await call('notifications:set', { showText: true })).toMatchObject({ code: 0, value: { showText: true } });
    call = await open({ notificationPreviews: 'off' });
    expect(await call('notifications:get')).toMatchObject({ code: 0, value: { showText: false } });
    expect(service!.messaging.notificationPreview()).toBeNull();
    expect(await call('notifications:set', { showText: true })).toMatchObject({ code: -430, details: { policy: 'notificationPreviews' } });
  });

  it('read receipts forced off: set on refused, get reports off even if the user turned them on, set off allowed', async () => {
    let call = await open({});
    await call('identity:create', { pin: '0', rsaBits: 2048 });
    expect(await call('readReceipts:set', { enabled: true })).toMatchObject({ code: 0, value: { enabled: true } });
    call = await open({ readReceipts: false });
    expect(await call('readReceipts:get')).toEqual({ code: 0, value: { enabled: false } });
    // The engine's own handler says so too (the policy reaches the messaging service, not only the channel's wrapper).
    expect(await service!.messaging.handlers()['readReceipts:get']({})).toEqual({ code: 0, value: { enabled: false } });
    expect(await call('readReceipts:set', { enabled: true })).toMatchObject({
      code: -430,
      message: 'Your organization turned read receipts off (policy: readReceipts).',
      details: { policy: 'readReceipts' },
    });
    expect(await call('readReceipts:set', { enabled: false })).toEqual({ code: 0, value: { enabled: false } });
    expect(await call('policy:get')).toMatchObject({ code: 0, value: { settings: { readReceipts: { value: false, source: 'policy', locked: true } } } });
    // true leaves the choice to the user: the choice saved under the policy (off) applies, and on is allowed again.
    call = await open({ readReceipts: true });
    expect(await call('readReceipts:get')).toEqual({ code: 0, value: { enabled: false } });
    expect(await call('readReceipts:set', { enabled: true })).toEqual({ code: 0, value: { enabled: true } });
  });

  it('escrow: another escrow service is refused', async () => {
    const call = await open({ escrow: { url: 'https://escrow.example.org', appId: 'acme-escrow', clientKey: 'ck_escrow_51ab77' } });
    await call('identity:create', { pin: '0', rsaBits: 2048 });
    const r = await call('recovery:backup', { pin: '0', escrow: { url: 'https://elsewhere.example', appId: 'acme-escrow', clientKey: 'ck_escrow_51ab77' } });
    expect(r).toMatchObject({ code: -430, details: { policy: 'escrow' } });
  });

  it('invalid policy: status and policy:get answer, everything else is PolicyInvalid with the file and the problem', async () => {
    const call = await open('{"requirePin": 1}');
    expect(await call('engine:status')).toMatchObject({ code: 0, value: { hasIdentity: false } });
    expect(await call('policy:get')).toMatchObject({ code: 0, value: { state: 'invalid', error: expect.stringMatching(/policy\.json: invalid policy: requirePin/) } });
    for (const [channel, input] of [['identity:create', { pin: '123456' }], ['audit:list', {}], ['messages:list', {}], ['session:setAutoLock', { ms: 1000 }]] as const) {
      expect(await call(channel, input), channel).toMatchObject({ code: -431, message: expect.stringMatching(/policy\.json: invalid policy/) });
    }
    expect(await call('audit:verify')).toMatchObject({ code: -431 });
  });
});
