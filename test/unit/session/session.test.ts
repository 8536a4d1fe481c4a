/** The unlocked state: zero-fill on lock, idle auto-lock, listeners. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { FileKeychain } from '../../../electron/engine/keychain/index.js';
import { DEFAULT_AUTO_LOCK_MS, PinVault, Session, SessionLockedError, type LockReason } from '../../../electron/engine/session/index.js';

const SECRETS = Uint8Array.from({ length: 48 }, (_, i) => i + 1);
let dir: string;
let vault: PinVault;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-session-'));
  vault = await PinVault.create(new FileKeychain(dir, 'default'), { pin: '2580', secrets: SECRETS, kdfParams: TEST_KDF_PARAMS });
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe('Session', () => {
  it('unlock holds the secrets; lock zero-fills the very buffer callers were given', async () => {
    const session = new Session(vault);
    expect(session.isUnlocked()).toBe(false);
    expect(() => session.secrets()).toThrow(SessionLockedError);
    await session.unlock('2580');
    const held = session.secrets();
    expect(held).toEqual(SECRETS);
    expect(session.lock()).toBe(true);
    expect(held.every((b) => b === 0)).toBe(true);
    expect(session.isUnlocked()).toBe(false);
    expect(session.lock()).toBe(false);
  });

  it('a wrong PIN leaves it locked and passes the typed error through', async () => {
    const session = new Session(vault);
    await expect(session.unlock('0000')).rejects.toMatchObject({ kind: 'wrong-pin', attemptsLeft: 9 });
    expect(session.isUnlocked()).toBe(false);
  });

  it(`auto-locks after ${DEFAULT_AUTO_LOCK_MS / 60_000} idle minutes by default; touch() postpones it`, async () => {
    const session = new Session(vault);
    const reasons: LockReason[] = [];
    session.onLock((r) => reasons.push(r));
    await session.unlock('2580');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    session.touch(); // re-arm under the fake clock
    vi.advanceTimersByTime(DEFAULT_AUTO_LOCK_MS - 1000);
    session.touch();
    vi.advanceTimersByTime(DEFAULT_AUTO_LOCK_MS - 1000);
    expect(session.isUnlocked()).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(session.isUnlocked()).toBe(false);
    expect(reasons).toEqual(['idle']);
  });

  it('autoLockMs is configurable; 0 never auto-locks; bad values are refused', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const session = new Session(vault, { autoLockMs: 60_000 });
    await session.unlock('2580');
    vi.advanceTimersByTime(60_000);
    expect(session.isUnlocked()).toBe(false);
    await session.unlock('2580');
    session.setAutoLockMs(0);
    vi.advanceTimersByTime(24 * 3600_000);
    expect(session.isUnlocked()).toBe(true);
    expect(() => session.setAutoLockMs(-1)).toThrow(RangeError);
    expect(() => new Session(vault, { autoLockMs: 1.5 })).toThrow(RangeError);
  });

  it('listeners hear every lock with its reason; one failing listener does not stop the lock', async () => {
    const session = new Session(vault);
    const reasons: LockReason[] = [];
    session.onLock(() => {
      throw new Error('listener bug');
    });
    const off = session.onLock((r) => reasons.push(r));
    await session.unlock('2580');
    session.lock('system');
    expect(session.isUnlocked()).toBe(false);
    off();
    await session.unlock('2580');
    session.lock();
    expect(reasons).toEqual(['system']);
  });

  it('a wipe during unlock locks', async () => {
    const session = new Session(vault);
    await session.unlock('2580');
    await vault.wipe();
    await expect(session.unlock('2580')).rejects.toMatchObject({ kind: 'wiped' });
    expect(session.isUnlocked()).toBe(false);
  });
});
