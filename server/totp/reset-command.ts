/**
 * `npm run server -- admin totp-reset --app APP --username NAME [--json]`
 * (server/cli.ts hands the parsed flags here): turns a user's TOTP off for a user
 * who lost both the authenticator and every recovery code, so they can restore
 * from their recovery shares or register a device again (docs/recovery.md
 * "Two-step verification"). The desktop's own way to turn it off needs a code;
 * this one needs the database, so it is for the organisation's admin, after they
 * made sure who is asking. Written to the app's audit chain (totp.reset, actor
 * admin); the user sets TOTP up again from a registered device.
 * @module
 */
import { AdminError } from '../admin.js';
import { AuditLog } from '../audit.js';
import { usernameKey } from '../routes/users.js';
import { TotpStore } from '../store/totp-store.js';
import type { Store } from '../store/types.js';

export interface TotpResetFlags {
  app?: string | undefined;
  username?: string | undefined;
  json?: boolean | undefined;
}

export interface TotpResetIo {
  stdout: (text: string) => void;
}

/** @throws {AdminError} a missing flag, no such app or user */
export async function totpResetCommand(store: Store, f: TotpResetFlags, io: TotpResetIo, now = Date.now()): Promise<number> {
  if (!f.app) throw new AdminError('--app is required');
  if (!f.username) throw new AdminError('--username is required');
  if (!(await store.getApp(f.app))) throw new AdminError(`no such app: ${f.app}`);
  const user = await store.userByName(f.app, usernameKey(f.username.normalize('NFC')));
  if (!user) throw new AdminError(`no user "${f.username}" in app ${f.app}`);
  const totp = new TotpStore(store);
  const row = await totp.get(f.app, user.id);
  const was = row === undefined ? 'off' : row.confirmedAt === null ? 'pending' : 'on';
  await totp.remove(f.app, user.id);
  await new AuditLog(store).append({
    chain: f.app,
    ts: now,
    userId: user.id,
    deviceId: null,
    actor: 'admin',
    action: 'totp.reset',
    target: `user:${user.id}`,
    result: was === 'off' ? 'unchanged' : 'ok',
    status: 200,
    ip: 'cli',
  });
  if (f.json) io.stdout(`${JSON.stringify({ username: user.username, userId: user.id, was })}\n`);
  else io.stdout(was === 'off' ? `two-step verification was already off for ${user.username}\n` : `two-step verification turned off for ${user.username}: they can set it up again from a registered device\n`);
  return 0;
}
