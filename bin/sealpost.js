#!/usr/bin/env node
// The `sealpost` command runs from the built engine (npm run build).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/electron/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('sealpost: the engine is not built yet. Run `npm run build` in the Sealpost folder first.');
  process.exit(1);
}
await import(entry.href);
