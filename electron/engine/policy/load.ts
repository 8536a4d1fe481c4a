/**
 * Reads the managed policy from the OS's managed place (docs/deploy.md) and validates
 * it against the one schema (shared/policy.ts):
 *   Linux (and other Unix)  /etc/sealpost/policy.json
 *   Windows                 HKLM\SOFTWARE\Policies\Sealpost, then HKCU\... (machine wins per key)
 *   macOS                   /Library/Managed Preferences/app.sealpost.desktop.plist
 *   SEALPOST_POLICY_FILE    a JSON file where none of these exists (tests; must exist)
 *
 * Fail closed: a place that exists but cannot be read, parsed or validated makes the
 * whole policy 'invalid' with a message naming the place and the problem; the engine
 * then refuses changes (enforce.ts). Absent everywhere = 'none' (nothing managed).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { PolicySchema, type Policy, type PolicyKey } from '../../../shared/policy.js';
import { certificateProblems } from './certificates.js';
import { PolicyError } from './errors.js';
import { MANAGED_PLIST, readPlistPolicy } from './plist.js';
import { parseRegQuery, queryRegistry, REGISTRY_KEYS, registryToRaw } from './registry.js';

export const LINUX_POLICY_FILE = '/etc/sealpost/policy.json';
const MAX_FILE_BYTES = 64 * 1024;

export interface LoadedPolicy {
  state: 'none' | 'managed' | 'invalid';
  /** The validated settings (empty unless 'managed'). */
  values: Policy;
  /** Per set key: the place it came from. */
  where: Partial<Record<PolicyKey, string>>;
  /** The places that exist, in precedence order. */
  sources: string[];
  /** For 'invalid': "<place>: <problem>". */
  error: string | null;
}

export interface LoadPolicyOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** For tests: runs `reg query` (default: the real one, Windows only). */
  queryRegistry?: (key: string) => Promise<string | null>;
  /** For tests: the managed plist's path. */
  plistPath?: string;
}

/** A place that exists and what it holds, not yet validated. */
interface Layer {
  where: string;
  raw: unknown;
}

export const NO_POLICY: LoadedPolicy = Object.freeze({ state: 'none', values: {}, where: {}, sources: [], error: null }) as LoadedPolicy;

/** Never throws: problems become state 'invalid'. */
export async function loadPolicy(options: LoadPolicyOptions = {}): Promise<LoadedPolicy> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  let layers: Layer[];
  try {
    layers = await readLayers(env, platform, options);
  } catch (e) {
    return invalid(e, []);
  }
  if (layers.length === 0) return NO_POLICY;
  const values: Record<string, unknown> = {};
  const where: Partial<Record<PolicyKey, string>> = {};
  try {
    for (const layer of layers) {
      const policy = validate(layer);
      for (const [key, value] of Object.entries(policy)) {
        if (key in values) continue; // an earlier (machine) layer wins
        values[key] = value;
        where[key as PolicyKey] = layer.where;
      }
    }
  } catch (e) {
    return invalid(e, layers.map((l) => l.where));
  }
  return { state: 'managed', values: values as Policy, where, sources: layers.map((l) => l.where), error: null };
}

/**
 * The OS's managed policy when there is one; else SEALPOST_POLICY_FILE. The
 * variable is for tests and for trying a policy out: it never replaces a policy
 * IT deployed, or anyone who can set the app's environment could lift it.
 */
async function readLayers(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, options: LoadPolicyOptions): Promise<Layer[]> {
  const managed = await managedLayers(platform, options);
  const override = env.SEALPOST_POLICY_FILE;
  if (managed.length > 0 || !override) return managed;
  const raw = await readJsonPolicy(override, true);
  return [{ where: override, raw }];
}

async function managedLayers(platform: NodeJS.Platform, options: LoadPolicyOptions): Promise<Layer[]> {
  if (platform === 'win32') {
    const query = options.queryRegistry ?? ((key: string) => queryRegistry(key));
    const layers: Layer[] = [];
    for (const key of REGISTRY_KEYS) {
      const output = await query(key);
      if (output === null) continue;
      const tree = parseRegQuery(output, key);
      if (tree.values.size === 0 && tree.subkeys.size === 0) continue;
      layers.push({ where: key, raw: registryToRaw(tree, key) });
    }
    return layers;
  }
  if (platform === 'darwin') {
    const file = options.plistPath ?? MANAGED_PLIST;
    const raw = await readPlistPolicy(file); // plutil only where it exists (process.platform)
    return raw === null ? [] : [{ where: file, raw }];
  }
  const raw = await readJsonPolicy(LINUX_POLICY_FILE, false);
  return raw === undefined ? [] : [{ where: LINUX_POLICY_FILE, raw }];
}

/**
 * A JSON policy file: undefined when it does not exist (and need not).
 * @throws {PolicyError} unreadable, too large, not JSON
 */
export async function readJsonPolicy(file: string, mustExist: boolean): Promise<unknown> {
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_FILE_BYTES) throw new PolicyError(file, `over ${MAX_FILE_BYTES / 1024} KiB: not a policy file`);
    text = bytes.toString('utf8');
  } catch (e) {
    if (e instanceof PolicyError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !mustExist) return undefined;
    throw new PolicyError(file, code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`, { cause: e });
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (e) {
    throw new PolicyError(file, `not valid JSON (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
}

/** @throws {PolicyError} naming every problem (key and what is wrong) */
function validate(layer: Layer): Policy {
  if (typeof layer.raw !== 'object' || layer.raw === null || Array.isArray(layer.raw)) throw new PolicyError(layer.where, 'the policy must be an object of settings');
  const parsed = PolicySchema.safeParse(layer.raw);
  if (parsed.success) {
    // The schema checks a certificate's shape only (it runs in the renderer too); here each must parse.
    const bad = certificateProblems(parsed.data.trustedCertificates ?? []);
    if (bad.length > 0) throw new PolicyError(layer.where, `invalid policy: ${bad.join('; ')}`);
    return parsed.data;
  }
  const problems = parsed.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `unknown setting${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    return `${i.path.join('.') || '(policy)'}: ${i.message}`;
  });
  throw new PolicyError(layer.where, `invalid policy: ${problems.join('; ')}`);
}

function invalid(e: unknown, sources: string[]): LoadedPolicy {
  const error = e instanceof PolicyError ? e.message : `the policy could not be read (${e instanceof Error ? e.name : 'error'})`;
  const where = e instanceof PolicyError ? e.where : null;
  return { state: 'invalid', values: {}, where: {}, sources: sources.length ? sources : where ? [where] : [], error };
}
