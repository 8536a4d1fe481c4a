import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One benchmark entry: `value` in `unit`, plus the reference figures it is compared with. */
export interface BenchEntry {
  value: number;
  unit: string;
  [extra: string]: number | string | boolean | null;
}

/** bench/results.json in the source tree (also when running from dist/bench). */
export const resultsPath = fileURLToPath(
  new URL(import.meta.url.includes('/dist/bench/') ? '../../bench/results.json' : './results.json', import.meta.url),
);

/**
 * Merges entries into bench/results.json, keeping entries other runs wrote
 * (bench and bench:server write different keys). Written atomically.
 */
export function mergeResults(entries: Record<string, BenchEntry>, path = resultsPath): void {
  let current: Record<string, unknown> = {};
  try {
    current = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    current = {};
  }
  const next = { ...current, ...entries, _updated: new Date().toISOString() };
  writeFileSync(`${path}.tmp`, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** Rounds for the results file: 3 significant decimals is plenty. */
export const round = (n: number, digits = 3): number => Number(n.toFixed(digits));
