/** Reading a file an admin named on the command line (a PEM key, a CSV of users). */
import { readFile } from 'node:fs/promises';
import { AdminError } from './admin.js';

/** @throws {AdminError} naming the path and why it cannot be read (never a stack) */
export async function readAdminFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AdminError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'error')}`);
  }
}
