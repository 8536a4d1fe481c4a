/**
 * Bulk enrollment files for `admin enroll --csv users.csv`.
 *
 * In:  one user per line, `username[,ttl]` (ttl as in --ttl: 90m, 12h, 7d, 2w);
 *      an optional header line `username,ttl`; blank lines and lines starting
 *      with # are skipped; fields may be double-quoted.
 * Out: `username,code,link,expiresAt` with a header line.
 *
 * The whole file is checked before any code is issued: one bad line issues
 * nothing, and the error names the line.
 * @module
 */
import { AdminError } from '../admin.js';
import { checkUsername, parseTtl, type IssuedCode } from './codes.js';
import { usernameKey } from '../routes/users.js';

export interface CsvUser {
  username: string;
  ttlMs?: number;
  line: number;
}

export const MAX_CSV_USERS = 10_000;

function fields(line: string, n: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= line.length) throw new AdminError(`line ${n}: a quoted field is not closed`);
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else value += line[i++];
      }
      if (i < line.length && line[i] !== ',') throw new AdminError(`line ${n}: text after a closing quote`);
      out.push(value);
      i++;
    } else {
      const end = line.indexOf(',', i);
      const stop = end < 0 ? line.length : end;
      out.push(line.slice(i, stop).trim());
      i = stop + 1;
    }
  }
  return out;
}

/** The users of a CSV file. @throws {AdminError} naming the first bad line */
export function parseUsersCsv(text: string): CsvUser[] {
  const users: CsvUser[] = [];
  const seen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const raw = lines[i]!;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const f = fields(raw, n);
    if (users.length === 0 && seen.size === 0 && f[0]!.toLowerCase() === 'username') continue;
    if (f.length > 2) throw new AdminError(`line ${n}: expected "username[,ttl]", found ${f.length} fields`);
    let username: string;
    let ttlMs: number | undefined;
    try {
      username = checkUsername(f[0]!);
      ttlMs = f[1] !== undefined && f[1] !== '' ? parseTtl(f[1]) : undefined;
    } catch (e) {
      throw new AdminError(`line ${n}: ${(e as Error).message}`);
    }
    const key = usernameKey(username);
    const first = seen.get(key);
    if (first !== undefined) throw new AdminError(`line ${n}: ${username} is already on line ${first}`);
    seen.set(key, n);
    users.push({ username, line: n, ...(ttlMs !== undefined && { ttlMs }) });
    if (users.length > MAX_CSV_USERS) throw new AdminError(`more than ${MAX_CSV_USERS} users in one file: split it`);
  }
  if (users.length === 0) throw new AdminError('the file names no users');
  return users;
}

const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export function issuedCsv(issued: IssuedCode[]): string {
  return ['username,code,link,expiresAt', ...issued.map((c) => [c.username, c.code, c.link, c.expiresAt].map(cell).join(','))].join('\n') + '\n';
}
