/**
 * A connected application for the tests: registered on the real key service
 * (ConnectedAdmin), with its own RSA transit key, talking HTTP like the example's
 * back end (examples/connected-app/relying-party.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'vitest';
import { ConnectedAdmin } from '../../../server/connected/admin.js';
import type { KeyService } from '../../helpers/key-service.js';
import { RelyingParty } from '../../../examples/connected-app/relying-party.js';
import type { Profile } from '../sync/helpers.js';

export interface TestApp {
  id: string;
  secret: string;
  privateKeyPem: string;
  publicKeyPem: string;
  rp: RelyingParty;
}

export function transitKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export async function addApp(ks: KeyService, o: { name?: string; mode?: string; keyBits?: number; appId?: string } = {}): Promise<TestApp> {
  const keys = transitKeyPair();
  const admin = await ConnectedAdmin.open(ks.server.store);
  const created = await admin.add({ appId: o.appId ?? ks.app.appId, name: o.name ?? 'Acme CRM', mode: o.mode ?? 'always', keyBits: o.keyBits ?? 256, publicKeyPem: keys.publicKeyPem });
  return { id: created.id, secret: created.secret, ...keys, rp: new RelyingParty({ keyService: ks.url, appId: created.id, secret: created.secret, privateKeyPem: keys.privateKeyPem }) };
}

/** Polls until the request shows on the profile's list (the key service answers at once; the list is read fresh). */
export async function waitPending(p: Profile, id: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = await p.ok('approvals:list', {});
    if (r.requests.some((x) => x.id === id)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect.fail(`request ${id} never showed as pending`);
}

export async function until<T>(check: () => Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) expect.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
