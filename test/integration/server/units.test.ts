/**
 * The key service's building blocks on their own: audit canonical form, XML
 * mapping, log redaction, lenient JSON, JWTs, slow hashes, rate limiter, and
 * the SQLite group commit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalAuditEntry, canonicalAuditEntrySlow } from '../../../server/audit.js';
import { JwtVerifier, signDeviceJwt, verifyDeviceJwt } from '../../../server/auth/jwt.js';
import { slowHash, slowVerify, VerifiedSecretCache } from '../../../server/crypto/secrets.js';
import { parseJsonBody, stripTrailingCommas } from '../../../server/http/body-parsers.js';
import { redactUrl } from '../../../server/http/redact.js';
import { parseXmlBody, toXml, XmlBodyError } from '../../../server/http/xml.js';
import { RateLimiter } from '../../../server/rate-limit.js';
import { openStore } from '../../../server/store/index.js';
import { MissingRow, type Store } from '../../../server/store/types.js';

describe('audit canonical form', () => {
  it('the hand-written serialiser equals canonicalJson for every field shape', () => {
    const shapes = [
      { chain: 'app_1', ts: 1, userId: null, deviceId: null, actor: 'anonymous', action: 'keys.get', target: null, result: 'ok', status: 200, ip: '::1' },
      { chain: '-', ts: 1_790_000_000_000, userId: 'u_x', deviceId: 'd"\\\n', actor: 'device:é✓\u0000', action: 'a', target: 'item:a:b', result: 'denied', status: 403, ip: '10.0.0.1' },
    ];
    for (const e of shapes) expect(canonicalAuditEntry(e).toString()).toBe(canonicalAuditEntrySlow(e).toString());
    expect(() => canonicalAuditEntry({ ...shapes[0]!, ts: 1.5 })).toThrow(RangeError);
  });
});

describe('XML mapping', () => {
  it('round-trips objects, arrays and nulls and escapes what XML cannot carry', () => {
    const xml = toXml('response', { a: 'x < y & "z"', list: [{ b: 1 }, { b: 2 }], empty: [], none: null, '@context': ['c'], bad: 'nul\u0000here' });
    const doc = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'item' }).parse(xml) as { response: Record<string, unknown> };
    expect(doc.response).toMatchObject({ a: 'x < y & "z"', list: { item: [{ b: '1' }, { b: '2' }] }, context: { item: ['c'] }, bad: 'nul\uFFFDhere' });
    expect(parseXmlBody('<r><a>1</a><list><item><b>x</b></item></list></r>')).toEqual({ a: '1', list: [{ b: 'x' }] });
  });

  it('refuses DTDs, several roots and mixed content', () => {
    expect(() => parseXmlBody('<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>')).toThrow(XmlBodyError);
    expect(() => parseXmlBody('<a/><b/>')).toThrow(XmlBodyError);
    expect(() => parseXmlBody('<r>text<a>1</a></r>')).toThrow(XmlBodyError);
  });
});

describe('log redaction and lenient JSON', () => {
  it('hides tokens in paths and every unsafe query value', () => {
    expect(redactUrl('/v1/keys/abcDEF_-123/messages?passphrase=s3cret&limit=5&privatekeyhash=ff&format=xml')).toBe(
      '/v1/keys/[token]/messages?passphrase=[redacted]&limit=5&privatekeyhash=[redacted]&format=xml',
    );
    expect(redactUrl('/v1/items/x?pass%77ord=1')).toBe('/v1/items/x?pass%77ord=[redacted]');
  });

  it('tolerates trailing commas only outside strings, and never echoes the body', () => {
    expect(stripTrailingCommas('{"a": ",}", "b": [1,2,],}')).toBe('{"a": ",}", "b": [1,2]}');
    expect(parseJsonBody('{"a":1,}')).toEqual({ a: 1 });
    expect(() => parseJsonBody('{"passphrase":"hunter2-secret"')).toThrow(/not valid JSON/);
    try {
      parseJsonBody('{"passphrase":"hunter2-secret"');
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('device JWTs', () => {
  const secret = Buffer.from('unit-test-secret-unit-test-secret-1234');
  it('verifies, and refuses altered, expired and foreign tokens', () => {
    const { jwt } = signDeviceJwt({ appId: 'app', deviceId: 'd', userId: 'u', ttlSeconds: 60 }, secret);
    expect(verifyDeviceJwt(jwt, secret)).toMatchObject({ ok: true, claims: { aud: 'app', sub: 'd', uid: 'u' } });
    expect(verifyDeviceJwt(jwt, Buffer.from('other-secret-other-secret-other-secret'))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyDeviceJwt(`${jwt}x`, secret).ok).toBe(false);
    expect(verifyDeviceJwt(jwt, secret, Date.now() + 61_000)).toEqual({ ok: false, reason: 'expired' });
    const verifier = new JwtVerifier(secret);
    expect(verifier.verify(jwt).ok).toBe(true);
    expect(verifier.verify(jwt, Date.now() + 61_000)).toEqual({ ok: false, reason: 'expired' });
  });
});

describe('slow hashes', () => {
  it('scrypt verifiers check in constant time and the cache only remembers successes', async () => {
    const stored = await slowHash('privatekeyhash-value', { log2N: 10, r: 8, p: 1 });
    expect(stored).toMatch(/^scrypt\$10\$8\$1\$/);
    expect(await slowVerify('privatekeyhash-value', stored)).toBe(true);
    expect(await slowVerify('privatekeyhash-valuf', stored)).toBe(false);
    const cache = new VerifiedSecretCache(1000);
    cache.add('key:1', stored, 'privatekeyhash-value');
    expect(cache.has('key:1', stored, 'privatekeyhash-value')).toBe(true);
    expect(cache.has('key:2', stored, 'privatekeyhash-value')).toBe(false);
    expect(cache.has('key:1', stored, 'privatekeyhash-value', Date.now() + 2000)).toBe(false);
  });
});

describe('SQLite store internals', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-units-'));
  let store: Store;
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a failing op in a group commit does not undo the others', async () => {
    store = await openStore({ db: join(dir, 'u.db') });
    await store.insertApp({ id: 'app1', name: 'a', serverKeyHash: 's', clientKeyHash: 'c', createdAt: 1 });
    const keyId = await store.insertKey({
      appId: 'app1', tokenHash: 't', mode: 'offline', publicKey: 'pk', fingerprint: 'f', bits: 2048, privateKeyKind: null, privateKey: null,
      passphraseVerifier: null, privateKeyHashVerifier: 'v', ownerUserId: null, publishedToken: null, createdAt: 1,
    });
    const msg = { kind: 'offline' as const, isFile: false, fileName: null, contentType: null, body: Buffer.from('b'), encKey: Buffer.from('k'), size: 1, sentOn: 1, sender: null };
    const results = await Promise.allSettled([
      store.insertMessages(keyId, [msg], 'c1', null),
      store.insertMessages(keyId + 999, [msg], null, null),
      store.insertMessages(keyId, [msg], 'c2', null),
      store.appendAudit({ chain: 'app1', ts: 1, userId: null, deviceId: null, actor: 'a', action: 'x', target: null, result: 'ok', status: 200, ip: '::1' }, Buffer.from('{}')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(MissingRow);
    expect((await store.listMessages(keyId, 0, 10)).map((m) => m.seq)).toEqual([1, 2]);
    const dup = await store.insertMessages(keyId, [msg], 'c1', null);
    expect(dup).toEqual({ ids: [1], duplicate: true, sameContent: true });
    expect((await store.insertMessages(keyId, [{ ...msg, body: Buffer.from('other') }], 'c1', null)).sameContent).toBe(false);
  });

  it('MessageIds counted within one group commit stay per key and consecutive, and a clientId repeated in the batch is a duplicate', async () => {
    const newKey = (tokenHash: string) =>
      store.insertKey({
        appId: 'app1', tokenHash, mode: 'offline', publicKey: 'pk', fingerprint: 'f', bits: 2048, privateKeyKind: null, privateKey: null,
        passphraseVerifier: null, privateKeyHashVerifier: 'v', ownerUserId: null, publishedToken: null, createdAt: 1,
      });
    const [a, b] = [await newKey('batch-a'), await newKey('batch-b')];
    const msg = (text: string) => ({ kind: 'offline' as const, isFile: false, fileName: null, contentType: null, body: Buffer.from(text), encKey: Buffer.from('k'), size: text.length, sentOn: 1, sender: null });
    // All queued in one turn: one group commit.
    const [r1, r2, r3, r4, r5] = await Promise.all([
      store.insertMessages(a, [msg('a1')], 'x', null),
      store.insertMessages(b, [msg('b1')], 'x', null),
      store.insertMessages(a, [msg('a2'), msg('a3')], 'y', null),
      store.insertMessages(a, [msg('a1')], 'x', null),
      store.insertMessages(a, [msg('a4')], null, null),
    ]);
    expect([r1.ids, r2.ids, r3.ids, r5.ids]).toEqual([[1], [1], [2, 3], [4]]);
    expect(r4).toEqual({ ids: [1], duplicate: true, sameContent: true });
    expect((await store.listMessages(a, 0, 10)).map((m) => [m.seq, m.body.toString()])).toEqual([[1, 'a1'], [2, 'a2'], [3, 'a3'], [4, 'a4']]);
    // The next batch reads where the last one ended.
    expect((await store.insertMessages(a, [msg('a5')], null, null)).ids).toEqual([5]);
  });

  it('a group commit refused with SQLITE_BUSY is retried, and each write lands once', async () => {
    const keyId = (await store.keyForSend('app1', 't'))!.id;
    const tx = (store as unknown as { txStatements(): { begin: { run(): unknown } } }).txStatements();
    const realBegin = tx.begin;
    let refusals = 3;
    tx.begin = {
      run: () => {
        if (refusals-- > 0) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
        return realBegin.run();
      },
    };
    try {
      const msg = { kind: 'offline' as const, isFile: false, fileName: null, contentType: null, body: Buffer.from('busy'), encKey: Buffer.from('k'), size: 4, sentOn: 1, sender: null };
      const [a, b] = await Promise.all([store.insertMessages(keyId, [msg], 'busy-a', null), store.insertMessages(keyId, [msg], 'busy-b', null)]);
      expect(refusals).toBe(-1);
      expect([a.duplicate, b.duplicate]).toEqual([false, false]);
      const stored = await store.listMessages(keyId, 0, 100);
      expect(stored.filter((m) => m.clientId === 'busy-a' || m.clientId === 'busy-b').map((m) => m.seq)).toEqual([...a.ids, ...b.ids]);
    } finally {
      tx.begin = realBegin;
    }
  });

  it('reads see the store\'s own writes at once and another connection\'s by the next turn', async () => {
    expect((await store.getApp('app1'))!.revokedAt).toBeNull();
    await store.revokeApp('app1', 5);
    expect((await store.getApp('app1'))!.revokedAt).toBe(5);
    const other = new Database(join(dir, 'u.db'));
    try {
      other.pragma('busy_timeout = 5000');
      await store.getApp('app1');
      other.prepare('UPDATE apps SET name = ? WHERE id = ?').run('renamed', 'app1');
      await new Promise((resolve) => setImmediate(resolve));
      expect((await store.getApp('app1'))!.name).toBe('renamed');
    } finally {
      other.close();
    }
  });

  it('authentication reads are cached until this store or another connection changes them', async () => {
    const reads = () => (store as unknown as { authCache: { entries: { map: Map<string, unknown> } } }).authCache.entries.map.size;
    const keyId = await store.insertKey({
      appId: 'app1', tokenHash: 'cached', mode: 'offline', publicKey: 'pk', fingerprint: 'f', bits: 2048, privateKeyKind: null, privateKey: null,
      passphraseVerifier: null, privateKeyHashVerifier: 'v', ownerUserId: null, publishedToken: null, createdAt: 1,
    });
    expect((await store.keyForSend('app1', 'cached'))!.mode).toBe('offline');
    expect((await store.appByClientKeyHash('c'))!.revokedAt).toBe(5);
    expect(reads()).toBe(2);
    const other = new Database(join(dir, 'u.db'));
    try {
      other.pragma('busy_timeout = 5000');
      other.prepare('UPDATE keys SET mode = ? WHERE id = ?').run('online', keyId);
      other.prepare('UPDATE apps SET revoked_at = ? WHERE id = ?').run(7, 'app1');
      await new Promise((resolve) => setImmediate(resolve));
      expect((await store.keyForSend('app1', 'cached'))!.mode).toBe('online');
      expect((await store.appByClientKeyHash('c'))!.revokedAt).toBe(7);
    } finally {
      other.close();
    }
    // Writes that cannot change an authentication row (messages, audit, counters) keep the cache.
    const msg = { kind: 'offline' as const, isFile: false, fileName: null, contentType: null, body: Buffer.from('m'), encKey: Buffer.from('k'), size: 1, sentOn: 1, sender: null };
    await store.insertMessages(keyId, [msg], 'keeps-cache', null);
    expect(reads()).toBe(2);
    // A change by this store clears the cache at once.
    await store.deleteKey(keyId);
    expect(reads()).toBe(0);
    expect(await store.keyForSend('app1', 'cached')).toBeUndefined();
    // A read in flight when this store deletes its key returns its snapshot but is not kept.
    const racing = await store.insertKey({
      appId: 'app1', tokenHash: 'racing', mode: 'offline', publicKey: 'pk', fingerprint: 'f', bits: 2048, privateKeyKind: null, privateKey: null,
      passphraseVerifier: null, privateKeyHashVerifier: 'v', ownerUserId: null, publishedToken: null, createdAt: 1,
    });
    const inFlight = store.keyForSend('app1', 'racing');
    const deleted = store.deleteKey(racing);
    expect((await inFlight)!.id).toBe(racing);
    await deleted;
    expect(reads()).toBe(0);
    expect(await store.keyForSend('app1', 'racing')).toBeUndefined();
  });

  it('agent-token ids are recorded with the group commit: a second use is refused, also within one batch', async () => {
    const now = Date.now();
    const uses = await Promise.all([
      store.useAgentTokenId('app1', 'jti-a', now + 60_000, now),
      store.useAgentTokenId('app1', 'jti-b', now + 60_000, now),
      store.useAgentTokenId('app1', 'jti-a', now + 60_000, now),
    ]);
    expect(uses).toEqual([true, true, false]);
    expect(await store.useAgentTokenId('app1', 'jti-b', now + 60_000, now)).toBe(false);
    // Expired ids are pruned (at most once a second), so the table does not grow without bound.
    expect(await store.useAgentTokenId('app1', 'jti-c', now + 60_000, now + 120_000)).toBe(true);
    const other = new Database(join(dir, 'u.db'), { readonly: true });
    try {
      const left = other.prepare('SELECT jti FROM agent_token_jtis ORDER BY jti').pluck().all();
      expect(left).toEqual(['jti-c']);
    } finally {
      other.close();
    }
  });

  it('rate limits count exactly near the limit, also for hits within one turn', async () => {
    const limiter = new RateLimiter(store, { windowSeconds: 60, perIp: 5, perDevice: 5, secretFailures: 2 });
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => limiter.hit([['ip:unit', 5]])));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
    const windowStart = Math.floor(Date.now() / 60_000) * 60_000;
    expect(await store.getCounter('ip:unit', windowStart)).toBe(8);
    await limiter.recordFailure('key:9');
    await limiter.recordFailure('key:9');
    await expect(limiter.checkFailures('key:9')).rejects.toMatchObject({ status: 429, code: 'rate_limited' });
  });
});
