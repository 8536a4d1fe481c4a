/**
 * Read receipts through the built CLI (child processes, as a user runs it):
 * `sealpost read` of an incoming message sends the receipt at once, the
 * sender's `inbox` then says read; `sealpost receipts [on|off]` shows and
 * changes the setting, and anything else is a usage error (exit 2).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor, requireBuiltCli } from '../../helpers/cli.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, tmp } from '../sync/helpers.js';

const root = tmp('sealpost-receipts-cli-');
const cli = cliFor(root, { pin: '0' });
const ok = async (who: string, args: string[]): Promise<string> => (await cli.ok(who, args)).stdout;

type Row = { id: number; direction: string; state: string; readAt: number | null; text: string };
const inbox = (who: string): Promise<Row[]> => cli.json<Row[]>(who, ['inbox']);

describe('sealpost read and receipts', () => {
  const alice = 'alice';
  const bob = 'bob';
  let ks: KeyService;

  beforeAll(async () => {
    requireBuiltCli();
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    for (const who of [alice, bob]) {
      await ok(who, ['init', '--rsa-bits', '2048']);
      await ok(who, ['register', '--server', ks.url, '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--username', who]);
    }
  });

  afterAll(async () => {
    await ks?.close();
    cleanup(root);
  });

  it('reading sends the receipt at once; the sender sees read after a sync', async () => {
    expect(await ok(alice, ['send', '--to', 'bob', '--text', 'read me'])).toMatch(/^Sent 1 message/);
    await ok(bob, ['sync']);
    const [got] = await inbox(bob);
    expect(got).toMatchObject({ direction: 'in', text: 'read me' });
    expect(await ok(bob, ['read', String(got!.id)])).toContain('read me');
    await ok(alice, ['sync']);
    const [mine] = await inbox(alice);
    expect(mine).toMatchObject({ direction: 'out', state: 'read' });
    expect(mine!.readAt).toEqual(expect.any(Number));
    expect(await ok(alice, ['inbox'])).toMatch(/to bob\tread\t/);
  });

  it('receipts shows and changes the setting; off sends none', async () => {
    expect(await ok(bob, ['receipts'])).toBe('Read receipts are on.\n');
    expect(await ok(bob, ['receipts', 'off'])).toBe('Read receipts are off.\n');
    expect(await cli.json(bob, ['receipts'])).toEqual({ enabled: false });
    await ok(alice, ['send', '--to', 'bob', '--text', 'not receipted']);
    await ok(bob, ['sync']);
    const got = (await inbox(bob)).find((m) => m.text === 'not receipted')!;
    await ok(bob, ['read', String(got.id)]);
    await ok(alice, ['sync']);
    expect((await inbox(alice)).find((m) => m.text === 'not receipted')).toMatchObject({ state: 'delivered', readAt: null });
    const bad = await cli.run(bob, ['receipts', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/on or off/);
  });
});
