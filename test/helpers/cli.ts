/**
 * The built `sealpost` command (bin/sealpost.js -> dist/, `npm run build:node`
 * first) run as a user runs it: one profile folder per name under a test's work
 * folder, the file keychain and the cheap test KDF (accepted only under vitest),
 * the PIN from SEALPOST_PIN. Nothing from the caller's own Sealpost environment
 * leaks in (profile, server key).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/sealpost.js');
/** The built key service command (`npm run server -- ...` without the build step). */
export const SERVER_CLI = path.join(ROOT, 'dist/server/cli.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Fails the suite early with the fix when dist/ was not built. */
export function requireBuiltCli(): void {
  if (!existsSync(path.join(ROOT, 'dist/electron/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build:node` first');
}

/** The environment a test run of the CLI gets: the test knobs, then `extra`. */
export function cliEnv(pin: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SEALPOST_KEYCHAIN: 'file', SEALPOST_INSECURE_TEST_KDF: '1', SEALPOST_PIN: pin };
  delete env.SEALPOST_PROFILE;
  delete env.SEALPOST_SERVER_KEY;
  return { ...env, ...extra };
}

/**
 * Runs a Node script as a child process and collects its exit code and output.
 * With `input` its stdin is a pipe given that text then closed; without, stdin is ignored.
 */
export function runNode(script: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: options.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export interface Cli {
  profile(who: string): string;
  /** Runs `sealpost --profile <work>/<who> ...args`; `input` goes to stdin. */
  run(who: string, args: string[], env?: Record<string, string>, input?: string): Promise<CliRun>;
  /** The same, and the run must exit 0 (the assertion names the command and its stderr). */
  ok(who: string, args: string[], env?: Record<string, string>, input?: string): Promise<CliRun>;
  /** `--json` output's value of a run that must succeed. */
  json<T>(who: string, args: string[], env?: Record<string, string>): Promise<T>;
}

export function cliFor(work: string, options: { pin: string; env?: Record<string, string> }): Cli {
  const profile = (who: string) => path.join(work, who);
  const run = (who: string, args: string[], env: Record<string, string> = {}, input = ''): Promise<CliRun> =>
    runNode(BIN, ['--profile', profile(who), ...args], { env: cliEnv(options.pin, { ...options.env, ...env }), input });
  const ok = async (who: string, args: string[], env?: Record<string, string>, input?: string): Promise<CliRun> => {
    const r = await run(who, args, env, input);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  const json = async <T>(who: string, args: string[], env?: Record<string, string>): Promise<T> => (JSON.parse((await ok(who, ['--json', ...args], env)).stdout) as { value: T }).value;
  return { profile, run, ok, json };
}
