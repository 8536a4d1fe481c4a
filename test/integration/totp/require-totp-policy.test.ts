/**
 * The managed policy's requireTotp reaches the engine: with SEALPOST_POLICY_FILE
 * naming a policy.json that requires TOTP, a registered profile answers
 * totp:status with required: true before and after TOTP is turned on (against a
 * real key service, real codes); registration itself stays allowed, since TOTP is
 * set up from a registered device. A policy without it (or false) leaves it false.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { Authenticator } from '../server/totp-suite.js';
import { cleanup, openProfile, type Profile, tmp } from '../sync/helpers.js';

describe('policy requireTotp', () => {
  const root = tmp('sealpost-require-totp-');
  const saved = process.env.SEALPOST_POLICY_FILE;
  let ks: KeyService;
  const open: Profile[] = [];

  beforeAll(async () => {
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
  });
  afterEach(() => {
    for (const p of open.splice(0)) p.close();
    if (saved === undefined) delete process.env.SEALPOST_POLICY_FILE;
    else process.env.SEALPOST_POLICY_FILE = saved;
  });
  afterAll(async () => {
    await ks?.close();
    cleanup(root);
  });

  async function registered(name: string): Promise<Profile> {
    const p = await openProfile(path.join(root, name));
    open.push(p);
    await p.ok('identity:create', { pin: '482913', rsaBits: 2048 });
    await p.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, clientKey: ks.app.clientKey, username: name });
    return p;
  }

  it('answers required: true from the policy file, before and after TOTP is on', async () => {
    const file = path.join(root, 'policy.json');
    writeFileSync(file, JSON.stringify({ requireTotp: true }));
    process.env.SEALPOST_POLICY_FILE = file;
    const alice = await registered('alice');
    expect(await alice.ok('totp:status', {})).toMatchObject({ enabled: false, pending: false, required: true });
    const policy = await alice.ok('policy:get', {});
    expect(JSON.stringify(policy)).toContain('requireTotp');

    const { secret } = await alice.ok('totp:enable', {});
    const auth = new Authenticator(secret);
    await alice.ok('totp:confirm', { code: await auth.next() });
    expect(await alice.ok('totp:status', {})).toMatchObject({ enabled: true, required: true });
  });

  it('answers required: false with a policy that does not require it, or does not say', async () => {
    const off = path.join(root, 'policy-off.json');
    writeFileSync(off, JSON.stringify({ requireTotp: false }));
    process.env.SEALPOST_POLICY_FILE = off;
    expect((await (await registered('bob')).ok('totp:status', {})).required).toBe(false);

    const silent = path.join(root, 'policy-silent.json');
    writeFileSync(silent, JSON.stringify({ requirePin: true }));
    process.env.SEALPOST_POLICY_FILE = silent;
    expect((await (await registered('carol')).ok('totp:status', {})).required).toBe(false);
  });
});
