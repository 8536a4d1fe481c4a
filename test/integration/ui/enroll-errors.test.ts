/**
 * Enrollment and two-step verification failures in plain words
 * (renderer/src/errors.ts), from the engine's real answers against a real key
 * service on loopback: another user's code, a user with TOTP on registering
 * again without a code (the form then shows its TOTP field), a replayed code;
 * and a policy refusal, whose message names the rule, shown as it is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel } from '../../../shared/contract.js';
import { ResultCode } from '../../../shared/codes.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../../electron/engine/dispatch.js';
import { openService, type Service } from '../../../electron/engine/service/index.js';
import { EnrollmentIssuer } from '../../../server/enrollment/codes.js';
import { startServer, type CreatedApp, type RunningServer } from '../../../server/index.js';
import { describeError } from '../../../renderer/src/errors.js';

let dir: string;
let service: Service;
let ks: RunningServer;
let app: CreatedApp;
let issuer: EnrollmentIssuer;

const call = (channel: Channel, input: unknown) => dispatch(service.handlers, channel, input);
const register = (username: string, enrollmentCode: string, totp?: string) =>
  call('device:register', { server: ks.url, appId: app.appId, username, enrollmentCode, ...(totp !== undefined && { totp }) });

async function failure(pending: ReturnType<typeof call>) {
  const r = await pending;
  if (r.code === 0) throw new Error('succeeded');
  return describeError(r);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealpost-ui-enroll-errors-'));
  ks = await startServer({ host: '127.0.0.1', port: 0, db: join(dir, 'ks.db'), rsaBits: 2048, rateLimit: { perIp: 1_000_000, perDevice: 1_000_000, secretFailures: 1000 } });
  app = await ks.admin.createApp({ name: 'ui enroll errors' });
  issuer = await EnrollmentIssuer.open(ks.store, ks.url);
  service = await openService({ profileDir: join(dir, 'profile'), actor: 'ui', keychain: 'file', kdfParams: TEST_KDF_PARAMS });
  expect((await call('identity:create', { pin: '2580', rsaBits: 2048 })).code).toBe(0);
}, 60_000);

afterAll(async () => {
  service?.close();
  await ks?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('enrollment errors in plain words', () => {
  it("another user's code: ask the administrator for a new one", async () => {
    const bobs = await issuer.issue({ appId: app.appId, username: 'bob' });
    const e = await failure(register('alice', bobs.code));
    expect(e.text).toMatch(/enrollment code does not work/);
    expect(e.hint).toMatch(/ask your administrator for a new code/);
    expect(e.totp).toBeUndefined();
  });

  it('TOTP on: registering again asks for the code (totp flag), a replayed code is refused, a recovery code works', async () => {
    expect((await register('alice', (await issuer.issue({ appId: app.appId, username: 'alice' })).code)).code).toBe(0);
    const enabled = await call('totp:enable', {});
    if (enabled.code !== 0) throw new Error(enabled.message);
    const secret = Secret.fromBase32((enabled.value as { secret: string }).secret);
    const code = TOTP.generate({ secret, timestamp: Date.now() });
    const confirmed = await call('totp:confirm', { code });
    if (confirmed.code !== 0) throw new Error(confirmed.message);

    const again = await issuer.issue({ appId: app.appId, username: 'alice' });
    const required = await failure(register('alice', again.code));
    expect(required).toMatchObject({ text: 'This account has two-step verification on.', totp: true });
    const replayed = await failure(register('alice', again.code, code));
    expect(replayed.text).toMatch(/not right, or was used already/);
    expect(replayed.totp).toBe(true);
    expect((await register('alice', again.code, (confirmed.value as { recoveryCodes: string[] }).recoveryCodes[0]!)).code).toBe(0);
  });

  it("a policy refusal shows the engine's message naming the rule", () => {
    const e = describeError({ code: ResultCode.PolicyForbidden, message: 'Your organization requires a PIN (policy: requirePin)', details: { policy: 'requirePin' } });
    expect(e.text).toBe('Your organization requires a PIN (policy: requirePin)');
    expect(e.details).toMatch(/^PolicyForbidden \(-430\)/);
  });
});
