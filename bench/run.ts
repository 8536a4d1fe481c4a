/**
 * `npm run bench`: the engine's benchmarks in one run, merged into
 * bench/results.json (entries other runs wrote, e.g. bench:server's, are kept).
 *   seal_1mib_text, open_10k_small  bench/seal-open.ts (native and pure-JS references)
 *   unlock                          bench/unlock.ts (PIN -> unlocked beside the KDF alone)
 *   sync_10k                        bench/sync.ts when present (issue 4: loopback key service)
 *   grant_100                       bench/grant.ts (issue 6: share with 100, revoke one, re-encryption cost)
 *   ui_10k                          bench/ui.ts (issue 15: the UI in Chromium with 10,000 messages in one conversation)
 * Each entry: {"value", "unit", <reference figures>, "vs_<reference>": value/reference}.
 */
import { existsSync } from 'node:fs';
import { benchSealOpen } from './seal-open.js';
import { benchUnlock } from './unlock.js';
import { benchGrant } from './grant.js';
import { benchUi } from './ui.js';
import { mergeResults, resultsPath, type BenchEntry } from './results.js';

type Bench = () => Promise<Record<string, BenchEntry>>;

async function optional(module: string, name: string): Promise<Bench | null> {
  const url = new URL(module, import.meta.url);
  if (!existsSync(url)) return null;
  const loaded = (await import(url.href)) as Record<string, unknown>;
  return typeof loaded[name] === 'function' ? (loaded[name] as Bench) : null;
}

const only = new Set(process.argv.slice(2));
const benches: [string, Bench | null][] = [
  ['seal-open', benchSealOpen],
  ['unlock', benchUnlock],
  ['sync', await optional('./sync.js', 'benchSync')],
  ['grant', benchGrant],
  ['ui', benchUi],
];

for (const [name, bench] of benches) {
  if (!bench || (only.size && !only.has(name))) continue;
  process.stderr.write(`bench: ${name}...\n`);
  const entries = await bench();
  mergeResults(entries);
  for (const [key, entry] of Object.entries(entries)) {
    const refs = Object.entries(entry).filter(([k]) => k.startsWith('vs_')).map(([k, v]) => `${k}=${String(v)}`);
    console.log(`${key.padEnd(16)} ${String(entry.value).padStart(10)} ${entry.unit}  ${refs.join(' ')}`);
  }
}
console.log(`results: ${resultsPath}`);
