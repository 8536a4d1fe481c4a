/**
 * The keychain fallback for machines where no Secret Service answers (headless
 * Linux, a CLI over SSH): one JSON file, `<profileDir>/keychain.json`, mode 0600.
 *
 * It holds only values their owners sealed first (the identity record is sealed
 * under the PIN KDF), so it is "PIN-wrapped": reading the file gives an attacker an
 * offline PIN search, not the keys. docs/security.md says what that costs.
 *
 * Every write is atomic and durable: a fresh temp file (O_EXCL, 0600) is written,
 * fsynced, renamed over the old one, and the directory is fsynced, so a crash
 * leaves either the old or the new file, never a torn one. Operations of one
 * instance run one at a time (read-modify-write); separate processes writing the
 * same profile at the same moment are not serialised (last rename wins).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  checkAccount,
  checkProfileName,
  checkValue,
  entryName,
  fromBase64,
  type Keychain,
  type KeychainAccount,
  KeychainError,
  toBase64,
} from './types.js';

/** File name of the fallback inside the profile directory. */
export const KEYCHAIN_FILE = 'keychain.json';

const FileSchema = z
  .object({
    format: z.literal('sealpost-keychain'),
    version: z.literal(1),
    entries: z.record(z.string().max(200), z.string().max(128 * 1024)),
  })
  .strict();

type KeychainFile = z.infer<typeof FileSchema>;

/** A {@link Keychain} kept in `<profileDir>/keychain.json`. */
export class FileKeychain implements Keychain {
  readonly backend = 'file' as const;
  /** Absolute path of the file. */
  readonly path: string;
  private readonly profileName: string;
  private queue: Promise<unknown> = Promise.resolve();

  /** @throws {KeychainError} 'invalid-input' for a bad profile name */
  constructor(
    readonly profileDir: string,
    profileName: string,
  ) {
    this.profileName = checkProfileName(profileName);
    this.path = path.join(path.resolve(profileDir), KEYCHAIN_FILE);
  }

  async get(account: KeychainAccount): Promise<Uint8Array | null> {
    const name = entryName(this.profileName, checkAccount(account));
    return this.serial(async () => {
      const value = (await this.read())?.entries[name];
      return value === undefined ? null : fromBase64(value, 'keychain entry');
    });
  }

  async set(account: KeychainAccount, value: Uint8Array): Promise<void> {
    const name = entryName(this.profileName, checkAccount(account));
    const encoded = toBase64(checkValue(value));
    await this.serial(async () => {
      const file = (await this.read()) ?? empty();
      file.entries[name] = encoded;
      await this.write(file);
    });
  }

  async delete(account: KeychainAccount): Promise<boolean> {
    const name = entryName(this.profileName, checkAccount(account));
    return this.serial(async () => {
      const file = await this.read();
      if (!file || !(name in file.entries)) return false;
      delete file.entries[name];
      await this.write(file);
      return true;
    });
  }

  /** True when the file exists and holds at least one entry of this profile. */
  async hasEntries(): Promise<boolean> {
    return this.serial(async () => {
      const file = await this.read();
      return !!file && Object.keys(file.entries).some((k) => k.startsWith(`${this.profileName}/`));
    });
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The parsed file, or null when there is none. A damaged file is an error, never "empty". */
  private async read(): Promise<KeychainFile | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new KeychainError('io', `cannot read ${KEYCHAIN_FILE}`, { cause: e });
    }
    await this.tightenMode();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new KeychainError('corrupt', `${KEYCHAIN_FILE} is not valid JSON`, { cause: e });
    }
    const parsed = FileSchema.safeParse(json);
    if (!parsed.success) throw new KeychainError('corrupt', `${KEYCHAIN_FILE} has an unexpected shape`);
    return { ...parsed.data, entries: { ...parsed.data.entries } };
  }

  /** Repairs a file someone made group/world readable (ssh refuses; we repair, as the data is sealed). */
  private async tightenMode(): Promise<void> {
    if (process.platform === 'win32') return;
    try {
      if (((await stat(this.path)).mode & 0o077) !== 0) await chmod(this.path, 0o600);
    } catch {
      // best effort: the next atomic write creates the file 0600 anyway
    }
  }

  private async write(file: KeychainFile): Promise<void> {
    const dir = path.dirname(this.path);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeAtomic(this.path, `${JSON.stringify(file, null, 1)}\n`);
    } catch (e) {
      throw new KeychainError('io', `cannot write ${KEYCHAIN_FILE}`, { cause: e });
    }
  }
}

const empty = (): KeychainFile => ({ format: 'sealpost-keychain', version: 1, entries: {} });

/**
 * Replaces `target` with `data` atomically and durably (temp + fsync + rename +
 * directory fsync). The temp file is created 0600 with O_EXCL, so it is never
 * readable by others, not even for a moment.
 * @throws the underlying fs error
 */
export async function writeAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(path.dirname(target));
}

async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await fh.close();
  }
}
