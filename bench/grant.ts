/**
 * grant_100 (issue 6): one item shared with 100 users, then one of them revoked,
 * through the real engine and a key service on loopback (SQLite, in process).
 *
 *   grant   items:share to 100 contacts (100 RSA-OAEP wraps of the item key)
 *           + items:sync (PUT the item, PUT 100 grants)
 *   revoke  items:revoke of one (open, re-seal the item under a new key, wrap it
 *           for the owner and the 99 who stay) + items:sync (DELETE the grant,
 *           PUT the re-encrypted item, PUT 99 grants)
 *
 * The re-encryption cost is what a revoke adds over a grant: the item's bytes
 * opened and sealed again, and every remaining key wrapped again. Reported
 * beside it: the seal of the same bytes alone and one wrap alone, so the split
 * is visible. Medians of ROUNDS rounds, each on a new item. Setup (100 users
 * registered, looked up as contacts) is not timed. Grantees have RSA-2048 keys
 * (test identities: 100 RSA-3072 key generations would take minutes on the
 * reference machine); the owner's is the default 3072.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import type { Result } from '../shared/codes.js';
import type { Channel, Input, Output } from '../shared/contract.js';
import { dispatch } from '../electron/engine/dispatch.js';
import { openService } from '../electron/engine/service/index.js';
import { sealItem, wrapDekFor } from '../electron/engine/crypto/item-crypto.js';
import { startKeyService } from '../test/helpers/key-service.js';
import { type BenchEntry, round } from './results.js';

const GRANTEES = 100;
const ROUNDS = 3;
/** The shared item: a 1 MiB file (random bytes: gzip cannot shrink it). */
const ITEM_BYTES = 1024 * 1024;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchGrant(): Promise<Record<string, BenchEntry>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-bench-grant-'));
  const ks = await startKeyService({ db: path.join(dir, 'ks.db') });
  const service = await openService({ profileDir: path.join(dir, 'owner'), keychain: 'file', actor: 'bench' });
  const call = async <C extends Channel>(channel: C, input: Input<C>): Promise<Output<C>> => {
    const r = (await dispatch(service.handlers, channel, input)) as Result<Output<C>>;
    if (r.code !== 0) throw new Error(`${channel}: ${r.code} ${r.message}`);
    return r.value;
  };
  try {
    await call('identity:create', { pin: '0' });
    await call('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, username: 'owner' });
    const users: Array<{ name: string; jwt: string }> = [];
    for (let i = 0; i < GRANTEES; i++) {
      const d = await ks.registerDevice(`grantee${i}`);
      users.push({ name: d.username, jwt: d.jwt });
    }
    const contacts = new Map<string, string>();
    for (const u of users) contacts.set(u.name, (await call('contacts:lookup', { username: u.name })).userId);

    const grantLocal: number[] = [];
    const grantSync: number[] = [];
    const revokeLocal: number[] = [];
    const revokeSync: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const item = await call('items:create', {
        content: { kind: 'file', title: `bench ${r}`, fileName: 'data.bin', mime: 'application/octet-stream', data: randomBytes(ITEM_BYTES).toString('base64') },
      });
      await call('items:sync', {});

      let t = performance.now();
      await call('items:share', { identifier: item.identifier, to: users.map((u) => u.name), role: 'read', confirmUnverified: true });
      grantLocal.push(performance.now() - t);
      t = performance.now();
      const pushed = await call('items:sync', {});
      grantSync.push(performance.now() - t);
      if (pushed.grantsPushed !== GRANTEES) throw new Error(`pushed ${pushed.grantsPushed} grants, expected ${GRANTEES}`);

      const victim = users[r]!;
      t = performance.now();
      await call('items:revoke', { identifier: item.identifier, userIds: [contacts.get(victim.name)!] });
      revokeLocal.push(performance.now() - t);
      t = performance.now();
      const revoked = await call('items:sync', {});
      revokeSync.push(performance.now() - t);
      if (revoked.grantsRemoved !== 1 || revoked.pushed !== 1 || revoked.grantsPushed !== GRANTEES - 1) throw new Error(`revoke sync: ${JSON.stringify(revoked)}`);
      // The point of it all: the key service refuses the revoked user.
      const res = await ks.request('GET', `/v1/items/${item.identifier}`, { jwt: victim.jwt });
      if (res.status !== 403) throw new Error(`revoked user got ${res.status}`);
    }

    // The parts of a revoke, alone: sealing the bytes under a fresh key, and one wrap.
    const pem = (await call('identity:get', {})).publicKeyPem;
    const data = randomBytes(ITEM_BYTES);
    let t = performance.now();
    const sealed = sealItem({ identifier: 'bench', version: 2, data, recipients: [pem] });
    const sealMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < 20; i++) wrapDekFor(sealed.dek, pem);
    const wrapMs = (performance.now() - t) / 20;
    sealed.dek.fill(0);

    const g1 = median(grantLocal);
    const g2 = median(grantSync);
    const r1 = median(revokeLocal);
    const r2 = median(revokeSync);
    return {
      grant_100: {
        value: round(g1 + g2 + r1 + r2, 1),
        unit: 'ms',
        grantees: GRANTEES,
        item_bytes: ITEM_BYTES,
        grant_local_ms: round(g1, 1),
        grant_sync_ms: round(g2, 1),
        revoke_local_ms: round(r1, 1),
        revoke_sync_ms: round(r2, 1),
        reencrypted_bytes: ITEM_BYTES,
        rewrapped_keys: GRANTEES,
        reseal_1mib_ms: round(sealMs, 2),
        wrap_one_ms: round(wrapMs, 3),
        owner_rsa_bits: 3072,
        grantee_rsa_bits: 2048,
        rounds: ROUNDS,
      },
    };
  } finally {
    service.close();
    await ks.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
