/**
 * The file keychain and the backend choice when no Secret Service answers. This
 * file never reaches a real bus: every probe gets an environment without one, or a
 * fake keytar.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  dbusProblem,
  FileKeychain,
  KEYCHAIN_FILE,
  type KeytarApi,
  openKeychain,
  probeSecretService,
} from '../../../electron/engine/keychain/index.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'sealpost-kcf-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** An in-memory keytar that works, and counts calls. */
function workingKeytar(): KeytarApi & { calls: number } {
  const store = new Map<string, string>();
  return {
    calls: 0,
    async getPassword(s, a) {
      this.calls++;
      return store.get(`${s}\0${a}`) ?? null;
    },
    async setPassword(s, a, p) {
      this.calls++;
      store.set(`${s}\0${a}`, p);
    },
    async deletePassword(s, a) {
      this.calls++;
      return store.delete(`${s}\0${a}`);
    },
  };
}

const hanging: KeytarApi = {
  getPassword: () => new Promise(() => undefined),
  setPassword: () => new Promise(() => undefined),
  deletePassword: () => new Promise(() => undefined),
};

describe('backend choice without a Secret Service', () => {
  it('falls back to the file at once when the bus address points nowhere', async () => {
    const t0 = performance.now();
    const kc = await openKeychain({
      profileDir: root,
      profileName: 'p',
      env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/sealpost-bus' },
    });
    expect(kc.backend).toBe('file');
    expect(kc.reason).toMatch(/no Secret Service .*socket does not exist/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('falls back when there is no session bus at all', async () => {
    const kc = await openKeychain({ profileDir: root, profileName: 'p', env: {} });
    expect(kc.backend).toBe('file');
    expect(kc.reason).toMatch(/DBUS_SESSION_BUS_ADDRESS is not set/);
  });

  it('gives up on a Secret Service that hangs, after the probe timeout', async () => {
    const t0 = performance.now();
    const kc = await openKeychain({ profileDir: root, profileName: 'p', env: { DISPLAY: ':0' }, keytar: hanging, probeTimeoutMs: 150 });
    expect(kc.backend).toBe('file');
    expect(kc.reason).toMatch(/no answer .* within 150 ms/);
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  it('falls back when the Secret Service throws, or reads but cannot write', async () => {
    const throwing: KeytarApi = { ...hanging, setPassword: () => Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY')) };
    const r = await probeSecretService({ profileName: 'p', env: { DISPLAY: ':0' }, keytar: throwing });
    expect(r).toEqual({ ok: false, reason: 'the Secret Service refused: Cannot autolaunch D-Bus without X11 $DISPLAY' });
    const lossy: KeytarApi = { ...workingKeytar(), getPassword: async () => null };
    expect(await probeSecretService({ profileName: 'p', env: { DISPLAY: ':0' }, keytar: lossy })).toMatchObject({ ok: false });
  });

  it('uses a Secret Service that answers, and keeps a profile with a keychain.json on the file', async () => {
    const keytar = workingKeytar();
    const ss = await openKeychain({ profileDir: path.join(root, 'a'), profileName: 'p', env: { DISPLAY: ':0' }, keytar });
    expect(ss.backend).toBe('secret-service');
    const fileProfile = path.join(root, 'b');
    await new FileKeychain(fileProfile, 'p').set('identity', new Uint8Array([9]));
    const sticky = await openKeychain({ profileDir: fileProfile, profileName: 'p', env: { DISPLAY: ':0' }, keytar });
    expect(sticky.backend).toBe('file');
    expect(await sticky.get('identity')).toEqual(new Uint8Array([9]));
  });

  it("prefer: 'secret-service' fails loudly instead of falling back", async () => {
    await expect(openKeychain({ profileDir: root, profileName: 'p', prefer: 'secret-service', env: {} })).rejects.toMatchObject({
      kind: 'unavailable',
    });
  });

  it('parses D-Bus addresses', () => {
    expect(dbusProblem({ DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/dbus-x,guid=1' })).toBeNull();
    expect(dbusProblem({ DBUS_SESSION_BUS_ADDRESS: `unix:path=${root}` })).toBeNull();
    expect(dbusProblem({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nope;tcp:host=localhost,port=1' })).toBeNull();
    expect(dbusProblem({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nope;unix:path=/nope2' })).toMatch(/does not exist/);
    expect(dbusProblem({ DISPLAY: ':0' })).toBeNull();
  });

  it('refuses bad profile names and unknown accounts', async () => {
    await expect(openKeychain({ profileDir: root, profileName: '../x', prefer: 'file' })).rejects.toMatchObject({ kind: 'invalid-input' });
    const kc = new FileKeychain(root, 'p');
    // @ts-expect-error an account name the UI might try to pass through
    await expect(kc.get('anything')).rejects.toMatchObject({ kind: 'invalid-input' });
  });
});

describe('FileKeychain', () => {
  it('round-trips, keeps profiles apart, and reports missing entries as null/false', async () => {
    const a = new FileKeychain(root, 'alice');
    const b = new FileKeychain(root, 'bob');
    const value = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
    expect(await a.get('identity')).toBeNull();
    await a.set('identity', value);
    await b.set('identity', new Uint8Array([1]));
    expect(await a.get('identity')).toEqual(value);
    expect(await b.get('identity')).toEqual(new Uint8Array([1]));
    expect(await a.delete('identity')).toBe(true);
    expect(await a.delete('identity')).toBe(false);
    expect(await b.get('identity')).toEqual(new Uint8Array([1]));
  });

  it('writes the file 0600 atomically (no temp files left), and repairs loose permissions', async () => {
    const kc = new FileKeychain(root, 'p');
    await kc.set('identity', new Uint8Array([1, 2]));
    const file = path.join(root, KEYCHAIN_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(root)).toEqual([KEYCHAIN_FILE]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ format: 'sealpost-keychain', version: 1, entries: { 'p/identity': 'AQI=' } });
    chmodSync(file, 0o644);
    await kc.get('identity');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('serialises concurrent writers of one instance (no lost update)', async () => {
    const kc = new FileKeychain(root, 'p');
    await Promise.all([
      kc.set('identity', new Uint8Array([1])),
      kc.set('audit-head', new Uint8Array([2])),
      kc.set('server-credentials', new Uint8Array([3])),
      ...Array.from({ length: 20 }, (_, i) => kc.set('audit-head', new Uint8Array([i]))),
    ]);
    expect(await kc.get('identity')).toEqual(new Uint8Array([1]));
    expect(await kc.get('server-credentials')).toEqual(new Uint8Array([3]));
    expect(await kc.get('audit-head')).toEqual(new Uint8Array([19]));
  });

  it('treats a damaged file as an error, never as empty (which would invite a new identity)', async () => {
    const file = path.join(root, KEYCHAIN_FILE);
    writeFileSync(file, '{"format":"sealpost-keychain","version":1,"entries":{"p/identity":"AQ');
    await expect(new FileKeychain(root, 'p').get('identity')).rejects.toMatchObject({ kind: 'corrupt' });
    writeFileSync(file, JSON.stringify({ format: 'sealpost-keychain', version: 1, entries: { 'p/identity': 'not base64!' } }));
    await expect(new FileKeychain(root, 'p').get('identity')).rejects.toMatchObject({ kind: 'corrupt' });
    writeFileSync(file, JSON.stringify({ format: 'other', version: 1, entries: {} }));
    await expect(new FileKeychain(root, 'p').set('identity', new Uint8Array([1]))).rejects.toMatchObject({ kind: 'corrupt' });
  });
});
