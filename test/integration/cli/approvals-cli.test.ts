/**
 * Connected apps with the built commands as child processes: the admin registers
 * an application (`npm run server -- admin connected-app add`, dist/server/cli.js
 * on the running service's SQLite file), its back end asks, and the user decides
 * with `sealpost approvals`, `sealpost approve ID` (the PIN from SEALPOST_PIN; a
 * wrong one is refused), `sealpost deny ID` and `sealpost apps`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelyingParty } from '../../../examples/connected-app/relying-party.js';
import { cliFor, type CliRun, requireBuiltCli, runNode, SERVER_CLI } from '../../helpers/cli.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sealpost-approvals-cli-'));
const db = path.join(work, 'keyservice.db');
const cli = cliFor(work, { pin: '1357' });

function admin(args: string[]): Promise<CliRun> {
  return runNode(SERVER_CLI, ['admin', 'connected-app', ...args, '--db', db]);
}

describe('sealpost approvals / approve / deny / apps and admin connected-app', () => {
  let ks: KeyService;
  let rp: RelyingParty;
  let appId: string;

  beforeAll(async () => {
    requireBuiltCli();
    ks = await startKeyService({ db });
    await cli.ok('alice', ['init', '--rsa-bits', '2048']);
    await cli.ok('alice', ['register', '--server', ks.url, '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--username', 'alice']);
  });

  afterAll(async () => {
    await ks?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('admin connected-app add prints the id and secret once; list shows it; bad flags are clear', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = path.join(work, 'app.pem');
    writeFileSync(pem, publicKey.export({ type: 'spki', format: 'pem' }));
    const added = await admin(['add', '--name', 'Acme CRM', '--mode', 'always', '--key-bits', '256', '--public-key', pem, '--json']);
    expect(added.code, added.stderr).toBe(0);
    const created = JSON.parse(added.stdout) as { id: string; secret: string; appId: string; transitKeyFingerprint: string };
    expect(created.id).toMatch(/^ca_[0-9a-f]{16}$/);
    expect(created.appId).toBe(ks.app.appId);
    appId = created.id;
    rp = new RelyingParty({ keyService: ks.url, appId: created.id, secret: created.secret, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    expect(created.transitKeyFingerprint).toBe(rp.transitKeyId);
    const list = await admin(['list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: created.id, name: 'Acme CRM', mode: 'always', keyBits: 256 })]);
    expect(list.stdout).not.toContain(created.secret);
    const bad = await admin(['add', '--name', 'X', '--mode', 'sometimes', '--key-bits', '256']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--mode must be api, login or always/);
    const bits = await admin(['add', '--name', 'X', '--mode', 'api', '--key-bits', '512']);
    expect(bits.stderr).toMatch(/--key-bits must be 128, 192 or 256/);
  });

  it('lists, approves with the PIN (a wrong PIN is refused), denies, and lists the apps', async () => {
    const signIn = await rp.signIn('alice', 'http://127.0.0.1/after', 'Sign in to Acme CRM');
    const listed = await cli.ok('alice', ['approvals']);
    expect(listed.stdout).toContain(signIn.id);
    expect(listed.stdout).toContain('Acme CRM');
    expect(listed.stdout).toContain(rp.transitKeyId);
    const json = await cli.json<{ requests: Array<{ id: string; kind: string }> }>('alice', ['approvals']);
    expect(json.requests).toEqual([expect.objectContaining({ id: signIn.id, kind: 'sign-in+key' })]);

    const wrong = await cli.run('alice', ['approve', signIn.id], { SEALPOST_PIN: '0000' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/WrongPin/);
    expect((await rp.read(signIn.id)).state).toBe('pending');

    const approved = await cli.ok('alice', ['approve', signIn.id]);
    expect(approved.stdout).toMatch(/Approved: sign-in signed, personal key sealed to the application/);
    const state = await rp.read(signIn.id);
    const who = await rp.verify(state.result!, signIn);
    expect(who.username).toBe('alice');
    expect(who.key).toHaveLength(32);

    const ask = await rp.requestKey('alice', 'Export');
    await cli.ok('alice', ['deny', ask.id]);
    expect((await rp.read(ask.id)).state).toBe('denied');

    const apps = await cli.ok('alice', ['apps']);
    expect(apps.stdout).toMatch(new RegExp(`${appId}  Acme CRM  keys 1 .*sign-ins 1`));
    expect(apps.stdout).toMatch(/cannot be taken back/);
    const blocked = await cli.ok('alice', ['apps', 'block', appId]);
    expect(blocked.stdout).toMatch(/Keys it already received cannot be taken back/);
  });

  it('a removed application is refused from then on', async () => {
    const removed = await admin(['remove', '--id', appId]);
    expect(removed.code, removed.stderr).toBe(0);
    await expect(rp.requestKey('alice', 'after removal')).rejects.toMatchObject({ code: 'connected_app_removed' });
  });
});
