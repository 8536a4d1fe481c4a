/**
 * `npm run server -- admin enroll --app APP --username alice [--ttl 7d] [--json]`
 * and `... admin enroll --app APP --csv users.csv [--out codes.csv]` (server/cli.ts
 * hands the parsed flags here). Prints the code(s) and sealpost://enroll links;
 * the codes are shown only now (the service keeps their hashes).
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { AdminError } from '../admin.js';
import { readAdminFile } from '../admin-file.js';
import type { Store } from '../store/types.js';
import { EnrollmentIssuer, parseTtl, type IssuedCode } from './codes.js';
import { issuedCsv, parseUsersCsv } from './csv.js';

export interface EnrollFlags {
  app?: string | undefined;
  username?: string | undefined;
  ttl?: string | undefined;
  csv?: string | undefined;
  out?: string | undefined;
  json?: boolean | undefined;
  publicUrl: string;
}

export interface EnrollIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** @throws {AdminError} bad flags, a bad CSV line, no such app */
export async function enrollCommand(store: Store, f: EnrollFlags, io: EnrollIo): Promise<number> {
  if (!f.app) throw new AdminError('--app is required');
  if ((f.username === undefined) === (f.csv === undefined)) throw new AdminError('give either --username NAME or --csv FILE');
  if (!/^https?:\/\//.test(f.publicUrl)) throw new AdminError('--public-url must be the http(s) address desktops reach the key service at');
  const defaultTtl = f.ttl !== undefined ? parseTtl(f.ttl) : undefined;
  const issuer = await EnrollmentIssuer.open(store, f.publicUrl.replace(/\/+$/, ''));

  if (f.username !== undefined) {
    const issued = await issuer.issue({ appId: f.app, username: f.username, ...(defaultTtl !== undefined && { ttlMs: defaultTtl }) });
    if (f.json) io.stdout(`${JSON.stringify(issued)}\n`);
    else {
      io.stdout(
        `Enrollment code for ${issued.username} in ${f.app} (one use, until ${issued.expiresAt}):\n` +
          `  code  ${issued.code}\n` +
          `  link  ${issued.link}\n` +
          `On the desktop: sealpost register --enroll '${issued.link}'\n` +
          `The code is shown only now: the service keeps only its hash.\n`,
      );
    }
    return 0;
  }

  const users = parseUsersCsv(await readAdminFile(f.csv!));
  await issuer.checkApp(f.app);
  const issued: IssuedCode[] = [];
  for (const u of users) {
    const ttlMs = u.ttlMs ?? defaultTtl;
    issued.push(await issuer.issue({ appId: f.app, username: u.username, ...(ttlMs !== undefined && { ttlMs }) }));
  }
  const text = f.json ? `${JSON.stringify(issued)}\n` : issuedCsv(issued);
  if (f.out) {
    // Created readable by its owner only: the file holds live codes.
    await writeFile(f.out, text, { mode: 0o600, flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
      throw new AdminError(`cannot write ${f.out}: ${e.code === 'EEXIST' ? 'the file exists (it is never overwritten)' : (e.code ?? 'error')}`);
    });
    io.stderr(`${issued.length} enrollment codes written to ${f.out}\n`);
  } else io.stdout(text);
  return 0;
}
