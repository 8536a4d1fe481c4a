#!/usr/bin/env node
/**
 * `npm run server [-- <command>] [options]`: run the key service or administer it.
 * runCli() is exported for tests; main() runs when this file is the entry point.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Admin, AdminError, WEAK_KEY_LENGTH } from './admin.js';
import { checkTls, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_RATE_LIMIT, DEFAULT_STREAM, type ServerOptions } from './config.js';
import { connectedAppCommand } from './connected/command.js';
import { enrollCommand } from './enrollment/enroll-command.js';
import { startServer } from './index.js';
import { DEFAULT_DB_FILE, openStore, type StoreOptions } from './store/index.js';
import { totpResetCommand } from './totp/reset-command.js';
import { PgEventBus } from './stream/pg-bus.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const HELP = `Sealpost key service

Usage:
  npm run server [-- [serve] [options]]          run the service
  npm run server -- <command> [options]          administer it

Commands:
  serve                        run the HTTP service (the default)
  create-app --name <name>     create an app; prints appId, serverKey and clientKey once
      [--app-id <id>]          choose the app id (default app_<random>)
      [--server-key <key>] [--client-key <key>]
                               import existing keys (migration); default 256-bit random
      [--json]                 print exactly {"appId","serverKey","clientKey"}
  list-apps [--json]           apps with their user and device counts
  revoke-app --app <id>        refuse every credential of an app from now on
  list-devices --app <id> [--json]
  revoke-device --app <id> --device <deviceId>
                               refuse the device's JWTs from now on (every instance, at once)
  verify-audit --app <id> [--json]
                               recompute the app's audit hash chain ("-" = unauthenticated requests)
  enroll --app <id> --username <name> [--ttl 7d] [--json]
                               a one-time enrollment code and its sealpost://enroll link, so a
                               desktop registers without the server key (docs/deploy.md)
  enroll --app <id> --csv <users.csv> [--ttl 7d] [--out <codes.csv>] [--json]
                               one code per CSV line "username[,ttl]"; prints (or writes, mode 0600)
                               "username,code,link,expiresAt"
      [--public-url <url>]     SEALPOST_PUBLIC_URL: the service's address in the links
                               (default http(s)://<host>:<port>)
  totp-reset --app <id> --username <name> [--json]
                               turn off a user's two-step verification (lost authenticator and
                               recovery codes: check who is asking first); audited (docs/recovery.md)
  connected-app add --name <n> --mode api|login|always --key-bits 128|192|256
      [--public-key <app.pem>] [--app <id>] [--json]
                               register an application that asks users for their personal key or
                               a sign-in (docs/connected-apps.md); prints its id and secret once
  connected-app list [--app <id>] [--json]
  connected-app remove --id <ca_...>
                               refuse the application's secret from now on
  (every command may also be written "admin <command>")
  help                         this text

Options (flag / environment variable; flags win):
  --port <n>          PORT                 port to listen on (default ${DEFAULT_PORT}; 0 = any free port)
  --host <addr>       HOST                 address to listen on (default ${DEFAULT_HOST}; 0.0.0.0 for all)
  --db <file>         SEALPOST_DB          SQLite database file (default ${DEFAULT_DB_FILE})
  --data-dir <dir>    SEALPOST_DATA_DIR    keep the SQLite file in <dir>/sealpost-keyservice.db
  --database-url <u>  DATABASE_URL         postgres://user:pass@host:5432/db: use PostgreSQL instead
                                           of SQLite; several instances may share one database
  --pg-pool <n>       SEALPOST_PG_POOL     PostgreSQL connections per instance (default 10)
                      SEALPOST_JWT_SECRET  HS256 secret for device JWTs (>= 32 characters); default:
                                           generated once and kept in the database (all instances share it)
  --jwt-ttl <s>       SEALPOST_JWT_TTL     device JWT lifetime in seconds (default 900)
  --rsa-bits <n>      SEALPOST_RSA_BITS    RSA size for online-created keys: 2048, 3072 (default), 4096
  --body-limit <b>    SEALPOST_BODY_LIMIT  largest request body in bytes (default 16777216)
  --file-limit <b>    SEALPOST_FILE_LIMIT  largest file in a multipart send (default 8388608)
  --max-files <n>     SEALPOST_MAX_FILES   most files per send (default 10)
  --rate-window <s>   SEALPOST_RATE_WINDOW rate-limit window in seconds (default ${DEFAULT_RATE_LIMIT.windowSeconds})
  --rate-ip <n>       SEALPOST_RATE_IP     requests per client address per window (default ${DEFAULT_RATE_LIMIT.perIp})
  --rate-device <n>   SEALPOST_RATE_DEVICE requests per device / client key+address / server key per window (default ${DEFAULT_RATE_LIMIT.perDevice})
  --rate-secret <n>   SEALPOST_RATE_SECRET wrong passphrases/privatekeyhashes per key per window (default ${DEFAULT_RATE_LIMIT.secretFailures})
  --stream-per-device <n> SEALPOST_STREAM_PER_DEVICE open push streams per device (default ${DEFAULT_STREAM.perDevice})
  --stream-per-ip <n> SEALPOST_STREAM_PER_IP open push streams per client address (default ${DEFAULT_STREAM.perIp})
  --stream-heartbeat <s> SEALPOST_STREAM_HEARTBEAT push stream ping interval in seconds (default ${DEFAULT_STREAM.heartbeatSeconds});
                                           keep it below a reverse proxy's read timeout
  --trust-proxy <v>   SEALPOST_TRUST_PROXY trust X-Forwarded-For: true, a hop count, or proxy addresses
                                           (needed behind a load balancer for per-IP limits)
  --cors-origin <o>   SEALPOST_CORS_ORIGIN allowed CORS origin(s), comma-separated (default *)
  --tls-cert <file>   SEALPOST_TLS_CERT_FILE serve HTTPS (and wss streams) with this PEM certificate
                                           (chain); needs --tls-key (default plain HTTP)
  --tls-key <file>    SEALPOST_TLS_KEY_FILE  the certificate's PEM private key (unencrypted)
  --log-level <l>     LOG_LEVEL            fatal, error, warn, info (default), debug, silent
  --app <id>, --device <id>, --name <n>, --json   for the admin commands
  -h, --help                               this text

Secrets (passphrases, privatekeyhash, tokens, API keys, JWTs) are never written to the log.
See docs/api.md for the HTTP API.
`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  db: { type: 'string' },
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
  'pg-pool': { type: 'string' },
  'jwt-ttl': { type: 'string' },
  'rsa-bits': { type: 'string' },
  'body-limit': { type: 'string' },
  'file-limit': { type: 'string' },
  'max-files': { type: 'string' },
  'rate-window': { type: 'string' },
  'rate-ip': { type: 'string' },
  'rate-device': { type: 'string' },
  'rate-secret': { type: 'string' },
  'stream-per-device': { type: 'string' },
  'stream-per-ip': { type: 'string' },
  'stream-heartbeat': { type: 'string' },
  'trust-proxy': { type: 'string' },
  'cors-origin': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'log-level': { type: 'string' },
  name: { type: 'string' },
  'app-id': { type: 'string' },
  'server-key': { type: 'string' },
  'client-key': { type: 'string' },
  app: { type: 'string' },
  device: { type: 'string' },
  username: { type: 'string' },
  ttl: { type: 'string' },
  csv: { type: 'string' },
  out: { type: 'string' },
  'public-url': { type: 'string' },
  mode: { type: 'string' },
  'key-bits': { type: 'string' },
  'public-key': { type: 'string' },
  id: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

class UsageError extends Error {}

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,10}$/.test(value)) throw new UsageError(`${name} must be a whole number`);
  return Number(value);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function storeOptions(v: Values, env: NodeJS.ProcessEnv): StoreOptions {
  const databaseUrl = v['database-url'] ?? env.DATABASE_URL;
  const dataDir = v['data-dir'] ?? env.SEALPOST_DATA_DIR;
  const db = v.db ?? env.SEALPOST_DB ?? (dataDir ? join(resolve(dataDir), 'sealpost-keyservice.db') : DEFAULT_DB_FILE);
  const pgPoolSize = intOption(v['pg-pool'] ?? env.SEALPOST_PG_POOL, '--pg-pool');
  return { db, ...(databaseUrl ? { databaseUrl } : {}), ...(pgPoolSize ? { pgPoolSize } : {}) };
}

function trustProxy(value: string | undefined): ServerOptions['trustProxy'] {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** Names the certificate file when TLS is configured (flag or environment), for the scheme of URLs. */
const tlsCertFile = (v: Values, env: NodeJS.ProcessEnv): string | undefined => v['tls-cert'] || env.SEALPOST_TLS_CERT_FILE || undefined;

/**
 * The TLS certificate and key from their files: both or neither.
 * @throws {UsageError} only one given, or a file that cannot be read
 */
function tlsOptions(v: Values, env: NodeJS.ProcessEnv): ServerOptions['tls'] {
  const certFile = tlsCertFile(v, env);
  const keyFile = v['tls-key'] || env.SEALPOST_TLS_KEY_FILE || undefined;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new UsageError(`TLS needs both a certificate and its key: --tls-cert/SEALPOST_TLS_CERT_FILE and --tls-key/SEALPOST_TLS_KEY_FILE (only ${certFile ? 'the certificate' : 'the key'} was given)`);
  const read = (file: string, what: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read the TLS ${what} file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  try {
    return checkTls({ cert: read(certFile, 'certificate'), key: read(keyFile, 'key') });
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(`${e.message}: ${certFile}, ${keyFile}`);
    throw e;
  }
}

/** ServerOptions from flags and environment. @throws {UsageError} */
export function serverOptionsFrom(v: Values, env: NodeJS.ProcessEnv): ServerOptions {
  const level = v['log-level'] ?? env.LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const rsaBits = intOption(v['rsa-bits'] ?? env.SEALPOST_RSA_BITS, '--rsa-bits');
  if (rsaBits !== undefined && rsaBits !== 2048 && rsaBits !== 3072 && rsaBits !== 4096) throw new UsageError('--rsa-bits must be 2048, 3072 or 4096');
  const cors = v['cors-origin'] ?? env.SEALPOST_CORS_ORIGIN;
  const tls = tlsOptions(v, env);
  const options: ServerOptions = {
    ...storeOptions(v, env),
    host: v.host ?? env.HOST ?? DEFAULT_HOST,
    port: intOption(v.port ?? env.PORT, '--port') ?? DEFAULT_PORT,
    jwtTtlSeconds: intOption(v['jwt-ttl'] ?? env.SEALPOST_JWT_TTL, '--jwt-ttl'),
    bodyLimitBytes: intOption(v['body-limit'] ?? env.SEALPOST_BODY_LIMIT, '--body-limit'),
    fileLimitBytes: intOption(v['file-limit'] ?? env.SEALPOST_FILE_LIMIT, '--file-limit'),
    maxFiles: intOption(v['max-files'] ?? env.SEALPOST_MAX_FILES, '--max-files'),
    rateLimit: {
      windowSeconds: intOption(v['rate-window'] ?? env.SEALPOST_RATE_WINDOW, '--rate-window'),
      perIp: intOption(v['rate-ip'] ?? env.SEALPOST_RATE_IP, '--rate-ip'),
      perDevice: intOption(v['rate-device'] ?? env.SEALPOST_RATE_DEVICE, '--rate-device'),
      secretFailures: intOption(v['rate-secret'] ?? env.SEALPOST_RATE_SECRET, '--rate-secret'),
    },
    stream: {
      perDevice: intOption(v['stream-per-device'] ?? env.SEALPOST_STREAM_PER_DEVICE, '--stream-per-device'),
      perIp: intOption(v['stream-per-ip'] ?? env.SEALPOST_STREAM_PER_IP, '--stream-per-ip'),
      heartbeatSeconds: intOption(v['stream-heartbeat'] ?? env.SEALPOST_STREAM_HEARTBEAT, '--stream-heartbeat'),
    },
    trustProxy: trustProxy(v['trust-proxy'] ?? env.SEALPOST_TRUST_PROXY),
    corsOrigin: cors ? (cors === '*' ? '*' : cors.split(',').map((s) => s.trim())) : '*',
    logger: { level: level as (typeof LOG_LEVELS)[number] },
    ...(rsaBits ? { rsaBits } : {}),
    ...(tls ? { tls } : {}),
    ...(env.SEALPOST_JWT_SECRET ? { jwtSecret: env.SEALPOST_JWT_SECRET } : {}),
  };
  return options;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')}\n`;
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

function need(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`${flag} is required`);
  return value;
}

async function admin(command: string, v: Values, io: CliIo, sub?: string): Promise<number> {
  const options = storeOptions(v, io.env);
  const store = await openStore(options);
  // On PostgreSQL a revocation is announced to the instances (their streams of the device close at once).
  const events = command === 'revoke-device' && options.databaseUrl ? new PgEventBus({ url: options.databaseUrl, listen: false }) : undefined;
  try {
    const adm = await Admin.open(store, events);
    switch (command) {
      case 'create-app': {
        const created = await adm.createApp({
          name: need(v.name, '--name'),
          ...(v['app-id'] ? { appId: v['app-id'] } : {}),
          ...(v['server-key'] ? { serverKey: v['server-key'] } : {}),
          ...(v['client-key'] ? { clientKey: v['client-key'] } : {}),
        });
        for (const [label, key] of [['--server-key', v['server-key']], ['--client-key', v['client-key']]] as const) {
          if (key !== undefined && key.length < WEAK_KEY_LENGTH) io.stderr(`warning: the imported ${label.slice(2)} is shorter than ${WEAK_KEY_LENGTH} characters and may be guessable\n`);
        }
        if (v.json) {
          io.stdout(`${JSON.stringify({ appId: created.appId, serverKey: created.serverKey, clientKey: created.clientKey })}\n`);
        } else {
          io.stdout(
            `App created: ${v.name}\n` +
              `  appId      ${created.appId}\n` +
              `  serverKey  ${created.serverKey}\n` +
              `             (the app's own server: user/register, gen-jwt, audit; keep it secret)\n` +
              `  clientKey  ${created.clientKey}\n` +
              `             (development device key, sent as X-Client-Key)\n` +
              `The keys are shown only now: the service keeps only their hashes.\n`,
          );
        }
        return 0;
      }
      case 'list-apps': {
        const apps = await adm.listApps();
        if (v.json) io.stdout(`${JSON.stringify(apps)}\n`);
        else io.stdout(table([['APP ID', 'NAME', 'USERS', 'DEVICES', 'CREATED', 'REVOKED'], ...apps.map((a) => [a.id, a.name, String(a.users), String(a.devices), iso(a.createdAt), iso(a.revokedAt)])]));
        return 0;
      }
      case 'revoke-app': {
        const id = need(v.app, '--app');
        await adm.revokeApp(id);
        io.stdout(`app ${id} revoked\n`);
        return 0;
      }
      case 'list-devices': {
        const devices = await adm.listDevices(need(v.app, '--app'));
        if (v.json) {
          io.stdout(`${JSON.stringify(devices.map((d) => ({ deviceId: d.deviceId, userId: d.userId, fingerprint: d.fingerprint, createdAt: iso(d.createdAt), revokedAt: d.revokedAt === null ? null : iso(d.revokedAt) })))}\n`);
        } else {
          io.stdout(table([['DEVICE ID', 'USER ID', 'FINGERPRINT', 'CREATED', 'REVOKED'], ...devices.map((d) => [d.deviceId, d.userId, `${d.fingerprint.slice(0, 16)}…`, iso(d.createdAt), iso(d.revokedAt)])]));
        }
        return 0;
      }
      case 'revoke-device': {
        const app = need(v.app, '--app');
        const device = need(v.device, '--device');
        await adm.revokeDevice(app, device);
        io.stdout(`device ${device} revoked\n`);
        return 0;
      }
      case 'verify-audit': {
        const result = await adm.verifyAudit(need(v.app, '--app'));
        if (v.json) io.stdout(`${JSON.stringify(result)}\n`);
        else io.stdout(result.ok ? `audit chain intact: ${result.count} entries\n` : `audit chain BROKEN at entry ${result.firstBadSeq} (${result.count} good entries before it)\n`);
        return result.ok ? 0 : 3;
      }
      case 'enroll': {
        const scheme = tlsCertFile(v, io.env) ? 'https' : 'http';
        const publicUrl = v['public-url'] ?? io.env.SEALPOST_PUBLIC_URL ?? `${scheme}://${v.host ?? io.env.HOST ?? DEFAULT_HOST}:${v.port ?? io.env.PORT ?? DEFAULT_PORT}`;
        return await enrollCommand(store, { app: v.app, username: v.username, ttl: v.ttl, csv: v.csv, out: v.out, json: v.json, publicUrl }, io);
      }
      case 'totp-reset':
        return await totpResetCommand(store, { app: v.app, username: v.username, json: v.json }, io);
      case 'connected-app':
        return await connectedAppCommand(store, sub, { app: v.app, id: v.id, name: v.name, mode: v.mode, keyBits: v['key-bits'], publicKey: v['public-key'], json: v.json }, io);
      default:
        throw new UsageError(`unknown command "${command}": see --help`);
    }
  } finally {
    await events?.close();
    await store.close();
  }
}

/** Runs one CLI invocation; resolves with the exit code (serve resolves once listening). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr(`${(error as Error).message}\nsee --help\n`);
    return 2;
  }
  const v = parsed.values as Values;
  const [command = 'serve', ...rest] = parsed.positionals[0] === 'admin' ? parsed.positionals.slice(1) : parsed.positionals;
  if (v.help || command === 'help') {
    io.stdout(HELP);
    return 0;
  }
  if (rest.length > (command === 'connected-app' ? 1 : 0)) {
    io.stderr(`unexpected argument "${rest[rest.length - 1]}": see --help\n`);
    return 2;
  }
  try {
    if (command !== 'serve') return await admin(command, v, io, rest[0]);
    const server = await startServer(serverOptionsFrom(v, io.env));
    const where = server.store.kind === 'postgres' ? 'PostgreSQL' : `SQLite ${resolve(storeOptions(v, io.env).db ?? DEFAULT_DB_FILE)}`;
    io.stderr(`sealpost key service listening on ${server.url} (${where})\n`);
    let closing = false;
    const stop = (signal: string) => {
      if (closing) return;
      closing = true;
      io.stderr(`${signal}: closing\n`);
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof AdminError || error instanceof RangeError) {
      io.stderr(`error: ${error.message}\n`);
      return 2;
    }
    io.stderr(`error: ${(error as Error).message}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  runCli(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env }).then((code) => {
    if (code !== 0) process.exitCode = code;
  });
}
