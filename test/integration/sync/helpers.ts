/**
 * Two (or more) profiles of the real engine in this process, registered with a
 * real key service started by the test. Cheap PIN KDF, file keychain, RSA-2048,
 * short sync backoff: what differs from production only makes tests faster.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { Result } from '../../../shared/codes.js';
import type { Channel, Input, Output } from '../../../shared/contract.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../../electron/engine/dispatch.js';
import { openService, type Service } from '../../../electron/engine/service/index.js';

export interface Profile {
  dir: string;
  service: Service;
  call<C extends Channel>(channel: C, input: Input<C>): Promise<Result<Output<C>>>;
  /** The value of a call that must succeed. */
  ok<C extends Channel>(channel: C, input: Input<C>): Promise<Output<C>>;
  reopen(): Promise<Profile>;
  close(): void;
}

export const tmp = (prefix: string): string => mkdtempSync(path.join(tmpdir(), prefix));

export async function openProfile(dir: string): Promise<Profile> {
  const service = await openService({ profileDir: dir, keychain: 'file', kdfParams: TEST_KDF_PARAMS, actor: 'test', syncBackoff: { baseMs: 20, capMs: 200 } });
  const call = <C extends Channel>(channel: C, input: Input<C>) => dispatch(service.handlers, channel, input) as Promise<Result<Output<C>>>;
  const profile: Profile = {
    dir,
    service,
    call,
    ok: async (channel, input) => {
      const r = await call(channel, input);
      if (r.code !== 0) expect.fail(`${channel}: ${r.code} ${r.message}`);
      return r.value;
    },
    reopen: async () => {
      service.close();
      return openProfile(dir);
    },
    close: () => service.close(),
  };
  return profile;
}

/** A new profile with an identity (PIN 0), registered as `username`. */
export async function newUser(root: string, username: string, ks: { url: string; app: { appId: string; serverKey: string } }): Promise<Profile> {
  const p = await openProfile(path.join(root, username));
  await p.ok('identity:create', { pin: '0', rsaBits: 2048 });
  await p.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, username });
  return p;
}

export const cleanup = (dir: string): void => rmSync(dir, { recursive: true, force: true });

/** Syncs until the outbox is empty (each call backs off inside the engine; no timing is asserted). */
export async function syncUntilSent(p: Profile, maxRounds = 200): Promise<void> {
  for (let i = 0; i < maxRounds; i++) {
    await p.call('messages:retry', {});
    await p.call('sync:now', {});
    const s = await p.ok('sync:status', {});
    if (s.pending === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect.fail('outbox did not drain');
}

/** alice, bob and carol registered with `ks`, each having looked up the other two; `ids` maps each name to its user id. */
export async function threeUsers(root: string, ks: { url: string; app: { appId: string; serverKey: string } }): Promise<{ alice: Profile; bob: Profile; carol: Profile; ids: Record<string, string> }> {
  const [alice, bob, carol] = await Promise.all([newUser(root, 'alice', ks), newUser(root, 'bob', ks), newUser(root, 'carol', ks)]);
  const ids: Record<string, string> = {};
  for (const [p, others] of [
    [alice, ['bob', 'carol']],
    [bob, ['alice', 'carol']],
    [carol, ['alice', 'bob']],
  ] as const) {
    for (const o of others) ids[o] = (await p.ok('contacts:lookup', { username: o })).userId;
  }
  return { alice, bob, carol, ids };
}
