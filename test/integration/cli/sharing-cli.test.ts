/**
 * Issue 6 from the command line (bin/sealpost.js -> dist/, `npm run build:node`
 * first): alice adds a note and a file, shares with bob (an unverified key needs
 * --unverified), bob lists "shared with me" and gets both, alice revokes, bob
 * sees the revocation; alice's identity file restores her on a second profile,
 * which sees her items after registering. Real key service on loopback.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor, requireBuiltCli } from '../../helpers/cli.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sealpost-share-cli-'));
const cli = cliFor(work, { pin: '0' });
const sealpost = cli.run;
const ok = async (who: string, args: string[], env?: Record<string, string>): Promise<string> => (await cli.ok(who, args, env)).stdout;

interface ListedItem {
  identifier: string;
  title: string;
  mine: boolean;
  role: string;
  sharedBy: string | null;
  sharedAt: string | null;
  revoked: boolean;
}
const listed = async (who: string): Promise<ListedItem[]> => (JSON.parse(await ok(who, ['--json', 'items'])) as { value: ListedItem[] }).value;

describe('sealpost item / items / share / revoke / export-identity / import-identity', () => {
  let ks: KeyService;
  const reg = (who: string, username = who) => ['register', '--server', ks.url, '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--username', username];

  beforeAll(async () => {
    requireBuiltCli();
    ks = await startKeyService();
    for (const who of ['alice', 'bob']) {
      await ok(who, ['init', '--rsa-bits', '2048']);
      await ok(who, reg(who));
    }
  });

  afterAll(async () => {
    await ks?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('adds, shares, lists shared-with-me, gets, revokes; a second desktop restored from the identity file sees the items', async () => {
    const noteId = (await ok('alice', ['item', 'add', '--name', 'Recipe', '--text', 'two eggs'])).trim();
    const file = path.join(work, 'report.txt');
    writeFileSync(file, 'quarterly numbers\n');
    const fileId = (await ok('alice', ['item', 'add', '--name', 'Report', '--file', file])).trim();
    expect(noteId).toMatch(/^item-/);

    const unverified = await sealpost('alice', ['share', noteId, '--to', 'bob']);
    expect(unverified.code).toBe(1);
    expect(unverified.stderr).toMatch(/--unverified/);
    await ok('alice', ['share', noteId, '--to', 'bob', '--unverified']);
    await ok('alice', ['share', fileId, '--to', 'bob', '--role', 'edit', '--unverified']);

    const bobs = await listed('bob');
    expect(bobs.map((i) => [i.identifier, i.title, i.mine, i.role, i.sharedBy]).sort()).toEqual(
      [
        [noteId, 'Recipe', false, 'read', 'alice'],
        [fileId, 'Report', false, 'edit', 'alice'],
      ].sort(),
    );
    expect(bobs.every((i) => i.sharedAt !== null)).toBe(true);
    expect(await ok('bob', ['item', 'get', noteId])).toBe('two eggs');
    const out = path.join(work, 'got.txt');
    await ok('bob', ['item', 'get', fileId, '-o', out]);
    expect(readFileSync(out, 'utf8')).toBe('quarterly numbers\n');

    const revoked = await sealpost('alice', ['revoke', noteId, '--from', 'bob']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stderr).toMatch(/may keep what they already opened/);
    const after = await listed('bob');
    expect(after.find((i) => i.identifier === noteId)).toMatchObject({ revoked: true });
    expect(after.find((i) => i.identifier === fileId)).toMatchObject({ revoked: false });

    const idFile = path.join(work, 'alice.identity');
    await ok('alice', ['export-identity', '-o', idFile], { SEALPOST_PASSPHRASE: 'a long passphrase here' });
    const wrong = await sealpost('alice2', ['import-identity', idFile], { SEALPOST_PASSPHRASE: 'not the passphrase' });
    expect(wrong.code).not.toBe(0);
    await ok('alice2', ['import-identity', idFile], { SEALPOST_PASSPHRASE: 'a long passphrase here' });
    await ok('alice2', reg('alice2', 'alice'));
    const mine = await listed('alice2');
    expect(mine.map((i) => [i.identifier, i.mine]).sort()).toEqual(
      [
        [noteId, true],
        [fileId, true],
      ].sort(),
    );
    expect(await ok('alice2', ['item', 'get', noteId])).toBe('two eggs');
  });
});
