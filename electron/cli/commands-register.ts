/**
 * `sealpost register`: this device joins the app's key service, with a one-time
 * enrollment code from the organisation's admin (or the sealpost://enroll link
 * that carries it), or with the app's server key (the organisation's own back end,
 * development). Same contract channel as the app's Connect screen.
 */
import { EnrollLinkError, parseEnrollLink } from '../../shared/enroll-wire.js';
import type { CliContext } from './context.js';
import { type Command, parse, unlock } from './command-kit.js';
import { newerKeyWarning } from './newer-key-warning.js';
import { UsageError } from './usage-error.js';

const SYNOPSIS =
  'register (--enroll LINK | --server URL --app-id ID (--enrollment-code CODE | --server-key KEY) --username NAME) [--totp CODE] [--client-key KEY]';

interface Target {
  server: string;
  appId: string;
  username: string;
  enrollmentCode?: string;
  serverKey?: string;
}

function target(values: Record<string, string | undefined>): Target {
  const serverKey = values['server-key'] ?? process.env.SEALPOST_SERVER_KEY;
  if (values.enroll !== undefined) {
    let link;
    try {
      link = parseEnrollLink(values.enroll);
    } catch (e) {
      if (e instanceof EnrollLinkError) throw new UsageError(`--enroll: ${e.message}`);
      throw e;
    }
    const username = values.username ?? link.username;
    if (username === undefined) throw new UsageError('the enrollment link names no user: add --username');
    if (values['enrollment-code'] !== undefined || values['server-key'] !== undefined) throw new UsageError('--enroll already carries the code: drop --enrollment-code / --server-key');
    return { server: values.server ?? link.server, appId: values['app-id'] ?? link.appId, username, enrollmentCode: link.code };
  }
  const code = values['enrollment-code'] ?? process.env.SEALPOST_ENROLLMENT_CODE;
  if (!values.server || !values['app-id'] || !values.username || (code === undefined && serverKey === undefined)) {
    throw new UsageError(`register needs --enroll LINK, or --server, --app-id, --username and --enrollment-code (or --server-key)`);
  }
  if (code !== undefined && values['server-key'] !== undefined) throw new UsageError('give --enrollment-code or --server-key, not both');
  return { server: values.server, appId: values['app-id'], username: values.username, ...(code !== undefined ? { enrollmentCode: code } : { serverKey: serverKey! }) };
}

const register: Command = {
  synopsis: SYNOPSIS,
  summary: 'register this device with the app\'s key service (an enrollment code from your administrator; keys go to the keychain)',
  async run(ctx: CliContext) {
    const { values } = parse(
      ctx,
      {
        enroll: { type: 'string' },
        server: { type: 'string' },
        'app-id': { type: 'string' },
        'enrollment-code': { type: 'string' },
        'server-key': { type: 'string' },
        'client-key': { type: 'string' },
        username: { type: 'string' },
        totp: { type: 'string' },
      },
      0,
    );
    const t = target(values);
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const result = await ctx.call('device:register', {
      ...t,
      ...(values['client-key'] !== undefined && { clientKey: values['client-key'] }),
      ...(values.totp !== undefined && { totp: values.totp }),
    });
    if (result.code === 0 && !ctx.json) {
      ctx.out(`Registered as ${result.value.username} (${result.value.userId}) with ${result.value.server}.`);
      const warning = newerKeyWarning(result.value.newerKey);
      if (warning) process.stderr.write(warning);
    }
    if (result.code !== 0 && !ctx.json && result.details?.server === 'totp_required') {
      process.stderr.write('This account has two-step verification on: add --totp CODE from your authenticator app (or a recovery code).\n');
    }
    return result;
  },
};

export const registerCommands: Record<string, Command> = { register };
