/**
 * Windows: the policy as Group Policy / Intune write it (resources/policy/sealpost.admx):
 * values under HKLM\SOFTWARE\Policies\Sealpost (machine) and HKCU\SOFTWARE\Policies\Sealpost
 * (user), escrow in the subkey "Escrow". Read with `reg query KEY /s` (no native module)
 * and parsed here; the parser is tested on recorded output (test/fixtures/policy/).
 *
 * `reg query` prints, per key, the key path and then one line per value:
 *     <4 spaces>name<4 spaces>REG_TYPE<4 spaces>data
 * REG_DWORD data is hex ("0x1"); REG_MULTI_SZ items are joined by a literal "\0".
 * Value names are matched to schema keys case-insensitively (the registry is case-
 * insensitive); a name that matches none is kept as is, so the strict schema rejects it.
 * @module
 */
import { execFile } from 'node:child_process';
import { POLICY_KEYS, POLICY_KINDS, type PolicyKey } from '../../../shared/policy.js';
import { PolicyError } from './errors.js';

export const REGISTRY_KEYS = ['HKLM\\SOFTWARE\\Policies\\Sealpost', 'HKCU\\SOFTWARE\\Policies\\Sealpost'] as const;
const ESCROW_SUBKEY = 'escrow';
const ESCROW_FIELDS = ['url', 'appId', 'clientKey'];

export interface RegValue {
  type: string;
  data: string;
}
/** One key's values, by name, and its subkeys by (lower-case) name. */
export interface RegKey {
  values: Map<string, RegValue>;
  subkeys: Map<string, RegKey>;
}

const VALUE_LINE = /^ {4}(.+?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/;
const HIVES: Record<string, string> = { HKEY_LOCAL_MACHINE: 'HKLM', HKEY_CURRENT_USER: 'HKCU' };

/**
 * Parses `reg query <root> /s` output into the root key's tree.
 * @throws {PolicyError} when a line is neither a key, a value nor blank
 */
export function parseRegQuery(output: string, root: string): RegKey {
  const tree: RegKey = { values: new Map(), subkeys: new Map() };
  const rootNorm = normaliseKey(root);
  let current: RegKey | null = null;
  for (const line of output.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    if (/^HKEY_/i.test(line)) {
      const key = normaliseKey(line.trim());
      if (key !== rootNorm && !key.startsWith(`${rootNorm}\\`)) throw new PolicyError(root, `reg query printed another key (${line.trim()})`);
      current = tree;
      for (const part of key.slice(rootNorm.length).split('\\').filter(Boolean)) {
        const name = part.toLowerCase();
        if (!current.subkeys.has(name)) current.subkeys.set(name, { values: new Map(), subkeys: new Map() });
        current = current.subkeys.get(name)!;
      }
      continue;
    }
    const m = VALUE_LINE.exec(line);
    if (!m || !current) throw new PolicyError(root, `unexpected line in reg query output: "${line.trim().slice(0, 80)}"`);
    current.values.set(m[1]!, { type: m[2]!, data: (m[3] ?? '').replace(/\s+$/, '') });
  }
  return tree;
}

/** HKEY_LOCAL_MACHINE\Software\... -> HKLM\SOFTWARE\... (upper case, for comparing). */
function normaliseKey(key: string): string {
  const [hive, ...rest] = key.split('\\');
  return [HIVES[hive!.toUpperCase()] ?? hive!.toUpperCase(), ...rest].join('\\').toUpperCase();
}

/**
 * The registry tree as a raw policy object (not yet validated): typed by the
 * registry type, booleans from REG_DWORD 0/1 where the schema wants a boolean.
 * @throws {PolicyError} for a registry type a policy value never has
 */
export function registryToRaw(tree: RegKey, where: string): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [name, value] of tree.values) {
    const key = POLICY_KEYS.find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
    raw[key] = convert(value, key, `${where}\\${name}`);
  }
  for (const [name, sub] of tree.subkeys) {
    if (name !== ESCROW_SUBKEY) {
      raw[`${name} (subkey)`] = true; // unknown: the strict schema names it
      continue;
    }
    const escrow: Record<string, unknown> = {};
    for (const [vname, value] of sub.values) {
      const field = ESCROW_FIELDS.find((f) => f.toLowerCase() === vname.toLowerCase()) ?? vname;
      escrow[field] = convert(value, null, `${where}\\Escrow\\${vname}`);
    }
    raw.escrow = escrow;
  }
  return raw;
}

function convert(value: RegValue, key: string | null, where: string): unknown {
  const kind = key && key in POLICY_KINDS ? POLICY_KINDS[key as PolicyKey] : 'string';
  switch (value.type) {
    case 'REG_SZ':
    case 'REG_EXPAND_SZ':
      return kind === 'strings' ? [value.data] : value.data;
    case 'REG_MULTI_SZ':
      return value.data.split('\\0').filter((s) => s.length > 0);
    case 'REG_DWORD':
    case 'REG_QWORD': {
      if (!/^0x[0-9a-f]+$/i.test(value.data)) throw new PolicyError(where, `unreadable ${value.type} "${value.data.slice(0, 20)}"`);
      const n = Number.parseInt(value.data.slice(2), 16);
      if (kind === 'boolean' && (n === 0 || n === 1)) return n === 1;
      return n;
    }
    default:
      throw new PolicyError(where, `a policy value cannot be ${value.type}`);
  }
}

/**
 * Runs `reg query KEY /s`. Null when the key does not exist (reg exits 1 and says so).
 * @throws {PolicyError} when reg cannot be run or fails otherwise
 */
export async function queryRegistry(key: string, run: typeof execFile = execFile): Promise<string | null> {
  return new Promise((resolve, reject) => {
    run('reg', ['query', key, '/s'], { encoding: 'utf8', windowsHide: true, timeout: 10_000 }, (error, stdout, stderr) => {
      if (!error) return resolve(String(stdout));
      const code = (error as { code?: unknown }).code;
      if (code === 1 && /unable to find/i.test(String(stderr))) return resolve(null);
      if (code === 1 && String(stdout).trim() === '' && String(stderr).trim() !== '') return resolve(null); // localized "not found"
      reject(new PolicyError(key, `reg query failed: ${String(stderr).trim().split('\n')[0] ?? error.message}`, { cause: error }));
    });
  });
}
