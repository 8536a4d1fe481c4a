/**
 * device:registerLocal (service/local-key-service.ts): only where `npm start`
 * offers its key service; a refused user name comes back as a failure, with
 * the policy still guarding the registration it leads to.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ResultCode, type Result } from '../../../shared/codes.js';
import type { Output } from '../../../shared/contract.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../../electron/engine/dispatch.js';
import { openService, type Service } from '../../../electron/engine/service/index.js';
import type { LoadedPolicy } from '../../../electron/engine/policy/load.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-local-ks-'));
const opened: Service[] = [];
afterAll(() => {
  for (const s of opened) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const open = async (name: string, extra: Partial<Parameters<typeof openService>[0]> = {}) => {
  const s = await openService({ profileDir: path.join(dir, name), keychain: 'file', kdfParams: TEST_KDF_PARAMS, actor: 'test', ...extra });
  opened.push(s);
  return s;
};

/** engine:status's localKeyService. */
async function localOffer(s: Service): Promise<unknown> {
  const r = (await dispatch(s.handlers, 'engine:status', {})) as Result<Output<'engine:status'>>;
  if (r.code !== 0) throw new Error(r.message);
  return r.value.localKeyService;
}

describe('device:registerLocal', () => {
  it('is InvalidState where no key service runs on this computer, and engine:status offers none', async () => {
    const s = await open('none');
    expect(await localOffer(s)).toBeNull();
    const r = await dispatch(s.handlers, 'device:registerLocal', { username: 'dana' });
    expect(r.code).toBe(ResultCode.InvalidState);
  });

  it('offers the local key service in engine:status; a user name it refuses is a failure with its message', async () => {
    const s = await open('offered', {
      localKeyService: {
        url: 'http://127.0.0.1:9',
        appId: 'app_local',
        clientKey: 'client-key-1234',
        issueEnrollmentCode: async (username) => {
          throw new Error(`user name ${username} is taken`);
        },
      },
    });
    expect(await localOffer(s)).toEqual({ url: 'http://127.0.0.1:9' });
    const r = await dispatch(s.handlers, 'device:registerLocal', { username: 'dana' });
    expect(r.code).toBe(ResultCode.InvalidParameter);
    expect(r.code !== 0 && r.message).toContain('user name dana is taken');
  });

  it('goes through the policy: a policy that allows only another key service refuses it', async () => {
    const policy: LoadedPolicy = { state: 'managed', values: { allowedKeyServices: ['https://keys.example.org'] }, where: { allowedKeyServices: 'test' }, sources: ['test'], error: null };
    const s = await open('managed', {
      policy,
      localKeyService: { url: 'http://127.0.0.1:9', appId: 'app_local', clientKey: 'client-key-1234', issueEnrollmentCode: async () => 'ABCDE-FGHJK-MNPQR-STVWX' },
    });
    const r = await dispatch(s.handlers, 'device:registerLocal', { username: 'dana' });
    expect(r.code).toBe(ResultCode.PolicyForbidden);
  });
});
