#!/usr/bin/env node
// npm run test:hostile [-- --runs N] [-- --seed S]: the hostile-input sweep of
// issue 18 (key-service routes on SQLite and PostgreSQL, body parsers, engine
// openers, bridge and dispatch). --runs N sets HOSTILE_RUNS (cases per route and
// credential kind, mutations per format, inputs per channel); with it and no
// --seed the seed is random and printed, so a failure can be replayed with --seed.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const env = { ...process.env };
const rest = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') env.HOSTILE_RUNS = args[++i];
  else if (args[i] === '--seed') env.HOSTILE_SEED = args[++i];
  else rest.push(args[i]);
}
for (const [name, value] of [['--runs', env.HOSTILE_RUNS], ['--seed', env.HOSTILE_SEED]]) {
  if (value !== undefined && !/^\d+$/.test(value)) {
    console.error(`${name} takes a whole number`);
    process.exit(2);
  }
}
const files = [
  'test/integration/server/hostile.test.ts',
  'test/integration/server/hostile-postgres.test.ts',
  'test/integration/server/parsers.security.test.ts',
  'test/unit/hostile/openers-fuzz.test.ts',
  'test/integration/hostile/bridge-dispatch.test.ts',
];
const r = spawnSync('npx', ['vitest', 'run', ...files, ...rest], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
