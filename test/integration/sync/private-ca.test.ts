/**
 * A key service with a certificate from an organisation's own CA (made in the test),
 * served by the real key service over TLS on 127.0.0.1, and real engine profiles:
 *  - without the CA trusted, registering and looking up fail with an error that names
 *    the certificate problem and the trustedCertificates policy, never "offline";
 *  - with the policy's CA trusted (loaded from a policy file as the app does, then
 *    setTrustedCertificates), two profiles register, exchange a message, and their push
 *    streams (wss) go live; the global fetch still trusts only the public CAs;
 *  - an expired certificate or one for another host is named as such even when the CA is trusted.
 * Module trust is reset after each test; nothing is timed (until() polls with a deadline).
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { rootCertificates } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '../../../shared/codes.js';
import { loadPolicy } from '../../../electron/engine/policy/load.js';
import { KeyServiceClient } from '../../../electron/engine/sync/client.js';
import { SyncError } from '../../../electron/engine/sync/errors.js';
import { setTrustedCertificates, trustedCa } from '../../../electron/engine/sync/tls-trust.js';
import { describeError } from '../../../renderer/src/errors.js';
import { startServer } from '../../../server/index.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { makeTestCa } from '../../helpers/test-ca.js';
import { cleanup, newUser, openProfile, type Profile, tmp } from './helpers.js';
import { FAR, streamOf, until } from './live-helpers.js';

const UNTRUSTED = /^The key service's certificate is not trusted: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\) at https:\/\/127\.0\.0\.1:\d+; if your organisation uses its own CA, IT can add it with the trustedCertificates policy\.$/;

describe('a key service behind a private CA', () => {
  const root = tmp('sealpost-private-ca-');
  const ca = makeTestCa('Acme Private Root CA');
  let ks: KeyService;
  const profiles: Profile[] = [];

  beforeAll(async () => {
    ks = await startKeyService({ db: path.join(root, 'ks.db'), tls: ca.issue() });
  });
  const policyFileBefore = process.env.SEALPOST_POLICY_FILE;
  afterEach(() => {
    setTrustedCertificates(null);
    if (policyFileBefore === undefined) delete process.env.SEALPOST_POLICY_FILE;
    else process.env.SEALPOST_POLICY_FILE = policyFileBefore;
  });
  afterAll(async () => {
    for (const p of profiles) p.close();
    await ks?.close();
    cleanup(root);
  });

  /**
   * The policy file IT would deploy, read as the app reads it at start, and its CAs
   * trusted. SEALPOST_POLICY_FILE stays set for the test, so profiles opened after
   * (openService loads the policy too) see the same policy.
   */
  async function trustFromPolicy(): Promise<void> {
    const file = path.join(mkdtempSync(path.join(root, 'policy-')), 'policy.json');
    writeFileSync(file, JSON.stringify({ trustedCertificates: [ca.certBase64Der] }));
    process.env.SEALPOST_POLICY_FILE = file;
    const policy = await loadPolicy();
    expect(policy.state).toBe('managed');
    setTrustedCertificates(policy.values.trustedCertificates);
  }

  it('without the CA trusted: registration fails naming the certificate problem, not offline', async () => {
    expect(trustedCa()).toBeNull();
    const p = await openProfile(path.join(root, 'nocert'));
    profiles.push(p);
    await p.ok('identity:create', { pin: '0', rsaBits: 2048 });
    const r = await p.call('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, username: 'nocert' });
    expect(r.code).toBe(ResultCode.Failed);
    expect(r.code).not.toBe(ResultCode.NoInternetAccess);
    if (r.code === 0) return;
    expect(r.message).toMatch(UNTRUSTED);
    expect(r.details).toMatchObject({ kind: 'untrusted' });
    // What the UI says about it.
    expect(describeError({ code: r.code, message: r.message, details: r.details as Record<string, unknown> })).toMatchObject({
      text: expect.stringMatching(/certificate is not trusted/),
      hint: expect.stringMatching(/trustedCertificates policy/),
    });
  });

  it('with the policy CA trusted: two profiles register, exchange a message, and their push streams go live over wss', async () => {
    await trustFromPolicy();
    const alice = await newUser(root, 'alice', ks);
    const bob = await newUser(root, 'bob', ks);
    profiles.push(alice, bob);
    await alice.ok('contacts:lookup', { username: 'bob' });
    await bob.ok('contacts:lookup', { username: 'alice' });

    alice.service.messaging.sync.start(FAR, FAR);
    bob.service.messaging.sync.start(FAR, FAR);
    await until(async () => (await streamOf(alice)) === 'live' && (await streamOf(bob)) === 'live', 'both streams live over wss');

    const sent = await alice.ok('messages:send', { to: ['bob'], subject: 'private CA', text: 'hello over our own CA' });
    const got = await until(async () => (await bob.ok('messages:list', {})).find((m) => m.text === 'hello over our own CA'), "bob's message");
    expect(got).toMatchObject({ direction: 'in', subject: 'private CA' });
    await until(async () => (await alice.ok('messages:list', {})).find((m) => m.id === sent.messageIds[0] && m.state === 'delivered'), 'delivered on the sender');

    // The trust is the engine's, not the process's: the global fetch still refuses the private CA.
    const refused = await fetch(`${ks.url}/health`).then(
      () => null,
      (e: unknown) => (e as { cause?: { code?: string } }).cause?.code,
    );
    expect(refused).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');

    alice.service.messaging.sync.stop();
    bob.service.messaging.sync.stop();
  });

  it('a registered profile whose trust is gone: lookups fail naming the certificate, the stream says why it waits', async () => {
    await trustFromPolicy();
    const carol = await newUser(root, 'carol', ks);
    profiles.push(carol);
    setTrustedCertificates(null);
    const r = await carol.call('contacts:lookup', { username: 'alice' });
    expect(r.code).toBe(ResultCode.Failed);
    if (r.code === 0) return;
    expect(r.message).toMatch(UNTRUSTED);

    // The push stream falls back to the timer and keeps the reason (what the UI shows beside it).
    carol.service.messaging.sync.start(FAR, FAR);
    const state = carol.service.messaging.sync.state;
    await until(() => state.stream === 'polling' && state.streamError !== null, 'the stream refused');
    expect(state.streamError).toMatch(UNTRUSTED);
    carol.service.messaging.sync.stop();
  });
});

describe('certificate problems other than an unknown CA are named too', () => {
  const ca = makeTestCa();
  afterEach(() => setTrustedCertificates(null));

  async function failureWith(tls: { cert: string; key: string }): Promise<SyncError> {
    const server = await startServer({ host: '127.0.0.1', port: 0, db: ':memory:', tls });
    try {
      setTrustedCertificates([ca.certPem]);
      const e = await new KeyServiceClient({ baseUrl: server.url }).health().then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(SyncError);
      return e as SyncError;
    } finally {
      await server.close();
    }
  }

  it('a certificate for another host', async () => {
    const e = await failureWith(ca.issue({ hosts: ['keys.example.org'] }));
    expect(e.kind).toBe('untrusted');
    expect(e.message).toMatch(/^The key service's certificate is not trusted: Hostname\/IP does not match certificate's altnames: .* \(ERR_TLS_CERT_ALTNAME_INVALID\) at https:\/\/127\.0\.0\.1:\d+; if your organisation uses its own CA/);
  });

  it('an expired certificate', async () => {
    const e = await failureWith(ca.issue({ expired: true }));
    expect(e.kind).toBe('untrusted');
    expect(e.transient).toBe(true); // queued messages wait for it to be fixed instead of failing
    expect(e.message).toMatch(/certificate has expired \(CERT_HAS_EXPIRED\)/);
  });

  it('a key service that is not there is still offline', async () => {
    const server = await startServer({ host: '127.0.0.1', port: 0, db: ':memory:', tls: ca.issue() });
    const url = server.url;
    await server.close();
    setTrustedCertificates([ca.certPem]);
    const e = (await new KeyServiceClient({ baseUrl: url }).health().catch((err: unknown) => err)) as SyncError;
    expect(e.kind).toBe('offline');
    expect(e.message).toMatch(/cannot be reached \(ECONNREFUSED\)/);
  });
});

describe('the engine trust (setTrustedCertificates / trustedCa)', () => {
  const ca = makeTestCa('Acme Private Root CA');
  const other = makeTestCa('Acme Second CA');
  afterEach(() => setTrustedCertificates(null));

  it('is the default roots only until set; then the public roots plus the items as PEM', () => {
    expect(trustedCa()).toBeNull();
    setTrustedCertificates([ca.certPem, other.certBase64Der]);
    const list = trustedCa()!;
    expect(list.slice(0, rootCertificates.length)).toEqual([...rootCertificates]);
    const extra = list.slice(rootCertificates.length).map((pem) => new X509Certificate(pem).fingerprint256);
    expect(extra).toEqual([new X509Certificate(ca.certPem).fingerprint256, new X509Certificate(other.certPem).fingerprint256]);
    setTrustedCertificates([]);
    expect(trustedCa()).toBeNull();
    setTrustedCertificates(undefined); // a policy without the setting
    expect(trustedCa()).toBeNull();
  });

  it('an item that is not a certificate throws and leaves the trust as it was', () => {
    setTrustedCertificates([ca.certPem]);
    const before = trustedCa();
    expect(() => setTrustedCertificates([other.certPem, 'garbage'])).toThrow(/neither a PEM certificate nor base64 DER/);
    expect(trustedCa()).toEqual(before);
  });
});
