/**
 * A throwaway PostgreSQL for tests and benchmarks.
 *
 * With DATABASE_URL (or SEALPOST_TEST_DATABASE_URL) set, a fresh database is
 * created on that server and dropped afterwards. Otherwise a new cluster is
 * made with Debian's binaries (/usr/lib/postgresql/<n>/bin or PATH): initdb in
 * a temp dir, pg_ctl start on a free loopback port with the unix socket in the
 * same dir, fsync off. As root, the binaries run as the "postgres" OS user
 * (runuser), which owns the temp dir.
 *
 *   const pg = await startPostgres();      // throws PostgresUnavailable with the reason
 *   ... pg.url ...
 *   await pg.stop();
 */
import { execFile as execFileCb } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const execFile = promisify(execFileCb);

export interface TestPostgres {
  /** postgres://… of an empty database. */
  url: string;
  /** Another empty database on the same server. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

export class PostgresUnavailable extends Error {
  override name = 'PostgresUnavailable';
}

function findBinDir(): string | null {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, 'initdb'))) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function postgresUid(): Promise<{ uid: number; gid: number } | null> {
  try {
    const { stdout } = await execFile('id', ['-u', 'postgres']);
    const { stdout: g } = await execFile('id', ['-g', 'postgres']);
    return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
  } catch {
    return null;
  }
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function onExistingServer(baseUrl: string): Promise<TestPostgres> {
  const made: string[] = [];
  const createDatabase = async () => {
    const name = `sealpost_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(baseUrl, `CREATE DATABASE ${name}`);
    made.push(name);
    return withDatabase(baseUrl, name);
  };
  const url = await createDatabase();
  return {
    url,
    createDatabase,
    stop: async () => {
      for (const name of made) await adminQuery(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    },
  };
}

/** @throws {PostgresUnavailable} no binaries, or the cluster did not start (the message says why) */
export async function startPostgres(): Promise<TestPostgres> {
  const given = process.env.SEALPOST_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (given) return onExistingServer(given);

  const bin = findBinDir();
  if (!bin) throw new PostgresUnavailable('no PostgreSQL server binaries (initdb, pg_ctl): install Debian\'s "postgresql" package or set DATABASE_URL');
  const isRoot = process.getuid?.() === 0;
  const owner = isRoot ? await postgresUid() : null;
  if (isRoot && !owner) throw new PostgresUnavailable('running as root but there is no "postgres" OS user to run the server as');

  const dir = mkdtempSync(join(tmpdir(), 'sealpost-pg-'));
  const data = join(dir, 'data');
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const run = (cmd: string, args: string[]) =>
    owner ? execFile('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { cwd: dir }) : execFile(join(bin, cmd), args, { cwd: dir });

  const port = await freePort();
  try {
    await run('initdb', ['-D', data, '-U', 'sealpost', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
    await run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`,
      'start',
    ]);
  } catch (error) {
    let log = '';
    try {
      log = readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000);
    } catch {
      log = '';
    }
    rmSync(dir, { recursive: true, force: true });
    throw new PostgresUnavailable(`could not start a PostgreSQL cluster: ${(error as Error).message}${log ? `\n${log}` : ''}`);
  }
  const base = `postgres://sealpost@127.0.0.1:${port}/postgres`;
  let existing: TestPostgres;
  try {
    existing = await onExistingServer(base);
  } catch (error) {
    await run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw new PostgresUnavailable(`PostgreSQL started but refused a connection: ${(error as Error).message}`);
  }
  let stopped = false;
  return {
    url: existing.url,
    createDatabase: existing.createDatabase,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
