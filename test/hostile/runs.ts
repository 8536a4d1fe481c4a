/**
 * How much the hostile-input tests generate. CI: a fixed seed and the default
 * counts, so a failure reproduces. `npm run test:hostile -- --runs N` sets
 * HOSTILE_RUNS=N (scripts/test-hostile.mjs): every count is scaled to N per
 * property, and HOSTILE_SEED (or a random seed, printed) varies the input.
 */
const runs = Number(process.env.HOSTILE_RUNS ?? '');
const seed = Number(process.env.HOSTILE_SEED ?? '');

/** The seed for fast-check: HOSTILE_SEED, else fixed (CI), else random when a larger run was asked for. */
export const HOSTILE_SEED: number = Number.isInteger(seed) && process.env.HOSTILE_SEED ? seed : Number.isInteger(runs) && runs > 0 ? (Date.now() % 2 ** 31) : 18_2024;

/** The number of runs for a property: `ciRuns` by default, HOSTILE_RUNS when given. */
export function hostileRuns(ciRuns: number): number {
  return Number.isInteger(runs) && runs > 0 ? runs : ciRuns;
}

if (Number.isInteger(runs) && runs > 0) console.log(`hostile sweep: ${runs} runs per property, seed ${HOSTILE_SEED}`);
